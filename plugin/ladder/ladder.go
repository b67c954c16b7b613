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
	// AppNews counts `app new` calls per domain, for the deploy-count guard.
	AppNews() map[string]int
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
	// Overlay is the recipe's overlay in this repo (zero value: none, the generic ladder).
	Overlay overlay.Overlay
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
	// Floor returns the generic data floor of one stack.
	Floor func(stack string) DataFloor
	Out   io.Writer // progress banners (the Drone log)
	// OnTier, when set, is told each tier as soon as it is decided, so an aborted run can still
	// report what it had proven.
	OnTier func(results.Tier)

	start time.Time
	apps  []*app
}

// Outcome is what a climb produced, for results.json.
type Outcome struct {
	Tiers          []results.Tier
	UpgradeBase    results.UpgradeBase
	Apps           []results.App
	Deploys        int
	FailureExcerpt string
}

// Run climbs the ladder. It never tears down: the caller's teardown funnel does that exactly once.
func (l *Ladder) Run(ctx context.Context) Outcome {
	l.start = time.Now()
	var out Outcome
	add := func(ts ...*tier) {
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
	defer l.banner("DONE", "ladder finished")

	base, baseOK, err := l.Git.UpgradeBase(ctx, l.Head)
	if err != nil {
		t := l.newTier(results.TierInstall)
		t.unverified("resolve upgrade base: %v", err)
		add(t)
		add(notReached(results.TierInstall, results.TierUpgrade, results.TierBackup, results.TierRestore)...)
		return l.finish(out)
	}
	out.UpgradeBase = results.UpgradeBase{Version: base.Tag, Reason: base.Reason}
	if base.Tag == "" {
		out.UpgradeBase.Commit = base.Commit
	}

	fresh, install := l.install(ctx)
	add(install)
	if install.Status != results.Pass {
		add(notReached(results.TierInstall, results.TierUpgrade, results.TierBackup, results.TierRestore)...)
		return l.finish(out)
	}

	upgraded, upgrade, needs := l.upgrade(ctx, base, baseOK)
	out.UpgradeBase.Needs = needs
	add(upgrade)
	if upgrade.Status != results.Pass && upgrade.Status != results.Skip {
		add(notReached(results.TierUpgrade, results.TierBackup, results.TierRestore)...)
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
	return l.finish(out)
}

func (l *Ladder) finish(out Outcome) Outcome {
	news := l.Abra.AppNews()
	for _, a := range l.apps {
		out.Apps = append(out.Apps, results.App{Role: a.role, Domain: a.Domain, AppNew: news[a.Domain]})
	}
	for _, n := range news {
		out.Deploys += n
	}
	return out
}

// notReached marks the tiers after a failed one: never a skip, since nothing was declared away.
func notReached(after string, names ...string) []*tier {
	var ts []*tier
	for _, n := range names {
		if n == after {
			continue
		}
		ts = append(ts, notReachedTier(n, after+" did not pass"))
	}
	return ts
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
