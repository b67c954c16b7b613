// Package run is one cc-ci recipe run: the plugin's Settings, their validation, and Execute, which
// ties the safety core (lock, lifetime, per-run ABRA_DIR) to the ladder.
package run

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/internal/cliapp"
	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/plugin/limits"
)

// Settings are the plugin's inputs, bound once each to a PLUGIN_* / CCCI_* env var and a --flag.
type Settings struct {
	Recipe       string
	Src          string
	Ref          string
	PR           string
	Repo         string
	Mode         string
	Forge        string
	LockDir      string
	RunsDir      string
	AbraDir      string
	OverlaysDir  string
	DomainSuffix string
	FrontDoor    string
	Server       string
	AbraBin      string
	ChromiumBin  string
	BuildNumber  string
	Deadline     time.Duration
	StepTimeout  time.Duration
	ReadyTimeout time.Duration
	// Per-service resource budget (0: plugin/limits' defaults): memory in MiB, CPUs, pids; and
	// the whole app's memory cap in MiB.
	LimitMemoryMiB int64
	LimitCPUs      float64
	LimitPids      int64
	RunMemoryMiB   int64
	// UpgradeBase is an explicit upgrade base (release tag or commit); "" walks the base chain.
	UpgradeBase string

	// Derived by Validate.
	domain        string
	stack         string
	upgradeDomain string
}

// Mode values.
const (
	ModeCold  = results.ModeCold
	ModeQuick = results.ModeQuick
)

var (
	recipeRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	refRe    = regexp.MustCompile(`^[0-9a-f]{40}$`)
	prRe     = regexp.MustCompile(`^[0-9]{1,10}$`)
	repoRe   = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
	suffixRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)
)

// Validate checks every setting and derives the run's names. It has no side effects beyond
// filling defaults and derived values.
func (s *Settings) Validate() error {
	var p cliapp.Problems
	s.validateInput(&p)
	s.validateHost(&p)
	if err := p.Err(); err != nil {
		return err
	}
	s.domain = naming.Domain(s.Recipe, s.PR, s.Ref, s.DomainSuffix)
	s.stack = naming.Stack(s.domain)
	s.upgradeDomain = naming.UpgradeDomain(s.Recipe, s.PR, s.Ref, s.DomainSuffix)
	if len(s.stack) > naming.MaxSwarmName {
		return &cliapp.ConfigError{Problems: []string{fmt.Sprintf("stack name %q is %d chars, over Docker's %d: shorten CCCI_DOMAIN_SUFFIX", s.stack, len(s.stack), naming.MaxSwarmName)}}
	}
	if warm := naming.Stack(s.WarmDomain()); s.Mode == ModeQuick && len(warm) > naming.MaxSwarmName {
		return &cliapp.ConfigError{Problems: []string{fmt.Sprintf("the warm app's stack name %q is %d chars, over Docker's %d: quick runs of this recipe need a shorter CCCI_DOMAIN_SUFFIX", warm, len(warm), naming.MaxSwarmName)}}
	}
	return nil
}

// validateInput checks what the bridge passes per run: recipe, ref, source, PR, repo, mode, forge.
func (s *Settings) validateInput(p *cliapp.Problems) {
	switch {
	case s.Recipe == "":
		p.Add("recipe is missing: set PLUGIN_RECIPE (or CCCI_RECIPE, --recipe) to the recipe name, e.g. gitea")
	case !recipeRe.MatchString(s.Recipe):
		p.Add("recipe %q is malformed: use the recipe's catalogue name (lower-case letters, digits, - and _)", s.Recipe)
	}
	switch {
	case s.Ref == "":
		p.Add("ref is missing: set PLUGIN_REF (or CCCI_REF, --ref) to the full 40-hex commit SHA under test")
	case !refRe.MatchString(s.Ref):
		p.Add("ref %q is not a full 40-hex lower-case commit SHA: pin the PR head with `git rev-parse <branch>`", s.Ref)
	}
	if s.Src == "" && s.Recipe != "" {
		s.Src = "https://git.coopcloud.tech/coop-cloud/" + s.Recipe + ".git"
	}
	if s.PR != "" && !prRe.MatchString(s.PR) {
		p.Add("pr %q is not a pull request number: set PLUGIN_PR (or CCCI_PR) to digits only", s.PR)
	}
	if s.Repo != "" && !repoRe.MatchString(s.Repo) {
		p.Add("repo %q is not owner/name: set PLUGIN_REPO (or CCCI_REPO) like coop-cloud/gitea", s.Repo)
	}
	if s.Mode == "" {
		s.Mode = ModeCold
	}
	if s.Mode != ModeCold && s.Mode != ModeQuick {
		p.Add("mode %q is unknown: set PLUGIN_MODE (or CCCI_MODE) to cold or quick", s.Mode)
	}
	if s.UpgradeBase != "" && (strings.HasPrefix(s.UpgradeBase, "-") || strings.ContainsAny(s.UpgradeBase, " \t\n")) {
		p.Add("upgrade base %q is malformed: set PLUGIN_UPGRADE_BASE (or CCCI_UPGRADE_BASE) to a release tag or a commit of the recipe", s.UpgradeBase)
	}
	if s.Forge != "" && s.Forge != "github" && s.Forge != "gitea" {
		p.Add("forge %q is unknown: set CCCI_FORGE to github or gitea", s.Forge)
	}
}

// validateHost checks the CI host's settings: paths, names, the front door, abra, timeouts.
func (s *Settings) validateHost(p *cliapp.Problems) {
	for _, d := range []struct{ name, env, val string }{
		{"lock dir", "CCCI_APP_LOCK_DIR", s.LockDir},
		{"runs dir", "CCCI_RUNS_DIR", s.RunsDir},
		{"abra dir", "CCCI_ABRA_DIR", s.AbraDir},
	} {
		if d.val == "" || !filepath.IsAbs(d.val) {
			p.Add("%s %q must be an absolute path: set %s", d.name, d.val, d.env)
		}
	}
	if s.OverlaysDir != "" && !filepath.IsAbs(s.OverlaysDir) {
		p.Add("overlays dir %q must be an absolute path: set CCCI_OVERLAYS_DIR", s.OverlaysDir)
	}
	if !suffixRe.MatchString(s.DomainSuffix) {
		p.Add("domain suffix %q is not a DNS name: set CCCI_DOMAIN_SUFFIX, e.g. ci.example.org", s.DomainSuffix)
	}
	if u, err := url.Parse(s.FrontDoor); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.Add("front door %q is not an http(s) URL: set CCCI_FRONTDOOR_URL to where the proxy listens, e.g. http://127.0.0.1", s.FrontDoor)
	}
	if s.Server == "" {
		p.Add("server is empty: set CCCI_SERVER to the abra server name of the local swarm (default: default)")
	}
	if s.AbraBin == "" {
		p.Add("abra binary is empty: set CCCI_ABRA_BIN (default: abra, looked up on PATH)")
	}
	for _, d := range []struct {
		name, env, eg string
		val           time.Duration
	}{{"deadline", "CCCI_DEADLINE", "60m", s.Deadline}, {"step timeout", "CCCI_STEP_TIMEOUT", "10m", s.StepTimeout}, {"ready timeout", "CCCI_READY_TIMEOUT", "2m", s.ReadyTimeout}} {
		if d.val <= 0 {
			p.Add("%s %s must be positive: set %s, e.g. %s", d.name, d.val, d.env, d.eg)
		}
	}
}

// budget is the run's resource budget for plugin/limits.
func (s *Settings) budget() limits.Budget {
	return limits.Budget{Memory: s.LimitMemoryMiB << 20, CPUs: s.LimitCPUs, Pids: s.LimitPids, RunMemory: s.RunMemoryMiB << 20}
}

// Domain is the app domain of this run (valid after Validate).
func (s *Settings) Domain() string { return s.domain }

// Stack is the swarm stack name of this run (valid after Validate).
func (s *Settings) Stack() string { return s.stack }

// UpgradeDomain is the domain of the app installed at the upgrade base and upgraded to the head
// (valid after Validate); Domain is the fresh install's.
func (s *Settings) UpgradeDomain() string { return s.upgradeDomain }

// WarmDomain is the recipe's long-lived warm app, reused by quick runs.
func (s *Settings) WarmDomain() string { return naming.WarmDomain(s.Recipe, s.DomainSuffix) }

// Domains are both apps' domains: the fresh install's first.
func (s *Settings) Domains() []string { return []string{s.domain, s.upgradeDomain} }
