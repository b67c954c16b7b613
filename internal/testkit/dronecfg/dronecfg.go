// Package dronecfg is TEST SUPPORT code: it reads cc-ci's .drone.yml and works out the container
// Drone's docker runner (drone-runner-docker) would start for a pipeline step, so that tests can
// check the file's contract and start the plugin image exactly that way. Drone itself cannot run
// here; this is a FAKE of the parts of it cc-ci relies on, and each behaviour cites the source it
// imitates. What it does not imitate (secrets, YAML substitution, services, the clone step) it
// refuses, so a .drone.yml that starts using one fails the tests instead of being half-read.
//
// Sources (github.com, read 2026):
//   - drone/runner-go manifest/parse.go: documents split on lines starting with "---"
//   - drone-runners/drone-runner-docker engine/resource/pipeline.go: the docker pipeline schema
//   - drone-runners/drone-runner-docker engine/compiler/compiler.go and step.go: the step's
//     environment, settings as PLUGIN_*, volumes, workspace
//   - drone-runners/drone-runner-docker engine/linter/linter.go: what needs a trusted repo
//   - drone-runners/drone-runner-docker engine/convert.go: the container's create options
//   - drone/runner-go environ/environ.go, clone/environ.go, pipeline/runtime/execer.go: Drone's
//     own variables
package dronecfg

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// File is a parsed .drone.yml: its pipelines, in file order.
type File struct {
	Path      string
	Pipelines []*Pipeline
	// Comments are the file's comment lines, without "#" (the repo's operator notes, e.g. the
	// build timeout Drone reads from the repo's settings, not from this file).
	Comments []string
}

// Pipeline is one `kind: pipeline` document.
type Pipeline struct {
	Kind        string            `yaml:"kind"`
	Type        string            `yaml:"type"`
	Name        string            `yaml:"name"`
	Platform    Platform          `yaml:"platform"`
	Trigger     Trigger           `yaml:"trigger"`
	Clone       Clone             `yaml:"clone"`
	Environment map[string]string `yaml:"environment"`
	Steps       []*Step           `yaml:"steps"`
	Volumes     []*Volume         `yaml:"volumes"`
	Workspace   Workspace         `yaml:"workspace"`
	Node        map[string]string `yaml:"node"`
	DependsOn   []string          `yaml:"depends_on"`
}

// Platform is the pipeline's target platform.
type Platform struct {
	OS   string `yaml:"os"`
	Arch string `yaml:"arch"`
}

// Trigger holds the conditions on which Drone creates the pipeline.
type Trigger struct {
	Event  Condition `yaml:"event"`
	Branch Condition `yaml:"branch"`
}

// Condition is a trigger condition: a value, a list, or {include, exclude}.
type Condition struct {
	Include []string
	Exclude []string
}

// UnmarshalYAML accepts `event: push`, `event: [push, tag]` and `event: {include: [...]}`.
func (c *Condition) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		c.Include = []string{n.Value}
		return nil
	case yaml.SequenceNode:
		return n.Decode(&c.Include)
	}
	var m struct {
		Include []string `yaml:"include"`
		Exclude []string `yaml:"exclude"`
	}
	if err := n.Decode(&m); err != nil {
		return err
	}
	c.Include, c.Exclude = m.Include, m.Exclude
	return nil
}

// Clone configures the automatic clone step.
type Clone struct {
	Disable bool `yaml:"disable"`
	Depth   int  `yaml:"depth"`
}

// Workspace moves the workspace volume (default /drone/src).
type Workspace struct {
	Base string `yaml:"base"`
	Path string `yaml:"path"`
}

// Step is one pipeline step.
type Step struct {
	Name        string               `yaml:"name"`
	Image       string               `yaml:"image"`
	Pull        string               `yaml:"pull"`
	Commands    []string             `yaml:"commands"`
	Command     []string             `yaml:"command"`
	Entrypoint  []string             `yaml:"entrypoint"`
	Environment map[string]string    `yaml:"environment"`
	Settings    map[string]yaml.Node `yaml:"settings"`
	Volumes     []*VolumeMount       `yaml:"volumes"`
	NetworkMode string               `yaml:"network_mode"`
	Privileged  bool                 `yaml:"privileged"`
	User        string               `yaml:"user"`
	WorkingDir  string               `yaml:"working_dir"`
	DependsOn   []string             `yaml:"depends_on"`
	Failure     string               `yaml:"failure"`
}

// Volume is a pipeline volume: a host path or a temporary volume.
type Volume struct {
	Name string    `yaml:"name"`
	Host *HostPath `yaml:"host"`
	Temp *struct {
		Medium string `yaml:"medium"`
	} `yaml:"temp"`
}

// HostPath is a host volume's path on the runner's machine.
type HostPath struct {
	Path string `yaml:"path"`
}

// VolumeMount mounts a pipeline volume into a step.
type VolumeMount struct {
	Name string `yaml:"name"`
	Path string `yaml:"path"`
}

// substitution matches what Drone would substitute before parsing (runner-go
// pipeline/runtime/runner.go: envsubst.Eval over the whole file): $NAME or ${...}.
var substitution = regexp.MustCompile(`\$(\{|[A-Za-z_])`)

// Load reads and parses the .drone.yml at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.Path = path
	return f, nil
}

// Parse parses a .drone.yml. Keys Drone's docker pipeline schema does not have are errors here
// (Drone silently ignores them: a misspelt `setings:` would run the plugin with no settings).
func Parse(data []byte) (*File, error) {
	if m := substitution.Find(data); m != nil {
		return nil, fmt.Errorf("%q: Drone substitutes variables into the file before parsing it, which this emulation does not do", m)
	}
	f := &File{}
	docs, comments, err := split(data)
	if err != nil {
		return nil, err
	}
	f.Comments = comments
	for i, doc := range docs {
		var head struct {
			Kind string `yaml:"kind"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		if head.Kind != "pipeline" {
			return nil, fmt.Errorf("document %d: kind %q is not emulated (only pipeline)", i+1, head.Kind)
		}
		p := &Pipeline{}
		dec := yaml.NewDecoder(bytes.NewReader(doc))
		dec.KnownFields(true)
		if err := dec.Decode(p); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("pipeline %d: %w", i+1, err)
		}
		if err := lint(p); err != nil {
			return nil, fmt.Errorf("pipeline %q: %w", p.Name, err)
		}
		f.Pipelines = append(f.Pipelines, p)
	}
	return f, nil
}

// split cuts the file into documents at lines starting with "---" and stops at a line starting
// with "..." (runner-go manifest/parse.go ParseRaw); it also collects the comment lines.
func split(data []byte) ([][]byte, []string, error) {
	var docs [][]byte
	var comments []string
	var cur []byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "...") {
			break
		}
		if strings.HasPrefix(line, "---") {
			docs, cur = appendDoc(docs, cur), nil
			continue
		}
		if c, ok := strings.CutPrefix(strings.TrimSpace(line), "#"); ok {
			comments = append(comments, strings.TrimSpace(c))
		}
		cur = append(append(cur, line...), '\n')
	}
	return appendDoc(docs, cur), comments, sc.Err()
}

func appendDoc(docs [][]byte, doc []byte) [][]byte {
	if len(bytes.TrimSpace(stripComments(doc))) == 0 {
		return docs
	}
	return append(docs, doc)
}

func stripComments(doc []byte) []byte {
	var out []byte
	for line := range bytes.SplitSeq(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(append(out, line...), '\n')
		}
	}
	return out
}

// lint is drone-runner-docker's resource lint (engine/resource/parser.go): every step named,
// names unique and at most 100 characters.
func lint(p *Pipeline) error {
	seen := map[string]bool{}
	for _, s := range p.Steps {
		switch {
		case s.Name == "":
			return errors.New("invalid or missing step name")
		case len(s.Name) > 100:
			return errors.New("step name cannot exceed 100 characters")
		case seen[s.Name]:
			return fmt.Errorf("duplicate step name %q", s.Name)
		}
		seen[s.Name] = true
	}
	return nil
}

// Pipeline returns the pipeline called name.
func (f *File) Pipeline(name string) (*Pipeline, error) {
	for _, p := range f.Pipelines {
		if p.Name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%s has no pipeline %q", f.Path, name)
}

// Step returns the step called name.
func (p *Pipeline) Step(name string) (*Step, error) {
	for _, s := range p.Steps {
		if s.Name == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("pipeline %q has no step %q", p.Name, name)
}

// Volume returns the pipeline volume called name, or nil.
func (p *Pipeline) Volume(name string) *Volume {
	for _, v := range p.Volumes {
		if v.Name == name {
			return v
		}
	}
	return nil
}
