// Package overlay loads a recipe's test overlay: what a maintainer tells cc-ci about the recipe
// beyond what the recipe's own files say (DESIGN.md 5). An overlay adds; it never silently
// removes a generic check.
//
// Precedence: the recipe repo's own overlay (RepoDirName, used only for recipes on the operator's
// allow-list, because it is PR-authored code) > recipes/<recipe>/ in this repo > the generic
// ladder. The config file is strict: an unknown or misspelt key is an error naming the key, the
// file and the nearest valid key, because a typo that is silently ignored would change a verdict.
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
)

// FileName is the overlay's config file inside recipes/<recipe>/ (and inside RepoDirName).
const FileName = "cc-ci.yml"

// RepoDirName is where a recipe repo keeps its own overlay.
const RepoDirName = ".cc-ci"

// AllowFile, in the overlays root (recipes/ of this repo), lists the recipes whose own overlay
// (RepoDirName) may be used: `recipes: [name, ...]`. No file allows none.
const AllowFile = "repo-overlays.yml"

// InstallSteps is the optional script run after `abra app new` and the env edits, before the
// deploy, for each app.
const InstallSteps = "install_steps.sh"

// Where an overlay came from.
const (
	SourceRepo  = "recipe repo"
	SourceLocal = "cc-ci repo"
)

// Overlay is a loaded overlay. The zero value is "no overlay": the generic ladder.
type Overlay struct {
	Source string // SourceRepo, SourceLocal, or "" (generic)
	Dir    string // the overlay's directory, "" when there is none
	File   string // the config file, "" when the overlay has none
	Config Config
	// Notes say what the loader decided and why (a repo overlay ignored, one overlay shadowing
	// another), for the run's log.
	Notes []string
}

// Options say where to look for a recipe's overlays.
type Options struct {
	// Root is recipes/ of this repo on the CI host (CCCI_OVERLAYS_DIR); "" means none.
	Root   string
	Recipe string
	// Checkout is the recipe checkout at the PR head, where RepoDirName may be; "" means none.
	Checkout string
	// CopyTo is where an allowed repo overlay is copied before use (in the run dir), so the
	// recipe checkout can move between refs without changing the overlay under the run.
	CopyTo string
}

// Resolve finds the overlay in effect. Only the winner is used, whole: overlays do not merge,
// so what a run did can be read from one file. Notes record every overlay passed over and why.
func Resolve(o Options) (Overlay, error) {
	var notes []string
	local := ""
	if o.Root != "" {
		if st, err := os.Stat(filepath.Join(o.Root, o.Recipe)); err == nil && st.IsDir() {
			local = filepath.Join(o.Root, o.Recipe)
		}
	}
	if o.Checkout != "" {
		repo := filepath.Join(o.Checkout, RepoDirName)
		if st, err := os.Lstat(repo); err == nil && st.IsDir() {
			allowed, err := Allowed(o.Root, o.Recipe)
			if err != nil {
				return Overlay{}, err
			}
			if allowed {
				ov, err := loadRepo(repo, o.CopyTo)
				if err != nil {
					return Overlay{}, err
				}
				if local != "" {
					ov.Notes = append(ov.Notes, fmt.Sprintf("%s is not used: the recipe repo's own overlay takes precedence", local))
				}
				return ov, nil
			}
			notes = append(notes, fmt.Sprintf("the recipe repo's overlay %s/ is ignored: %s is not on the allow-list %s (a repo overlay is PR-authored code that would run on the CI host; an operator lists the recipe there after review)",
				RepoDirName, o.Recipe, filepath.Join(o.Root, AllowFile)))
		}
	}
	if local == "" {
		return Overlay{Notes: notes}, nil
	}
	ov, err := loadDir(local, SourceLocal)
	ov.Notes = append(notes, ov.Notes...)
	return ov, err
}

// Load reads recipes/<recipe>/ under root alone (no repo overlay). A missing overlay (or root
// "") is the zero Overlay and no error.
func Load(root, recipe string) (Overlay, error) {
	return Resolve(Options{Root: root, Recipe: recipe})
}

// loadRepo copies an allowed repo overlay to copyTo (symlinks are refused: PR-authored content
// may not point elsewhere on the host) and loads the copy.
func loadRepo(dir, copyTo string) (Overlay, error) {
	if copyTo == "" {
		return loadDir(dir, SourceRepo)
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return fmt.Errorf("%s is a %s", p, d.Type())
		}
		return nil
	})
	if err == nil {
		err = os.CopyFS(copyTo, os.DirFS(dir))
	}
	if err != nil {
		return Overlay{}, fmt.Errorf("copy the recipe repo's overlay %s/: %w (it may hold only regular files and directories)", RepoDirName, err)
	}
	return loadDir(copyTo, SourceRepo)
}

// loadDir loads one overlay directory: its config file, if any, and the files it names.
func loadDir(dir, source string) (Overlay, error) {
	o := Overlay{Source: source, Dir: dir}
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return Overlay{}, fmt.Errorf("overlay %s: %w", path, err)
	default:
		cfg, err := Parse(data)
		if err != nil {
			return Overlay{}, fmt.Errorf("overlay %s: %w", path, err)
		}
		o.File, o.Config = path, cfg
	}
	if err := o.checkFiles(); err != nil {
		return Overlay{}, fmt.Errorf("overlay %s: %w", dir, err)
	}
	return o, nil
}

// checkFiles proves every executable the overlay names is there and runnable, so a missing test
// is bad input at load time rather than a failed tier later.
func (o Overlay) checkFiles() error {
	for _, t := range o.Config.Tests {
		if err := executableIn(o.Dir, t.Run); err != nil {
			return fmt.Errorf("tests (%s): %w", t.Name, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(o.Dir, InstallSteps)); err == nil {
		if err := executableIn(o.Dir, InstallSteps); err != nil {
			return err
		}
	}
	return nil
}

// executableIn checks that rel is a regular, executable file inside dir (not reached through a
// symlink that leaves it).
func executableIn(dir, rel string) error {
	p := filepath.Join(dir, rel)
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return fmt.Errorf("%s: %w (add the file to the overlay)", rel, err)
	}
	base, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	if r, err := filepath.Rel(base, real); err != nil || r == ".." || strings.HasPrefix(r, "../") {
		return fmt.Errorf("%s resolves outside the overlay directory", rel)
	}
	st, err := os.Stat(real)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file (chmod +x it)", rel)
	}
	return nil
}

// Path returns rel inside the overlay directory.
func (o Overlay) Path(rel string) string { return filepath.Join(o.Dir, rel) }

// HasInstallSteps reports whether the overlay has an install_steps.sh.
func (o Overlay) HasInstallSteps() bool {
	if o.Dir == "" {
		return false
	}
	_, err := os.Stat(o.Path(InstallSteps))
	return err == nil
}

// Allowed reports whether recipe's own overlay may be used: it is listed in root's AllowFile.
func Allowed(root, recipe string) (bool, error) {
	if root == "" {
		return false, nil
	}
	path := filepath.Join(root, AllowFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the repo-overlay allow-list: %w", err)
	}
	var list struct {
		Recipes []string `yaml:"recipes"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&list); err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("allow-list %s does not parse (want `recipes: [name, ...]`): %w", path, err)
	}
	return slices.Contains(list.Recipes, recipe), nil
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

// HasFunctional reports whether the overlay declares any FUNCTIONAL check.
func (o Overlay) HasFunctional() bool {
	c := o.Config
	return len(c.HTTPChecks)+len(c.BrowserChecks)+len(c.Tests) > 0
}

// Summary is one line naming the overlay in effect and what it declares, for the run's log.
func (o Overlay) Summary() string {
	if o.Dir == "" {
		return "none (the generic ladder and data floor)"
	}
	c := o.Config
	var has []string
	add := func(n int, what string) {
		if n > 0 {
			has = append(has, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(len(c.ExpectedNA), "declared not applicable")
	add(len(c.RedirectHosts), "redirect hosts")
	add(len(c.AppEnv), "app env")
	add(len(c.HTTPChecks), "HTTP checks")
	add(len(c.BrowserChecks), "browser checks")
	add(len(c.Tests), "tests")
	if o.HasInstallSteps() {
		has = append(has, InstallSteps)
	}
	if c.Readiness != nil {
		has = append(has, "a readiness probe")
	}
	if len(has) == 0 {
		has = append(has, "no config")
	}
	return fmt.Sprintf("%s (from the %s: %s)", o.Dir, o.Source, strings.Join(has, ", "))
}
