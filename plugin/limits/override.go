package limits

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"coopcloud.tech/cc-ci/internal/appconfig"
	"coopcloud.tech/cc-ci/internal/atomicfile"
)

// OverrideDir is the directory in the recipe checkout that holds the override. It ignores itself
// (a .gitignore of "*"), so git and abra see a clean checkout (see selfIgnore), and it is hidden
// from the recipe's own compose*.yml, which abra's lint and release tooling glob at the top.
const OverrideDir = ".cc-ci-limits"

// OverrideFile is the override as COMPOSE_FILE names it, relative to the recipe checkout.
const OverrideFile = OverrideDir + "/compose.limits.yml"

// overrideHeader opens the override, for whoever finds it in a checkout.
const overrideHeader = "Written by cc-ci for one CI run: the resource limits of every service (DESIGN.md 4.7).\n" +
	"Not part of the recipe; git-ignored; selected by COMPOSE_FILE in the app's .env."

// Applied says what Apply wrote.
type Applied struct {
	// File is the override's path.
	File string
	// Version is the compose file version the override declares, the recipe's ("" when the
	// recipe's files declare none): docker stack deploy, and abra with the same docker/cli
	// loader, refuse compose files of different versions.
	Version string
	// Pids is true when the override holds the pids limits. The compose schema has
	// deploy.resources.limits.pids only from version 3.9 on, so a recipe at 3.8 (most of them)
	// runs with memory and CPU limits only. The daemon enforces pids when it gets them (checked:
	// 20.10, API 1.41, pids.max of the task's cgroup).
	Pids bool
}

// Note is what the run's summary should say about the limits that could not be applied; "" when
// all were.
func (a Applied) Note() string {
	if a.Pids {
		return ""
	}
	return fmt.Sprintf("pids limits not applied: the recipe's compose files are version %s, and docker stack deploy "+
		"(and abra) take deploy.resources.limits.pids only from compose file version 3.9 on; memory and CPU limits apply", a.Version)
}

// Apply writes the override for plan into recipeDir and selects it, last, in the COMPOSE_FILE of
// the app's .env at envPath (compose.yml first when COMPOSE_FILE is unset, so abra's default is
// kept). The override's directory ignores itself, so abra's dirty-tree check (a chaos version
// with "+U") does not see it. Calling it again, for the next deploy, rewrites the file and leaves
// COMPOSE_FILE naming it once. It refuses a recipe that would drop or own the override: an
// abra.sh that exports COMPOSE_FILE (abra sets it over the .env's), or a recipe that has files
// of its own in OverrideDir.
func Apply(ctx context.Context, recipeDir, envPath string, plan []ServiceLimit) (Applied, error) {
	exports, err := appconfig.AbraShExports(filepath.Join(recipeDir, "abra.sh"))
	if err != nil {
		return Applied{}, fmt.Errorf("apply resource limits: %w", err)
	}
	if _, ok := exports["COMPOSE_FILE"]; ok {
		return Applied{}, errors.New("apply resource limits: the recipe's abra.sh exports COMPOSE_FILE, which abra sets over the app's .env " +
			"and which would drop the CI's resource limits: set COMPOSE_FILE in .env.sample instead")
	}
	content, perm, err := readEnv(envPath)
	if err != nil {
		return Applied{}, err
	}
	files, err := selected(content)
	if err != nil {
		return Applied{}, fmt.Errorf("apply resource limits: %s: %w", envPath, err)
	}
	version, err := composeVersion(recipeDir, files[0])
	if err != nil {
		return Applied{}, fmt.Errorf("apply resource limits: %w", err)
	}
	a := Applied{File: filepath.Join(recipeDir, OverrideFile), Pids: pidsSupported(version)}
	if version != nil {
		a.Version = version.Value
	}
	if err := guardCheckout(ctx, recipeDir); err != nil {
		return Applied{}, fmt.Errorf("apply resource limits: %w", err)
	}
	if err := selfIgnore(recipeDir); err != nil {
		return Applied{}, fmt.Errorf("apply resource limits: %w", err)
	}
	data, err := render(plan, version, a.Pids)
	if err != nil {
		return Applied{}, fmt.Errorf("apply resource limits: %w", err)
	}
	if err := atomicfile.Write(a.File, data, 0o644); err != nil {
		return Applied{}, fmt.Errorf("apply resource limits: %w", err)
	}
	if err := setComposeFile(envPath, content, perm, append(files, OverrideFile)); err != nil {
		return Applied{}, fmt.Errorf("apply resource limits: %w", err)
	}
	return a, nil
}

// Detach undoes Apply: COMPOSE_FILE no longer names the override, and the file is removed. Load
// the configuration of a changed checkout (the upgrade's head) after it, so Plan reads the
// recipe's own limits and the old override cannot name a service the new recipe no longer has.
func Detach(recipeDir, envPath string) error {
	content, perm, err := readEnv(envPath)
	if err != nil {
		return err
	}
	files, err := selected(content)
	if err != nil {
		return fmt.Errorf("detach resource limits: %s: %w", envPath, err)
	}
	if err := setComposeFile(envPath, content, perm, files); err != nil {
		return fmt.Errorf("detach resource limits: %w", err)
	}
	if err := os.Remove(filepath.Join(recipeDir, OverrideFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("detach resource limits: %w", err)
	}
	return nil
}

func readEnv(path string) (string, fs.FileMode, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", 0, fmt.Errorf("app env file: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", 0, fmt.Errorf("app env file: %w", err)
	}
	return string(data), st.Mode().Perm(), nil
}

// selected returns the compose files the env content selects, as abra reads them, less the
// override; compose.yml when that leaves none.
func selected(content string) ([]string, error) {
	env, err := appconfig.ParseEnv(content)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, f := range appconfig.ComposeFiles(env.Map()) {
		if f != OverrideFile {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		files = []string{appconfig.DefaultComposeFile}
	}
	return files, nil
}

// setComposeFile makes the env file at path select files, rewriting every COMPOSE_FILE assignment
// (a chained one included, which then holds the whole list), or adding one. Unchanged content is
// not rewritten.
func setComposeFile(path, content string, perm fs.FileMode, files []string) error {
	env, err := appconfig.ParseEnv(content)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	want := strings.Join(files, ":")
	if v, ok := env.Get("COMPOSE_FILE"); ok && v == want {
		return nil
	}
	out, err := appconfig.SetValue(content, "COMPOSE_FILE", want)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.Write(path, []byte(out), perm)
}

// composeVersion returns the `version:` node of file (relative to dir), nil when it has none.
// The file must lie inside dir: COMPOSE_FILE comes from the recipe.
func composeVersion(dir, file string) (*yaml.Node, error) {
	path, err := inside(dir, file)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("compose file %s: %w", file, err)
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("compose file %s: %w", file, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("compose file %s is not a YAML mapping", file)
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != "version" {
			continue
		}
		v := m.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("compose file %s: version is not a scalar", file)
		}
		// Keep tag and style: docker reads an unquoted 3.10 as the number 3.1, and the
		// override must read as the same version.
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: v.Tag, Value: v.Value, Style: v.Style}, nil
	}
	return nil, nil
}

// inside returns dir/file, refusing a file that resolves (symlinks followed) outside dir.
func inside(dir, file string) (string, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("recipe dir: %w", err)
	}
	path := filepath.Join(dir, file)
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("compose file %s: %w", file, err)
	}
	if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("compose file %s lies outside the recipe", file)
	}
	return path, nil
}

// pidsSupported reports whether a compose file of this version may carry limits.pids: from 3.9
// on (docker/cli cli/compose/schema/data/config_schema_v3.9.json has it, v3.8 does not), and with
// no version at all (docker then takes its newest schema). The version is read as docker reads
// it: the YAML value printed with %v, "3" meaning "3.0".
func pidsSupported(version *yaml.Node) bool {
	if version == nil {
		return true
	}
	var v any
	if err := version.Decode(&v); err != nil {
		return false
	}
	s := fmt.Sprintf("%v", v)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	major, minor, _ := strings.Cut(s, ".")
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(minor)
	return err1 == nil && err2 == nil && ma == 3 && mi >= 9
}

// render writes the override: version (when the recipe has one) and, per service, only
// deploy.resources.limits, which compose merges over the recipe's own.
func render(plan []ServiceLimit, version *yaml.Node, pids bool) ([]byte, error) {
	services := map[string]any{}
	for _, l := range plan {
		lim := map[string]any{"memory": formatMemory(l.Memory.Set), "cpus": FormatCPUs(l.NanoCPUs.Set)}
		if pids {
			lim["pids"] = l.Pids.Set
		}
		services[l.Service] = map[string]any{"deploy": map[string]any{"resources": map[string]any{"limits": lim}}}
	}
	var svcNode yaml.Node
	if err := svcNode.Encode(services); err != nil {
		return nil, fmt.Errorf("encode override: %w", err)
	}
	root := &yaml.Node{Kind: yaml.MappingNode}
	if version != nil {
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "version"}, version)
	}
	root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "services"}, &svcNode)
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: overrideHeader, Content: []*yaml.Node{root}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode override: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode override: %w", err)
	}
	return buf.Bytes(), nil
}

// formatMemory writes bytes as compose reads them (units.RAMInBytes: M is MiB), exactly.
func formatMemory(n int64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + "M"
	}
	return strconv.FormatInt(n, 10)
}
