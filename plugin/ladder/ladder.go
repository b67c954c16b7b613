// Package ladder climbs install -> upgrade -> backup -> restore against ONE live deployment of a
// recipe and reports each tier honestly (DESIGN.md 4.4). It talks to the world only through the
// small interfaces below, so its decisions are tested against recording fakes while the e2e suite
// runs the same code against the real swarm.
package ladder

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"coopcloud.tech/cc-ci/internal/abra"
	"coopcloud.tech/cc-ci/internal/recipe"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/swarm"
)

// abraRunner is what the ladder needs of abra; every call runs at most once per run.
type abraRunner interface {
	AppNew(ctx context.Context, recipe, version, server, domain string) error
	Deploy(ctx context.Context, domain, version string, chaos bool) error
	BackupCreate(ctx context.Context, domain string) error
	Restore(ctx context.Context, domain string) error
	Calls() map[string]int
}

// swarmWatcher is what the ladder needs of the swarm.
type swarmWatcher interface {
	WaitConverged(ctx context.Context, stack string, opts swarm.WaitOptions) error
	ServiceLabels(ctx context.Context, stack string) (map[string]map[string]string, error)
	CheckStable(ctx context.Context, stack string, since time.Time) error
}

// gitTree is the run's private recipe checkout.
type gitTree interface {
	Checkout(ctx context.Context, ref string) (string, error)
	UpgradeBase(ctx context.Context, head string) (recipe.Release, bool, string, error)
}

// DataProbe writes and reads one datum in the running app, so upgrade and restore can be proven
// on data, not on exit codes. Read returns found=false when the key is absent.
type DataProbe interface {
	Write(ctx context.Context, key, value string) error
	Read(ctx context.Context, key string) (value string, found bool, err error)
}

// Config is one ladder's fixed inputs.
type Config struct {
	Recipe      string
	Domain      string
	Stack       string
	Server      string
	RecipeDir   string // the run's private checkout, at Head when Run starts
	Head        string // full SHA under test
	FrontDoor   string // base URL; every request carries Host: Domain
	StepTimeout time.Duration
	// ReadyTimeout bounds how long the app may take to answer through the front door (default 2m).
	ReadyTimeout time.Duration
}

// Ladder runs the tiers. All fields are required except Data (nil: no data probe declared).
type Ladder struct {
	Config
	Abra  abraRunner
	Swarm swarmWatcher
	Git   gitTree
	HTTP  *http.Client
	Data  DataProbe
	Out   io.Writer // progress banners (the Drone log)
	// OnTier, when set, is told each tier as soon as it is decided, so an aborted run can still
	// report what it had proven.
	OnTier func(results.Tier)

	start      time.Time
	deployedAt time.Time // start of the latest deploy: task failures after it count
	seeded     map[string]string
}

// Outcome is what a climb produced, for results.json.
type Outcome struct {
	Tiers          []results.Tier
	UpgradeBase    results.UpgradeBase
	Deploys        int
	FailureExcerpt string
}

// Run climbs the ladder. It never tears down: the caller's teardown funnel does that exactly once.
func (l *Ladder) Run(ctx context.Context) Outcome {
	l.start = time.Now()
	l.seeded = map[string]string{}
	var out Outcome
	add := func(ts ...results.Tier) {
		for _, t := range ts {
			out.Tiers = append(out.Tiers, t)
			if l.OnTier != nil {
				l.OnTier(t)
			}
		}
	}

	base, baseOK, baseReason, err := l.Git.UpgradeBase(ctx, l.Head)
	if err != nil {
		t := l.newTier(results.TierInstall)
		t.unverified("resolve upgrade base: %v", err)
		add(t.done())
		add(notReached(results.TierInstall, results.TierUpgrade, results.TierBackup, results.TierRestore)...)
		return l.finish(out)
	}
	out.UpgradeBase = results.UpgradeBase{Reason: baseReason}
	if baseOK {
		out.UpgradeBase.Version = base.Tag
	}

	install := l.install(ctx, base.Tag, baseOK)
	add(install.done())
	if install.Status != results.Pass {
		out.FailureExcerpt = install.excerpt
		add(notReached(results.TierInstall, results.TierUpgrade, results.TierBackup, results.TierRestore)...)
		return l.finish(out)
	}

	upgrade := l.upgrade(ctx, baseOK, baseReason)
	add(upgrade.done())
	if upgrade.Status != results.Pass && upgrade.Status != results.Skip {
		out.FailureExcerpt = upgrade.excerpt
		add(notReached(results.TierUpgrade, results.TierBackup, results.TierRestore)...)
		return l.finish(out)
	}

	backup, restore := l.backupRestore(ctx)
	add(backup.done(), restore.done())
	for _, t := range []*tier{backup, restore} {
		if out.FailureExcerpt == "" && t.excerpt != "" && t.Status != results.Pass {
			out.FailureExcerpt = t.excerpt
		}
	}
	return l.finish(out)
}

func (l *Ladder) finish(out Outcome) Outcome {
	out.Deploys = l.Abra.Calls()[abra.CmdAppNew]
	l.banner("DONE", "ladder finished")
	return out
}

// notReached marks the tiers after a failed one: never a skip, since nothing was declared away.
func notReached(after string, names ...string) []results.Tier {
	var ts []results.Tier
	for _, n := range names {
		if n == after {
			continue
		}
		ts = append(ts, results.Tier{Name: n, Status: results.Unverified, Reason: "not reached: " + after + " did not pass", Checks: []results.Check{}})
	}
	return ts
}

// banner prints a stage line with the run's elapsed time, so a long run shows progress.
func (l *Ladder) banner(stage, format string, a ...any) {
	fmt.Fprintf(l.Out, "==> [%7.1fs] %-8s %s\n", time.Since(l.start).Seconds(), stage, fmt.Sprintf(format, a...))
}

// step gives one wait or call its own timeout inside the run's context. A zero StepTimeout means
// the run's context alone bounds the step (not a context that has already expired).
func (l *Ladder) step(ctx context.Context) (context.Context, context.CancelFunc) {
	if l.StepTimeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, l.StepTimeout)
}
