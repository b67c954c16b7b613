// Package enroll reads the enrolment file: which forge repositories cc-ci serves, and the recipe
// each one is. Only enrolled repos get runs; the file is read strictly, because a typo that
// silently drops a key would silently drop a repo.
//
// The file is YAML, a map of forge name to a list of entries:
//
//	github:
//	  - repo: coop-cloud/gitea
//	    recipe: gitea
//	gitea: # Gitea and Forgejo
//	  - repo: coop-cloud/traefik
//	    recipe: traefik
package enroll

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"coopcloud.tech/cc-ci/bridge/event"
	"coopcloud.tech/cc-ci/internal/suggest"
)

// MaxFileSize caps the file read: a real enrolment of every Co-op Cloud recipe is a few KiB.
const MaxFileSize = 1 << 20

var (
	// forges are the top-level keys, in the order suggestions prefer them.
	forges = []string{event.GitHub, event.Gitea}
	// entryKeys are the keys of one entry.
	entryKeys = []string{"repo", "recipe"}
	// repoName is a forge "owner/name" as GitHub and Gitea allow them: letters, digits, '-', '_'
	// and '.', the owner starting with a letter or digit.
	repoName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}/[A-Za-z0-9._-]{1,100}$`)
	// recipeName is a Co-op Cloud recipe name: lower-case letters, digits and '-'.
	recipeName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
)

// Enrolment is a loaded enrolment file. It is read-only after Parse, so safe for concurrent use.
type Enrolment struct {
	recipes map[string]map[string]string // forge -> lower-cased repo -> recipe
	repos   map[string][]string          // forge -> repos as written, in file order
}

// Load reads and parses the enrolment file at path.
func Load(path string) (*Enrolment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("enrolment file: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only: a close error loses nothing
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("enrolment file %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse parses an enrolment file's bytes; name is the file name errors cite.
func Parse(name string, data []byte) (*Enrolment, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, MaxFileSize)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty enrolment file", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: more than one YAML document", name)
	}
	p := parser{name: name, e: &Enrolment{recipes: map[string]map[string]string{}, repos: map[string][]string{}}}
	if err := p.document(&doc); err != nil {
		return nil, err
	}
	return p.e, nil
}

// Lookup returns the recipe of repo ("owner/name") on forge. Repo names are matched without
// regard to case, as both forges treat them.
func (e *Enrolment) Lookup(forge, repo string) (recipe string, ok bool) {
	recipe, ok = e.recipes[forge][strings.ToLower(repo)]
	return recipe, ok
}

// Enrolled reports whether repo on forge is enrolled (intake.Config.Enrolled).
func (e *Enrolment) Enrolled(forge, repo string) bool {
	_, ok := e.Lookup(forge, repo)
	return ok
}

// Repos returns forge's enrolled repos as the file spells them, in file order (the poll walks
// them).
func (e *Enrolment) Repos(forge string) []string {
	return slices.Clone(e.repos[forge])
}

// parser walks the YAML tree by hand rather than decoding into structs: that is how every error
// can name the file, the line, the offending key and the key that was probably meant.
type parser struct {
	name string
	e    *Enrolment
}

func (p parser) errorf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.name, n.Line, fmt.Sprintf(format, args...))
}

func (p parser) document(doc *yaml.Node) error {
	if len(doc.Content) == 0 {
		return fmt.Errorf("%s: empty enrolment file", p.name)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return p.errorf(root, "the file must be a map of forge (%s) to a list of repos", strings.Join(forges, ", "))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		if err := p.key(key, forges, seen); err != nil {
			return err
		}
		if err := p.forge(key.Value, val); err != nil {
			return err
		}
	}
	return nil
}

// key checks one mapping key: a plain string, one of valid, not seen before in its map.
func (p parser) key(key *yaml.Node, valid []string, seen map[string]int) error {
	if key.Kind != yaml.ScalarNode || key.ShortTag() != "!!str" {
		return p.errorf(key, "keys must be plain strings, one of %s", strings.Join(valid, ", "))
	}
	if !slices.Contains(valid, key.Value) {
		// Keys are lower case, so a key typed in another case is matched as lower case.
		hint := fmt.Sprintf("did you mean %q?", suggest.Nearest(strings.ToLower(key.Value), valid))
		if strings.EqualFold(key.Value, "forgejo") {
			hint = `Forgejo repos go under "gitea"`
		}
		return p.errorf(key, "unknown key %q (%s)", key.Value, hint)
	}
	if line, dup := seen[key.Value]; dup {
		return p.errorf(key, "key %q repeats the one on line %d", key.Value, line)
	}
	seen[key.Value] = key.Line
	return nil
}

func (p parser) forge(forge string, list *yaml.Node) error {
	if list.Kind == yaml.ScalarNode && list.ShortTag() == "!!null" {
		return nil // "github:" with nothing under it: no repos yet
	}
	if list.Kind != yaml.SequenceNode {
		return p.errorf(list, "%s: expected a list of {repo, recipe} entries", forge)
	}
	firstLine := map[string]int{}
	for _, item := range list.Content {
		repo, recipe, err := p.entry(forge, item)
		if err != nil {
			return err
		}
		lower := strings.ToLower(repo.Value)
		if line, dup := firstLine[lower]; dup {
			return p.errorf(repo, "%s repo %s is already enrolled on line %d", forge, repo.Value, line)
		}
		firstLine[lower] = repo.Line
		if p.e.recipes[forge] == nil {
			p.e.recipes[forge] = map[string]string{}
		}
		p.e.recipes[forge][lower] = recipe.Value
		p.e.repos[forge] = append(p.e.repos[forge], repo.Value)
	}
	return nil
}

// entry checks one {repo, recipe} entry and returns its two value nodes.
func (p parser) entry(forge string, item *yaml.Node) (repo, recipe *yaml.Node, err error) {
	if item.Kind != yaml.MappingNode {
		return nil, nil, p.errorf(item, "%s: each entry must be a map with repo and recipe", forge)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(item.Content); i += 2 {
		key, val := item.Content[i], item.Content[i+1]
		if err := p.key(key, entryKeys, seen); err != nil {
			return nil, nil, err
		}
		if val.Kind != yaml.ScalarNode || val.ShortTag() != "!!str" {
			return nil, nil, p.errorf(val, "%s must be a string (quote it)", key.Value)
		}
		switch key.Value {
		case "repo":
			if !repoName.MatchString(val.Value) || dotName(val.Value) {
				return nil, nil, p.errorf(val, "repo %q is not owner/name", val.Value)
			}
			repo = val
		case "recipe":
			if !recipeName.MatchString(val.Value) {
				return nil, nil, p.errorf(val, "recipe %q must be lower-case letters, digits and '-'", val.Value)
			}
			recipe = val
		}
	}
	if repo == nil {
		return nil, nil, p.errorf(item, "%s: entry without repo", forge)
	}
	if recipe == nil {
		return nil, nil, p.errorf(item, "%s: entry for %s without recipe", forge, repo.Value)
	}
	return repo, recipe, nil
}

// dotName rejects "." and ".." as a repo name: no forge allows them, and they read as paths.
func dotName(repo string) bool {
	name := repo[strings.IndexByte(repo, '/')+1:]
	return name == "." || name == ".."
}
