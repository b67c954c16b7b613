// Package ladder climbs install -> upgrade -> backup -> restore and reports each tier honestly
// (DESIGN.md 4.4). Two apps, as operators meet them: a FRESH install of the PR head (INSTALL),
// and an app installed at the upgrade base and upgraded to the head with its data carried across
// (UPGRADE); backup and restore then run on the upgraded app. Each app is created exactly once.
// The ladder talks to the world only through the small interfaces below, so its decisions are
// tested against recording fakes while the e2e suite runs the same code against the real swarm.
package ladder

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/internal/recipe"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/swarm"
	"coopcloud.tech/cc-ci/plugin/overlay"
)

// abraRunner is what the ladder needs of abra; every mutating call runs at most once per app.
type abraRunner interface {
	AppNew(ctx context.Context, recipe, version, server, domain string, chaos bool) error
	Deploy(ctx context.Context, domain, version string, chaos bool) error
	SecretGenerate(ctx context.Context, domain, secret, version string) error
	// BackupCreate returns the id of the snapshot it made, so the restore restores exactly it.
	BackupCreate(ctx context.Context, domain string) (snapshot string, err error)
	Restore(ctx context.Context, domain, snapshot string) error
	// Lint runs `abra recipe lint` on the checked-out recipe and returns what it printed (also
	// on error: abra prints the table and exits 0 even when rules fail).
	Lint(ctx context.Context, recipe string) (output string, err error)
	// AppNews counts `app new` calls per domain, for the deploy-count guard.
	AppNews() map[string]int
}

// Checker runs what an overlay declares against a live app: the FUNCTIONAL checks, the install
// steps, and the landing-page screenshot. The real one (plugin/run) drives plugin/checks and
// plugin/browser; the ladder decides what the outcomes mean.
type Checker interface {
	HTTP(ctx context.Context, domain string, c overlay.HTTPCheck) results.Check
	Browser(ctx context.Context, domain string, c overlay.BrowserCheck) CheckOutcome
	// Exec runs an overlay executable (a test, install_steps.sh) with the app's env.
	Exec(ctx context.Context, domain, name, path string, args []string, timeout time.Duration) CheckOutcome
	// Screenshot saves the app's landing page as file in the run's artifacts, returning its path.
	Screenshot(ctx context.Context, domain, file string) (string, error)
}

// Guard is asked before every deploy (DESIGN 4.7) about what the deploy is about to run, the
// app's effective configuration (its .env, the checked-out compose files): the policy's verdict,
// and, when nothing is refused, the run's resource limits applied as an override. err when the
// configuration cannot be read or the limits cannot be applied.
type Guard interface {
	Check(ctx context.Context, recipeDir, envPath, stack string) (Guarded, error)
}

// Guarded is the guard's answer: the reasons of every refused construct, the operator's
// allowances used, and the limits each service runs under.
type Guarded struct {
	Refused, Allowed, Limits []string
}

// CheckOutcome is what one browser check or executable came to: its status, the reason when it
// did not pass, per-step or per-test rows, and a log excerpt or screenshot paths for the summary.
type CheckOutcome struct {
	Status      results.Status
	Reason      string
	Checks      []results.Check
	Excerpt     string
	Screenshots []string
}

// swarmWatcher is what the ladder needs of the swarm.
type swarmWatcher interface {
	WaitConvergedReport(ctx context.Context, stack string, opts swarm.WaitOptions) (swarm.Convergence, error)
	ServiceLabels(ctx context.Context, stack string) (map[string]map[string]string, error)
	CheckStable(ctx context.Context, stack string, since time.Time) error
}

// gitTree is the run's private recipe checkout.
type gitTree interface {
	Checkout(ctx context.Context, ref string) (string, error)
	UpgradeBase(ctx context.Context, head string) (recipe.Base, bool, error)
}

// DataProbe writes and reads one datum in the running app (the overlay's app-level data hooks),
// so upgrade and restore are proven on the app's own data. Read returns found=false when the key
// is absent.
type DataProbe interface {
	Write(ctx context.Context, domain, key, value string) error
	Read(ctx context.Context, domain, key string) (value string, found bool, err error)
}

// DataFloor is the generic data check that needs nothing from the maintainer: markers in every
// named volume (across the upgrade) and in every path the backup labels cover (across backup and
// restore), written and read through the Docker API. A *floor.LostError is the recipe losing
// data; any other error is infrastructure. n == 0 means there was nothing to mark.
type DataFloor interface {
	MarkVolumes(ctx context.Context) (n int, err error)
	CheckVolumes(ctx context.Context) error
	MarkBackupPaths(ctx context.Context) (n int, err error)
	MutateBackupPaths(ctx context.Context) error
	CheckBackupPaths(ctx context.Context) error
}

// Config is one ladder's fixed inputs.
type Config struct {
	Recipe        string
	FreshDomain   string // the app freshly installed at the PR head
	UpgradeDomain string // the app installed at the base and upgraded to the head
	Server        string
	ServerDir     string // $ABRA_DIR/servers/<server>: where abra keeps each app's .env
	RecipeDir     string // the run's private checkout, at Head when Run starts
	Head          string // full SHA under test
	FrontDoor     string // base URL; every request carries the app's Host header
	StepTimeout   time.Duration
	// ReadyTimeout bounds how long the app may take to answer through the front door (default 2m).
	ReadyTimeout time.Duration
	// Overlay is the recipe's overlay in effect (zero value: none, the generic ladder).
	Overlay overlay.Overlay
	// ArtifactsDir is where lint.txt and screenshots are written (the run dir).
	ArtifactsDir string
}

// Ladder runs the tiers. All fields are required except Data (nil: no data probe declared) and
// Floor (nil: no generic data check, only for tests of other rules).
type Ladder struct {
	Config
	Abra  abraRunner
	Swarm swarmWatcher
	Git   gitTree
	HTTP  *http.Client
	Data  DataProbe
	// Check runs the overlay's checks and the landing screenshot (nil: none can run, and a
	// declared check is unverified).
	Check Checker
	// Guard judges each deploy's configuration before abra sees it (nil: nothing is checked,
	// only for tests of other rules).
	Guard Guard
	// Floor returns the generic data floor of one stack.
	Floor func(stack string) DataFloor
	Out   io.Writer // progress banners (the Drone log)
	// OnTier, when set, is told each tier as soon as it is decided, so an aborted run can still
	// report what it had proven.
	OnTier func(results.Tier)

	start    time.Time
	apps     []*app
	arts     map[string]string
	warnings []string
	allowed  []string
}

// Outcome is what a climb produced, for results.json.
type Outcome struct {
	Tiers          []results.Tier
	UpgradeBase    results.UpgradeBase
	Apps           []results.App
	Deploys        int
	FailureExcerpt string
	// Artifacts are files the run made (lint.txt, screenshot.png), by name, for results.json.
	Artifacts map[string]string
	// Warnings are run-wide things a maintainer should know (an overlay pinning an image).
	Warnings []string
	// Allowances are the operator's policy allowances the deploys used.
	Allowances []string
}

// Run climbs the ladder. It never tears down: the caller's teardown funnel does that exactly once.
func (l *Ladder) Run(ctx context.Context) Outcome {
	l.start = time.Now()
	l.arts = map[string]string{}
	var out Outcome
	add := l.adder(&out)
	defer l.banner("DONE", "ladder finished")

	base, baseOK, err := l.Git.UpgradeBase(ctx, l.Head)
	if err != nil {
		t := l.newTier(results.TierInstall)
		t.unverified("resolve upgrade base: %v", err)
		add(t)
		add(notReached(results.TierInstall, above(results.TierInstall)...)...)
		return l.finish(out)
	}
	out.UpgradeBase = results.UpgradeBase{Version: base.Tag, Reason: base.Reason}
	if base.Tag == "" {
		out.UpgradeBase.Commit = base.Commit
	}

	fresh, install := l.install(ctx)
	add(install)
	if install.Status != results.Pass {
		add(notReached(results.TierInstall, above(results.TierInstall)...)...)
		return l.finish(out)
	}

	upgraded, upgrade, needs := l.upgrade(ctx, base, baseOK)
	out.UpgradeBase.Needs = needs
	add(upgrade)
	if upgrade.Status != results.Pass && upgrade.Status != results.Skip {
		add(notReached(results.TierUpgrade, above(results.TierUpgrade)...)...)
		return l.finish(out)
	}
	// Backup and restore run on the upgraded app, the one an operator has; when the upgrade could
	// not be proven (a gap), on the fresh install of the head.
	target := fresh
	if upgrade.Status == results.Pass {
		target = upgraded
	}
	backup, restore := l.backupRestore(ctx, target)
	add(backup, restore)
	if !climbing(backup, restore) {
		stopped := results.TierRestore
		if !climbing(backup) {
			stopped = results.TierBackup
		}
		add(notReached(stopped, above(results.TierRestore)...)...)
		return l.finish(out)
	}
	functional := l.functional(ctx, target)
	add(functional)
	if !climbing(functional) {
		add(notReached(results.TierFunctional, above(results.TierFunctional)...)...)
		return l.finish(out)
	}
	add(l.lint(ctx))
	return l.finish(out)
}

// coldTiers is every tier of a cold run, in order.
var coldTiers = []string{results.TierInstall, results.TierUpgrade, results.TierBackup, results.TierRestore, results.TierFunctional, results.TierLint}

// climbing reports whether the ladder goes on after ts: each passed or was skipped. After a
// failure or an unverified tier the app's state is unknown, and what follows would say nothing.
func climbing(ts ...*tier) bool {
	for _, t := range ts {
		if t.Status != results.Pass && t.Status != results.Skip {
			return false
		}
	}
	return true
}

// adder returns the function that records decided tiers into out (and tells OnTier).
func (l *Ladder) adder(out *Outcome) func(ts ...*tier) {
	return func(ts ...*tier) {
		for _, t := range ts {
			d := t.done()
			out.Tiers = append(out.Tiers, d)
			if out.FailureExcerpt == "" && t.excerpt != "" && d.Status != results.Pass {
				out.FailureExcerpt = t.excerpt
			}
			if l.OnTier != nil {
				l.OnTier(d)
			}
		}
	}
}

// Recount refreshes out's app accounting after apps were added past the climb (CreateWarm).
func (l *Ladder) Recount(out Outcome) Outcome { return l.finish(out) }

func (l *Ladder) finish(out Outcome) Outcome {
	out.Apps, out.Deploys = nil, 0
	out.Artifacts, out.Warnings, out.Allowances = l.arts, l.warnings, l.allowed
	news := l.Abra.AppNews()
	for _, a := range l.apps {
		out.Apps = append(out.Apps, results.App{Role: a.role, Domain: a.Domain, AppNew: news[a.Domain]})
	}
	for _, n := range news {
		out.Deploys += n
	}
	return out
}

// notReached marks names as not reached because tier after did not pass: never a skip, since
// nothing was declared away.
func notReached(after string, names ...string) []*tier {
	var ts []*tier
	for _, n := range names {
		ts = append(ts, notReachedTier(n, after+" did not pass"))
	}
	return ts
}

// above returns the tiers of a cold climb after name.
func above(name string) []string {
	i := slices.Index(coldTiers, name)
	return coldTiers[i+1:]
}

func notReachedTier(name, why string) *tier {
	return &tier{Tier: results.Tier{Name: name, Status: results.Unverified, Reason: "not reached: " + why, Checks: []results.Check{}}, started: time.Now()}
}

// banner prints a stage line with the run's elapsed time, so a long run shows progress.
func (l *Ladder) banner(stage, format string, a ...any) {
	fmt.Fprintf(l.Out, "==> [%7.1fs] %-8s %s\n", time.Since(l.start).Seconds(), strings.ToUpper(stage), fmt.Sprintf(format, a...))
}

// step gives one wait or call its own timeout inside the run's context. A zero StepTimeout means
// the run's context alone bounds the step (not a context that has already expired).
func (l *Ladder) step(ctx context.Context) (context.Context, context.CancelFunc) {
	if l.StepTimeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, l.StepTimeout)
}
