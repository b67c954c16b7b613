package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"coopcloud.tech/cc-ci/internal/suggest"
)

// AllowFile is the allowances file's name in the recipes directory (recipes/ in this repo,
// CCCI_OVERLAYS_DIR on the CI host).
const AllowFile = "policy-allowances.yml"

// Allowance lets one construct through for one recipe: every service of it, or only Service;
// any path, or only Source. It is reviewed in this repo and never comes from a pull request.
type Allowance struct {
	Recipe    string
	Construct string
	// Service limits the allowance to one service (or compose job) name; empty: any service.
	Service string
	// Source limits a docker-socket, host-path or host-file allowance to one host path, as the
	// refusal shows it (an absolute path, or "./x" inside the recipe); empty: any path.
	Source string
	// Reason says why the recipe needs it; required.
	Reason string
	// Line is where the allowance starts in the file.
	Line int
}

// Allowances are the allowances of the file, by recipe. The zero value allows nothing.
type Allowances struct {
	byRecipe map[string][]Allowance
}

// For returns recipe's allowances in file order, for the run to print what is in effect.
func (a Allowances) For(recipe string) []Allowance {
	return slices.Clone(a.byRecipe[recipe])
}

// match returns the first allowance of recipe that covers f, or nil.
func (a Allowances) match(recipe string, f Finding) *Allowance {
	for _, al := range a.byRecipe[recipe] {
		if al.Construct == f.Construct && (al.Service == "" || al.Service == f.Service) &&
			(al.Source == "" || al.Source == f.Source) {
			return &al
		}
	}
	return nil
}

// allowanceKeys are the keys of one allowance.
var allowanceKeys = []string{"construct", "service", "source", "reason"}

// pathConstructs are the constructs an allowance may narrow to one Source.
var pathConstructs = []string{DockerSocket, HostPath, HostFile}

var (
	// recipeName is a Co-op Cloud recipe name, as the bridge's enrolment file reads it.
	recipeName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	// serviceName is what compose-go accepts as a service name (compose-spec.json, services).
	serviceName = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)
)

// LoadAllowances reads the allowances file at path. A missing file allows nothing. The file is
// strict: an unknown key, an unknown construct, a missing reason, an alias, a duplicate recipe or
// allowance is an error naming the file, the line and, for a misspelling, the nearest valid word.
func LoadAllowances(path string) (Allowances, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Allowances{}, nil
	}
	if err != nil {
		return Allowances{}, fmt.Errorf("policy allowances: %w", err)
	}
	a, err := parseAllowances(data)
	if err != nil {
		return Allowances{}, fmt.Errorf("policy allowances %s: %w", path, err)
	}
	return a, nil
}

func parseAllowances(data []byte) (Allowances, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return Allowances{}, nil
	} else if err != nil {
		return Allowances{}, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return Allowances{}, fmt.Errorf("line %d: one YAML document only", extra.Line)
	} else if !errors.Is(err, io.EOF) {
		return Allowances{}, err
	}
	if len(doc.Content) == 0 {
		return Allowances{}, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return Allowances{}, nil
	}
	if root.Kind != yaml.MappingNode {
		return Allowances{}, fmt.Errorf("line %d: the file maps a recipe name to its list of allowances, e.g. `traefik: [{construct: docker-socket, service: app, reason: ...}]`", root.Line)
	}
	out := Allowances{byRecipe: map[string][]Allowance{}}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if err := noAlias(k, v); err != nil {
			return Allowances{}, err
		}
		recipe := k.Value
		if k.Kind != yaml.ScalarNode || !recipeName.MatchString(recipe) {
			return Allowances{}, fmt.Errorf("line %d: %q is not a recipe name (lower-case letters, digits and -)", k.Line, recipe)
		}
		if _, dup := out.byRecipe[recipe]; dup {
			return Allowances{}, fmt.Errorf("line %d: recipe %s is listed twice: keep its allowances in one list", k.Line, recipe)
		}
		list, err := parseList(recipe, v)
		if err != nil {
			return Allowances{}, err
		}
		out.byRecipe[recipe] = list
	}
	return out, nil
}

func parseList(recipe string, n *yaml.Node) ([]Allowance, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("line %d: %s: a list of allowances, e.g. `- {construct: docker-socket, reason: ...}`", n.Line, recipe)
	}
	list := []Allowance{}
	for _, item := range n.Content {
		a, err := parseAllowance(recipe, item)
		if err != nil {
			return nil, err
		}
		for _, b := range list {
			if b.Construct == a.Construct && b.Service == a.Service && b.Source == a.Source {
				return nil, fmt.Errorf("line %d: %s: the same allowance as line %d", a.Line, recipe, b.Line)
			}
		}
		list = append(list, a)
	}
	return list, nil
}

func parseAllowance(recipe string, n *yaml.Node) (Allowance, error) {
	if err := noAlias(n); err != nil {
		return Allowance{}, err
	}
	if n.Kind != yaml.MappingNode {
		return Allowance{}, fmt.Errorf("line %d: %s: an allowance is a mapping of %s", n.Line, recipe, strings.Join(allowanceKeys, ", "))
	}
	a := Allowance{Recipe: recipe, Line: n.Line}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := noAlias(k, v); err != nil {
			return Allowance{}, err
		}
		if !slices.Contains(allowanceKeys, k.Value) {
			return Allowance{}, fmt.Errorf("line %d: %s: unknown key %q: did you mean %q? (valid: %s)",
				k.Line, recipe, k.Value, suggest.Nearest(k.Value, slices.Sorted(slices.Values(allowanceKeys))), strings.Join(allowanceKeys, ", "))
		}
		if seen[k.Value] {
			return Allowance{}, fmt.Errorf("line %d: %s: %s is given twice", k.Line, recipe, k.Value)
		}
		seen[k.Value] = true
		if v.Kind != yaml.ScalarNode {
			return Allowance{}, fmt.Errorf("line %d: %s: %s takes one value", v.Line, recipe, k.Value)
		}
		val := strings.TrimSpace(v.Value)
		if v.Tag == "!!null" {
			val = ""
		}
		switch k.Value {
		case "construct":
			a.Construct = val
		case "service":
			a.Service = val
		case "source":
			a.Source = val
		case "reason":
			a.Reason = val
		}
	}
	return a, a.validate()
}

func (a *Allowance) validate() error {
	at := fmt.Sprintf("line %d: %s", a.Line, a.Recipe)
	switch {
	case a.Construct == "":
		return fmt.Errorf("%s: construct is required (one of %s)", at, strings.Join(Constructs, ", "))
	case !slices.Contains(Constructs, a.Construct):
		return fmt.Errorf("%s: unknown construct %q: did you mean %q? (valid: %s)",
			at, a.Construct, suggest.Nearest(a.Construct, Constructs), strings.Join(Constructs, ", "))
	case a.Reason == "":
		return fmt.Errorf("%s: construct %s: reason is required: say why the recipe needs it, for the next reviewer", at, a.Construct)
	case strings.IndexFunc(a.Reason, notPlain) >= 0:
		return fmt.Errorf("%s: construct %s: the reason is one line of plain text (no control or format characters)", at, a.Construct)
	case a.Service != "" && !serviceName.MatchString(a.Service):
		return fmt.Errorf("%s: %q is not a compose service name", at, a.Service)
	}
	if a.Source == "" {
		return nil
	}
	if !slices.Contains(pathConstructs, a.Construct) {
		return fmt.Errorf("%s: source narrows only a %s allowance, not %s", at, strings.Join(pathConstructs, ", "), a.Construct)
	}
	switch {
	case filepath.IsAbs(a.Source):
		a.Source = filepath.Clean(a.Source)
	case strings.HasPrefix(a.Source, "./"):
		rel := filepath.Clean(a.Source)
		if rel == ".." || strings.HasPrefix(rel, "../") {
			return fmt.Errorf("%s: source %q leaves the recipe: write the absolute host path", at, a.Source)
		}
		a.Source = "./" + rel
		if rel == "." {
			a.Source = "." // the recipe dir itself, as a refusal shows it
		}
	default:
		return fmt.Errorf("%s: source %q is an absolute host path or ./path inside the recipe", at, a.Source)
	}
	return nil
}

// noAlias refuses YAML aliases and merge keys: an allowance is reviewed as written.
func noAlias(nodes ...*yaml.Node) error {
	for _, n := range nodes {
		if n.Kind == yaml.AliasNode || n.Anchor != "" || n.Tag == "!!merge" {
			return fmt.Errorf("line %d: anchors, aliases and merge keys are not allowed: write each allowance out, as it is reviewed", n.Line)
		}
	}
	return nil
}

// notPlain is a control character (a newline, an escape) or a format character (a bidi
// override), which would let a reason show something other than what was reviewed.
func notPlain(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}
