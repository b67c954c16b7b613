// Package overlay loads a recipe's test overlay, recipes/<recipe>/ in this repo: what a
// maintainer tells cc-ci about the recipe beyond what the recipe's own files say. An overlay
// adds; it never silently removes a generic check (DESIGN.md 5).
//
// The config file is strict: an unknown or misspelt key is an error naming the key, the file and
// the nearest valid key, because a typo that is silently ignored would change a verdict.
package overlay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"coopcloud.tech/cc-ci/internal/suggest"
)

// FileName is the overlay's config file inside recipes/<recipe>/.
const FileName = "cc-ci.yml"

// Tiers a maintainer may declare not applicable. Install can never be: nothing is proven without it.
var declarableTiers = []string{"upgrade", "backup", "restore"}

// NA is one tier a maintainer declared not applicable, with the reason shown to everyone.
type NA struct {
	Tier   string `yaml:"tier"`
	Reason string `yaml:"reason"`
}

// Config is the overlay's config file.
type Config struct {
	// ExpectedNA lists tiers that cannot apply to this recipe (a stateless app has no backups):
	// the only kind of skip that holds a rung.
	ExpectedNA []NA `yaml:"expected_na"`
	// RedirectHosts are hosts an off-host redirect of the app's page may go to (single sign-on).
	RedirectHosts []string `yaml:"redirect_hosts"`
}

// Overlay is a loaded overlay. The zero value is "no overlay": the generic ladder.
type Overlay struct {
	Dir    string // recipes/<recipe>/, "" when there is none
	File   string // the config file, "" when the overlay has none
	Config Config
}

// Load reads recipes/<recipe>/ under root. A missing overlay (or root "") is the zero Overlay and
// no error; a config file that does not parse or names an unknown key is an error.
func Load(root, recipe string) (Overlay, error) {
	if root == "" {
		return Overlay{}, nil
	}
	dir := filepath.Join(root, recipe)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return Overlay{}, nil
	}
	o := Overlay{Dir: dir}
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return o, nil
	}
	if err != nil {
		return Overlay{}, fmt.Errorf("overlay %s: %w", path, err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return Overlay{}, fmt.Errorf("overlay %s: %w", path, err)
	}
	o.File, o.Config = path, cfg
	return o, nil
}

// Parse parses and validates an overlay config.
func Parse(data []byte) (Config, error) {
	var raw yaml.Node
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return Config{}, fmt.Errorf("does not parse as YAML: %w", err)
	}
	if err := checkKeys(&raw); err != nil {
		return Config{}, err
	}
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("does not parse: %w", err)
	}
	return cfg, cfg.validate()
}

func (c Config) validate() error {
	seen := map[string]bool{}
	for i, na := range c.ExpectedNA {
		if !slices.Contains(declarableTiers, na.Tier) {
			return fmt.Errorf("expected_na[%d]: tier %q cannot be declared not applicable: use one of %s", i, na.Tier, strings.Join(declarableTiers, ", "))
		}
		if strings.TrimSpace(na.Reason) == "" {
			return fmt.Errorf("expected_na[%d] (%s): a reason is required: say why the tier cannot apply to this recipe", i, na.Tier)
		}
		if seen[na.Tier] {
			return fmt.Errorf("expected_na: tier %s is listed twice", na.Tier)
		}
		seen[na.Tier] = true
	}
	for i, h := range c.RedirectHosts {
		if h == "" || strings.ContainsAny(h, "/: ") {
			return fmt.Errorf("redirect_hosts[%d]: %q is not a host name (write sso.example.org, no scheme or path)", i, h)
		}
	}
	return nil
}

// NotApplicable returns the declared reason for tier, or "" when it was not declared.
func (o Overlay) NotApplicable(tier string) string {
	for _, na := range o.Config.ExpectedNA {
		if na.Tier == tier {
			return na.Reason
		}
	}
	return ""
}

// RedirectAllowed reports whether an off-host redirect to host is the app's own answer.
func (o Overlay) RedirectAllowed(host string) bool {
	for _, h := range o.Config.RedirectHosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// keys lists the valid keys at each level of the config, for the unknown-key check.
var keys = map[string][]string{
	"":            {"expected_na", "redirect_hosts"},
	"expected_na": {"tier", "reason"},
}

// checkKeys walks the document and refuses the first unknown key, naming the nearest valid one.
func checkKeys(doc *yaml.Node) error {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil // an empty file is an empty overlay
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: the overlay must be a mapping of keys (%s)", root.Line, strings.Join(keys[""], ", "))
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if err := known("", k); err != nil {
			return err
		}
		if _, ok := keys[k.Value]; ok && v.Kind == yaml.SequenceNode {
			for _, item := range v.Content {
				if item.Kind != yaml.MappingNode {
					continue
				}
				for j := 0; j+1 < len(item.Content); j += 2 {
					if err := known(k.Value, item.Content[j]); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func known(parent string, k *yaml.Node) error {
	valid := keys[parent]
	if slices.Contains(valid, k.Value) {
		return nil
	}
	where := "key"
	if parent != "" {
		where = parent + " key"
	}
	// Sorted, so that of equally near keys the alphabetically first is named, whatever the order
	// of keys' lists.
	near := suggest.Nearest(k.Value, slices.Sorted(slices.Values(valid)))
	return fmt.Errorf("line %d: unknown %s %q: did you mean %q? (valid: %s)", k.Line, where, k.Value, near, strings.Join(valid, ", "))
}
