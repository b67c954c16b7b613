package overlay

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/plugin/browser"
	"coopcloud.tech/cc-ci/plugin/checks"
)

// Config is the overlay's config file, cc-ci.yml. Every key is optional; the zero Config is the
// generic ladder. docs/testing.md documents each key with an example.
type Config struct {
	// ExpectedNA lists tiers that cannot apply to this recipe (a stateless app has no backups):
	// the only kind of skip that holds a rung.
	ExpectedNA []NA `yaml:"expected_na"`
	// RedirectHosts are hosts an off-host redirect of the app's page may go to (single sign-on).
	RedirectHosts []string `yaml:"redirect_hosts"`
	// AppEnv is set in each app's .env after `abra app new`, before anything is deployed: what an
	// operator edits by hand (an admin e-mail, a feature switch).
	AppEnv map[string]string `yaml:"app_env"`
	// Timeouts lengthen (or shorten) the run's waits for a slow or quick app.
	Timeouts Timeouts `yaml:"timeouts"`
	// Health says what answer at which path proves the app serves its own page.
	Health Health `yaml:"health"`
	// Readiness, when set, is polled until it holds before the app's page is judged: an app
	// whose first boot migrates for minutes says so here instead of failing the page check.
	Readiness *Probe `yaml:"readiness"`
	// HTTPChecks, BrowserChecks and Tests are the FUNCTIONAL tier.
	HTTPChecks    []HTTPCheck    `yaml:"http_checks"`
	BrowserChecks []BrowserCheck `yaml:"browser_checks"`
	Tests         []Test         `yaml:"tests"`
}

// NA is one tier a maintainer declared not applicable, with the reason shown to everyone.
type NA struct {
	Tier   string `yaml:"tier"`
	Reason string `yaml:"reason"`
}

// Timeouts are Go durations ("10m", "90s"); zero keeps the run's setting.
type Timeouts struct {
	// Deploy bounds each abra call and each wait for convergence (CCCI_STEP_TIMEOUT).
	Deploy Duration `yaml:"deploy"`
	// HTTP bounds how long the app may take to answer through the front door (CCCI_READY_TIMEOUT).
	HTTP Duration `yaml:"http"`
}

// Health is the page INSTALL and UPGRADE judge. Defaults: path "/", any 2xx.
type Health struct {
	Path string `yaml:"path"`
	// Statuses are accepted besides 2xx: an app that answers 401 at / until you log in.
	Statuses []int `yaml:"statuses"`
}

// Probe is one HTTP request and what its answer must be.
type Probe struct {
	Path     string `yaml:"path"`
	Statuses []int  `yaml:"statuses"` // default [200]
	Text     string `yaml:"text"`     // the body must contain it
}

// HTTPCheck is one FUNCTIONAL request against the upgraded app.
type HTTPCheck struct {
	Name     string            `yaml:"name"`
	Method   string            `yaml:"method"` // default GET
	Path     string            `yaml:"path"`
	Headers  map[string]string `yaml:"headers"`
	Body     string            `yaml:"body"`
	Statuses []int             `yaml:"statuses"` // default [200]
	Text     string            `yaml:"text"`     // the body must contain it
	NotText  string            `yaml:"not_text"` // the body must not contain it
}

// BrowserCheck is one FUNCTIONAL flow in headless Chromium.
type BrowserCheck struct {
	Name    string   `yaml:"name"`
	Timeout Duration `yaml:"timeout"`
	Steps   []Step   `yaml:"steps"`
}

// Step is one browser action. In cc-ci.yml each step is a one-key mapping:
//
//   - visit: /notes
//   - fill: {selector: "#note", text: hello}
//   - click: "#save"
//   - wait_text: {selector: "#saved", text: hello}
//   - expect_text: {selector: h1, text: Notes}
//   - screenshot: saved.png
type Step struct {
	Action   string
	Path     string // visit
	Selector string // fill, click, wait_text, expect_text
	Text     string // fill's value, or the text to wait for or expect
	File     string // screenshot
}

// Test is one custom executable in the overlay directory (any language; exit code is the verdict;
// TAP on stdout or JUnit XML in $CCCI_REPORT_DIR become per-check rows).
type Test struct {
	Name    string   `yaml:"name"`
	Run     string   `yaml:"run"` // path relative to the overlay directory
	Args    []string `yaml:"args"`
	Timeout Duration `yaml:"timeout"`
}

// Duration is a time.Duration written as a Go duration string in YAML.
type Duration time.Duration

// UnmarshalText reads "90s", "10m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil || v <= 0 {
		return fmt.Errorf("%q is not a positive duration (write e.g. 90s or 10m)", b)
	}
	*d = Duration(v)
	return nil
}

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Tiers a maintainer may declare not applicable. Install can never be: nothing is proven without
// it; functional and lint always apply (every app does something; every recipe can be linted).
var declarableTiers = []string{"upgrade", "backup", "restore"}

// stepActions are the browser step keys.
var stepActions = browser.Actions

var (
	envKeyRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func (c Config) validate() error {
	for _, fn := range []func() error{c.validateNA, c.validateHosts, c.validateEnv, c.validateProbes, c.validateHTTP, c.validateBrowser, c.validateTests} {
		if err := fn(); err != nil {
			return err
		}
	}
	return nil
}

func (c Config) validateNA() error {
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
	return nil
}

func (c Config) validateHosts() error {
	for i, h := range c.RedirectHosts {
		if h == "" || strings.ContainsAny(h, "/: ") {
			return fmt.Errorf("redirect_hosts[%d]: %q is not a host name (write sso.example.org, no scheme or path)", i, h)
		}
	}
	return nil
}

// reservedEnv are keys an overlay may not set: they decide which app is deployed and where.
var reservedEnv = []string{"DOMAIN", "TYPE", "RECIPE", "STACK_NAME"}

func (c Config) validateEnv() error {
	for _, k := range slices.Sorted(maps.Keys(c.AppEnv)) {
		switch {
		case !envKeyRe.MatchString(k):
			return fmt.Errorf("app_env: %q is not an env variable name (letters, digits and _)", k)
		case slices.Contains(reservedEnv, k):
			return fmt.Errorf("app_env: %s is set by cc-ci and abra for each app and cannot be overridden", k)
		case strings.ContainsAny(c.AppEnv[k], "\n\r"):
			return fmt.Errorf("app_env: the value of %s spans lines: a .env value is one line", k)
		}
	}
	return nil
}

func (c Config) validateProbes() error {
	if c.Health.Path != "" {
		if err := checkPath("health.path", c.Health.Path); err != nil {
			return err
		}
	}
	if err := checkStatuses("health.statuses", c.Health.Statuses); err != nil {
		return err
	}
	if p := c.Readiness; p != nil {
		if err := checkPath("readiness.path", p.Path); err != nil {
			return err
		}
		if err := checkStatuses("readiness.statuses", p.Statuses); err != nil {
			return err
		}
	}
	return nil
}

func (c Config) validateHTTP() error {
	names := map[string]bool{}
	for i, h := range c.HTTPChecks {
		where := fmt.Sprintf("http_checks[%d]", i)
		if err := checkName(where, h.Name, names); err != nil {
			return err
		}
		if err := checks.ValidateHTTP(h.Check()); err != nil {
			return fmt.Errorf("%s (%s): %w", where, h.Name, err)
		}
	}
	return nil
}

func (c Config) validateBrowser() error {
	names := map[string]bool{}
	for i, b := range c.BrowserChecks {
		where := fmt.Sprintf("browser_checks[%d]", i)
		if err := checkName(where, b.Name, names); err != nil {
			return err
		}
		if err := browser.Validate(b.Check()); err != nil {
			return fmt.Errorf("%s (%s): %w", where, b.Name, err)
		}
	}
	return nil
}

// Check is h as the HTTP check engine runs it.
func (h HTTPCheck) Check() checks.HTTPCheck {
	return checks.HTTPCheck{Name: h.Name, Method: h.Method, Path: h.Path, Headers: h.Headers, Body: h.Body,
		Status: h.Statuses, ExpectText: h.Text, NotText: h.NotText}
}

// Check is b as the browser engine runs it.
func (b BrowserCheck) Check() browser.Check {
	steps := make([]browser.Step, len(b.Steps))
	for i, s := range b.Steps {
		steps[i] = browser.Step{Action: s.Action, Path: s.Path, Selector: s.Selector, Text: s.Text, File: s.File}
	}
	return browser.Check{Name: b.Name, Steps: steps, Timeout: b.Timeout.D()}
}

func (c Config) validateTests() error {
	names := map[string]bool{}
	for i, t := range c.Tests {
		where := fmt.Sprintf("tests[%d]", i)
		if err := checkName(where, t.Name, names); err != nil {
			return err
		}
		clean := path.Clean(t.Run)
		if t.Run == "" || path.IsAbs(t.Run) || clean == ".." || strings.HasPrefix(clean, "../") {
			return fmt.Errorf("%s (%s): run %q must be a path inside the overlay directory, e.g. tests/smoke.sh", where, t.Name, t.Run)
		}
	}
	return nil
}

func checkName(where, name string, seen map[string]bool) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("%s: a name is required (it titles the check's row in the results)", where)
	}
	if seen[name] {
		return fmt.Errorf("%s: the name %q is used twice", where, name)
	}
	seen[name] = true
	return nil
}

func checkPath(where, p string) error {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, " \t\r\n#") {
		return fmt.Errorf("%s %q must be a path on the app, starting with / (e.g. /api/health)", where, p)
	}
	return nil
}

func checkStatuses(where string, ss []int) error {
	for _, s := range ss {
		if s < 100 || s > 599 {
			return fmt.Errorf("%s: %d is not an HTTP status", where, s)
		}
	}
	return nil
}
