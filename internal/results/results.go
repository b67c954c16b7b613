// Package results holds the results.json contract (DESIGN.md 3) shared by the plugin, the bridge
// and the dashboard, and the rules that turn tier outcomes into a level and a verdict. The rules
// live here, once, so no reader can compute a different verdict from the same file.
package results

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"coopcloud.tech/cc-ci/internal/atomicfile"
)

// Schema is the version of the results.json layout written by this package.
const Schema = 1

// Status is the outcome of a tier or a check.
type Status string

// Tier and check outcomes. Skip holds a rung only when Declared (see Tier); Unverified is for
// infrastructure errors, timeouts, missing tools, or an earlier abort.
const (
	Pass       Status = "pass"
	Fail       Status = "fail"
	Skip       Status = "skip"
	Unverified Status = "unverified"
)

// Run modes (DESIGN.md 3, CCCI_MODE).
const (
	ModeCold  = "cold"
	ModeQuick = "quick"
)

// ManifestQuickFallback is the manifest key saying why a quick run ran cold.
const ManifestQuickFallback = "quick-fallback"

// Verdicts of a whole run.
const (
	VerdictPass       = "pass"
	VerdictFail       = "fail"
	VerdictUnverified = "unverified"
)

// Tier names in ladder order. Level N is reached when tiers up to the Nth rung hold.
const (
	TierInstall    = "install"
	TierUpgrade    = "upgrade"
	TierBackup     = "backup"
	TierRestore    = "restore"
	TierFunctional = "functional"
	TierLint       = "lint"
)

// rungs maps each level to the tiers that make it up (L3 is backup AND restore).
var rungs = [][]string{
	{TierInstall},
	{TierUpgrade},
	{TierBackup, TierRestore},
	{TierFunctional},
	{TierLint},
}

// Check is one assertion inside a tier.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Tier is one rung's outcome.
type Tier struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Declared is true only for a skip a maintainer declared (an expected_na entry with a reason
	// in the recipe's overlay): the only skip that holds a rung. A skip the ladder decided by
	// itself (no upgrade base, no backup labels, nothing to check data with) is a gap.
	Declared bool `json:"declared,omitempty"`
	// Lift says, for a gap, what would let the tier run and the level climb past it.
	Lift      string  `json:"lift,omitempty"`
	DurationS float64 `json:"duration_s"`
	Checks    []Check `json:"checks"`
	// Warnings are things a maintainer should know that do not fail the tier (a restart while a
	// dependency booted).
	Warnings []string `json:"warnings,omitempty"`
}

// Gap reports whether t is a skip that does not hold its rung.
func (t Tier) Gap() bool { return t.Status == Skip && !t.Declared }

// App is one app the run created: the fresh install of the PR head, and the app upgraded from
// the base to the head. Each must be created exactly once (one `abra app new`).
type App struct {
	Role   string `json:"role"` // RoleFresh or RoleUpgrade
	Domain string `json:"domain"`
	AppNew int    `json:"app_new"`
}

// App roles.
const (
	RoleFresh   = "fresh"
	RoleUpgrade = "upgrade"
	// RoleWarm is the long-lived warm-<recipe> app: created once by a cold run that found none
	// (AppNew 1), reused by quick runs (AppNew 0).
	RoleWarm = "warm"
)

// UpgradeBase records which release the upgrade started from, or why there was none. Reason
// records each step of the base chain that was tried. Needs lists what the upgrade had to add
// (secrets and env keys the head introduces), as an operator's upgrade would.
type UpgradeBase struct {
	Version string   `json:"version,omitempty"`
	Commit  string   `json:"commit,omitempty"`
	Reason  string   `json:"reason,omitempty"`
	Needs   []string `json:"needs,omitempty"`
}

// Teardown records whether the run left anything behind.
type Teardown struct {
	Clean   bool     `json:"clean"`
	Residue []string `json:"residue,omitempty"`
}

// Results is the whole results.json document.
type Results struct {
	Schema      int               `json:"schema"`
	RunID       string            `json:"run_id"`
	Recipe      string            `json:"recipe"`
	Repo        string            `json:"repo,omitempty"`
	PR          string            `json:"pr,omitempty"`
	Ref         string            `json:"ref"`
	Mode        string            `json:"mode"`
	Domain      string            `json:"domain"`
	Started     time.Time         `json:"started"`
	Finished    time.Time         `json:"finished"`
	DurationS   float64           `json:"duration_s"`
	UpgradeBase UpgradeBase       `json:"upgrade_base"`
	Tiers       []Tier            `json:"tiers"`
	Level       int               `json:"level"`
	Verdict     string            `json:"verdict"`
	Deploys     int               `json:"deploys"`
	Apps        []App             `json:"apps"`
	Teardown    Teardown          `json:"teardown"`
	Manifest    map[string]string `json:"manifest"`
	Artifacts   map[string]string `json:"artifacts"`
	// FailureExcerpt is the log tail of the first failing tier, for summaries and the dashboard.
	FailureExcerpt string `json:"failure_excerpt,omitempty"`
	// Allowances are the operator's policy allowances this run used (DESIGN 4.7), each naming
	// the service and the construct it was allowed.
	Allowances []string `json:"allowances,omitempty"`
}

// Tier returns the named tier, or nil when the run never reached it.
func (r *Results) Tier(name string) *Tier {
	for i := range r.Tiers {
		if r.Tiers[i].Name == name {
			return &r.Tiers[i]
		}
	}
	return nil
}

// Level is the highest rung such that it and every rung below it is pass or a declared skip.
// A rung whose tier is missing, unverified, failed or a gap does not hold.
func Level(tiers []Tier) int {
	byName := map[string]Tier{}
	for _, t := range tiers {
		byName[t.Name] = t
	}
	level := 0
	for _, rung := range rungs {
		for _, name := range rung {
			t, ok := byName[name]
			if !ok || !holds(t) {
				return level
			}
		}
		level++
	}
	return level
}

func holds(t Tier) bool {
	return t.Status == Pass || (t.Status == Skip && t.Declared)
}

// CappedBy returns the tier whose gap stops the level, or nil when the level is not capped by a
// gap (it is capped by a failure, an unverified tier, or not at all).
func CappedBy(tiers []Tier) *Tier {
	level := Level(tiers)
	if level >= len(rungs) {
		return nil
	}
	for _, name := range rungs[level] {
		for i := range tiers {
			if tiers[i].Name == name && tiers[i].Gap() {
				return &tiers[i]
			}
		}
	}
	return nil
}

// Verdict is pass only when no tier failed or went unverified and at least one tier passed;
// any fail makes it fail; otherwise (an unverified tier, or nothing verified at all) unverified.
func Verdict(tiers []Tier) string {
	passed, unverified := false, false
	for _, t := range tiers {
		switch t.Status {
		case Fail:
			return VerdictFail
		case Unverified:
			unverified = true
		case Pass:
			passed = true
		case Skip:
		default:
			unverified = true // an unknown status can never count as green
		}
	}
	if unverified || !passed {
		return VerdictUnverified
	}
	return VerdictPass
}

// Finalize derives level, verdict and duration from the tiers, so callers cannot set them by hand.
func (r *Results) Finalize(finished time.Time) {
	r.Schema = Schema
	r.Finished = finished
	r.DurationS = finished.Sub(r.Started).Seconds()
	r.Level = Level(r.Tiers)
	r.Verdict = Verdict(r.Tiers)
	if r.Verdict == VerdictPass && !r.Teardown.Clean {
		// A run that leaves things behind on the shared swarm is not a clean green.
		r.Verdict = VerdictUnverified
	}
	if r.Verdict == VerdictPass && !onceEach(r.Apps, r.Deploys) {
		// Deploy-count guard: exactly one `abra app new` per app, or the tiers may describe
		// different deployments than the ones that were installed, upgraded and restored.
		r.Verdict = VerdictUnverified
	}
}

// onceEach is the deploy-count guard: at least one app, each run's own app created exactly
// once, the warm app at most once (a quick run reuses it), and no `app new` beyond them.
func onceEach(apps []App, deploys int) bool {
	if len(apps) == 0 {
		return false
	}
	sum := 0
	for _, a := range apps {
		switch {
		case a.Role == RoleWarm && a.AppNew > 1:
			return false
		case a.Role != RoleWarm && a.AppNew != 1:
			return false
		}
		sum += a.AppNew
	}
	return deploys == sum
}

// ExitCode maps a verdict to the plugin's exit code (DESIGN.md 3).
func ExitCode(verdict string) int {
	switch verdict {
	case VerdictPass:
		return 0
	case VerdictFail:
		return 1
	default:
		return 3
	}
}

// WriteFile writes r as JSON atomically: a temp file in the same directory, fsync, then rename, so
// a reader never sees half a document.
func WriteFile(path string, r *Results) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	return atomicfile.Write(path, append(data, '\n'), 0o644)
}

// ReadFile reads a results.json, refusing a schema it does not know.
func ReadFile(path string) (*Results, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var r Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("parse results %s: %w", path, err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("results %s: schema %d, want %d", path, r.Schema, Schema)
	}
	return &r, nil
}

// Redact passes every free-text field (reasons, check details, the failure excerpt, residue)
// through mask, so a secret that reached an error message or a log line never reaches
// results.json, summary.md or a PR comment.
func (r *Results) Redact(mask func(string) string) {
	r.UpgradeBase.Reason = mask(r.UpgradeBase.Reason)
	for i := range r.UpgradeBase.Needs {
		r.UpgradeBase.Needs[i] = mask(r.UpgradeBase.Needs[i])
	}
	r.FailureExcerpt = mask(r.FailureExcerpt)
	for i := range r.Allowances {
		r.Allowances[i] = mask(r.Allowances[i])
	}
	for i := range r.Teardown.Residue {
		r.Teardown.Residue[i] = mask(r.Teardown.Residue[i])
	}
	for i := range r.Tiers {
		t := &r.Tiers[i]
		t.Reason = mask(t.Reason)
		t.Lift = mask(t.Lift)
		for j := range t.Warnings {
			t.Warnings[j] = mask(t.Warnings[j])
		}
		for j := range t.Checks {
			t.Checks[j].Detail = mask(t.Checks[j].Detail)
		}
	}
}
