package ladder

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/abra"
	"coopcloud.tech/cc-ci/internal/recipe"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/swarm"
)

// ladderOrder is every tier of a cold climb, written out here so the test does not take the
// order from the code under test.
var ladderOrder = []string{results.TierInstall, results.TierUpgrade, results.TierBackup, results.TierRestore,
	results.TierFunctional, results.TierLint}

// tiersAfter returns the tiers of a cold climb above name.
func tiersAfter(name string) []string { return ladderOrder[slices.Index(ladderOrder, name)+1:] }

// genericTiers are the tiers a recipe proves with no overlay at all: FUNCTIONAL needs checks the
// maintainer declares, so without them it is a gap (see assertGenericTop).
var genericTiers = []string{results.TierInstall, results.TierUpgrade, results.TierBackup, results.TierRestore}

// goodLog is abra's call log of a good run: the fresh app of the head, then the app installed
// at the base and upgraded to the head, backed up and restored from its own snapshot.
var goodLog = []string{
	"fresh: app new --chaos",
	"fresh: deploy --chaos",
	"upgrade: app new " + testBase,
	"upgrade: deploy " + testBase,
	"upgrade: deploy --chaos",
	"upgrade: backup create",
	"upgrade: restore 5a7e0001",
}

// bothApps is Outcome.Apps when each app was created once.
var bothApps = []results.App{
	{Role: results.RoleFresh, Domain: freshDomain, AppNew: 1},
	{Role: results.RoleUpgrade, Domain: upgradeDomain, AppNew: 1},
}

// climb returns the outcome's tiers by name, requiring exactly the six in ladder order.
func climb(t *testing.T, out Outcome) map[string]results.Tier {
	t.Helper()
	var names []string
	byName := map[string]results.Tier{}
	for _, tr := range out.Tiers {
		names = append(names, tr.Name)
		byName[tr.Name] = tr
	}
	require.Equal(t, ladderOrder, names, "tiers in ladder order")
	return byName
}

// checkOf returns the tier's check with the given name.
func checkOf(t *testing.T, tr results.Tier, name string) results.Check {
	t.Helper()
	for _, c := range tr.Checks {
		if c.Name == name {
			return c
		}
	}
	require.Failf(t, "missing check", "tier %s has no check %q: %+v", tr.Name, name, tr.Checks)
	return results.Check{}
}

func checkNames(tr results.Tier) []string {
	var out []string
	for _, c := range tr.Checks {
		out = append(out, c.Name)
	}
	return out
}

// assertGenericTop checks the top of a climb with no functional checks declared: FUNCTIONAL is a
// gap (it never holds a rung, and says what would lift it), and LINT still ran and passed.
func assertGenericTop(t *testing.T, tiers map[string]results.Tier) {
	t.Helper()
	fn := tiers[results.TierFunctional]
	assert.True(t, fn.Gap(), "functional is a gap without declared checks: %s %s", fn.Status, fn.Reason)
	assert.Equal(t, "no functional checks are declared for this recipe", fn.Reason)
	assert.Equal(t, liftFunctional, fn.Lift)
	lint := tiers[results.TierLint]
	assert.Equal(t, results.Pass, lint.Status, "lint: %s", lint.Reason)
	assert.Equal(t, results.Pass, checkOf(t, lint, "lint rules").Status)
}

// assertNotReached checks that every tier after the named one is unverified as not reached.
func assertNotReached(t *testing.T, tiers map[string]results.Tier, after string, names ...string) {
	t.Helper()
	for _, n := range names {
		assert.Equal(t, results.Unverified, tiers[n].Status, n)
		assert.Equal(t, "not reached: "+after+" did not pass", tiers[n].Reason, n)
	}
}

// TestGoodRecipe: a good recipe climbs install (a fresh app of the head), upgrade (a second
// app, from the base to the head, data carried across), backup and restore (on the upgraded
// app), each app created once and each mutating call made once; with no overlay FUNCTIONAL is a
// gap that caps the level at 3, and lint runs on the head.
func TestGoodRecipe(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	out := w.run(t.Context())

	tiers := climb(t, out)
	for _, name := range ladderOrder {
		assert.Empty(t, tiers[name].Warnings, name)
		for _, c := range tiers[name].Checks {
			assert.Equal(t, results.Pass, c.Status, "%s/%s: %s", name, c.Name, c.Detail)
		}
	}
	for _, name := range genericTiers {
		assert.Equal(t, results.Pass, tiers[name].Status, "%s: %s", name, tiers[name].Reason)
	}
	assertGenericTop(t, tiers)
	assert.Equal(t, out.Tiers, w.Decided, "OnTier is told every tier, in order")
	assert.Equal(t, 3, results.Level(out.Tiers))
	if capped := results.CappedBy(out.Tiers); assert.NotNil(t, capped) {
		assert.Equal(t, results.TierFunctional, capped.Name, "the level is capped by the functional gap")
	}
	assert.Equal(t, 1, w.Abra.Lints)
	assert.Equal(t, map[string]string{"lint": LintFile}, out.Artifacts, "no checker: no screenshot, only lint.txt")
	assert.Empty(t, out.Warnings)
	assert.Equal(t, results.VerdictPass, results.Verdict(out.Tiers))
	assert.Empty(t, out.FailureExcerpt)
	assert.Equal(t, results.UpgradeBase{Version: testBase, Reason: baseReason}, out.UpgradeBase)
	assert.Equal(t, bothApps, out.Apps)
	assert.Equal(t, 2, out.Deploys)

	assert.Equal(t, goodLog, w.Abra.Log())
	assert.Equal(t, abraCall{Cmd: abra.CmdAppNew, Recipe: testRecipe, Server: testServer, Domain: freshDomain, Chaos: true}, w.Abra.Got[0],
		"the fresh app is the PR head: app new with chaos and no version")
	assert.Equal(t, abraCall{Cmd: abra.CmdAppNew, Recipe: testRecipe, Version: testBase, Server: testServer, Domain: upgradeDomain}, w.Abra.Got[2],
		"the upgrade app starts at the base release")
	// The head is checked out before the fresh app is created (its .env comes from the head's
	// .env.sample), again after the base is marked, before the upgrade's chaos deploy, and last
	// for lint, which reads the checkout.
	assert.Equal(t, []string{
		"git upgrade-base " + testHead,
		"git checkout " + testHead,
		"abra fresh: app new --chaos",
		"abra fresh: deploy --chaos",
		"abra upgrade: app new " + testBase,
		"abra upgrade: deploy " + testBase,
		"floor upgrade: mark volumes",
		"data upgrade: write ccci-install",
		"git checkout " + testHead,
		"abra upgrade: deploy --chaos",
		"floor upgrade: check volumes",
		"data upgrade: read ccci-install",
		"floor upgrade: mark backup paths",
		"data upgrade: write ccci-backup",
		"abra upgrade: backup create",
		"floor upgrade: mutate backup paths",
		"data upgrade: write ccci-backup",
		"data upgrade: write ccci-after-backup",
		"abra upgrade: restore 5a7e0001",
		"floor upgrade: check backup paths",
		"data upgrade: read ccci-backup",
		"data upgrade: read ccci-after-backup",
		"git checkout " + testHead,
		"abra recipe lint " + testRecipe,
	}, w.Journal.Entries)
	assert.Empty(t, w.Floors[freshStack].Calls, "the fresh app's data is not the upgrade's nor the backup's")

	assert.Equal(t, []string{"preflight", "app new", "deploy", "converged", "chaos-version label", "serves its own page", "stayed up"},
		checkNames(tiers[results.TierInstall]))
	assert.Equal(t, []string{"app new", "deploy base", "base converged", "base version label", "serves its own page",
		"mark volumes", "seed ccci-install", "new configuration",
		"chaos deploy", "converged without rollback", "chaos-version label", "serves its own page",
		"volumes survive upgrade", "data survives upgrade", "stayed up"},
		checkNames(tiers[results.TierUpgrade]))
	assert.Equal(t, []string{"backups declared", "mark backup paths", "seed ccci-backup", "backup create"},
		checkNames(tiers[results.TierBackup]))
	assert.Equal(t, []string{"mutate backup paths", "mutate", "restore", "converged after restore", "serves its own page",
		"backed-up paths restored", "seeded datum restored", "mutation gone", "stayed up"},
		checkNames(tiers[results.TierRestore]))
	assert.Empty(t, checkNames(tiers[results.TierFunctional]))
	assert.Equal(t, []string{"lint rules"}, checkNames(tiers[results.TierLint]))

	// Install, the base, the upgrade and the restore each wait for their stack, with crash-loop
	// detection on, counting task failures since their deploy began.
	var waited []string
	for _, wc := range w.Swarm.Waits {
		waited = append(waited, roleOf(wc.Stack))
		assert.Positive(t, wc.Opts.CrashThreshold)
		assert.False(t, wc.Opts.Since.IsZero(), "a wait counts task failures since its deploy began")
	}
	assert.Equal(t, []string{"fresh", "upgrade", "upgrade", "upgrade"}, waited)
	var checked []string
	for _, sc := range w.Swarm.StableChecks {
		checked = append(checked, roleOf(sc.Stack))
	}
	assert.Equal(t, []string{"fresh", "upgrade", "upgrade"}, checked, "install, upgrade and restore each end with a stability check")
	assert.Contains(t, w.Out.String(), "RESTORE")
}

// TestStabilitySinceConvergence: each stability check counts task failures from the moment its
// stack converged (Convergence.At), not from the deploy: a restart before convergence is a
// warning, never a failure counted twice.
func TestStabilitySinceConvergence(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	require.Equal(t, 3, results.Level(w.run(t.Context()).Tiers))

	require.Len(t, w.Swarm.StableChecks, 3)
	for i, sc := range w.Swarm.StableChecks {
		at := w.Swarm.convergedAt(sc)
		require.False(t, at.IsZero(), "check %d follows a wait of its stack", i)
		assert.True(t, sc.Since.Equal(at), "check %d of %s: since %s, want the convergence at %s", i, sc.Stack, sc.Since, at)
	}
}

// TestFrontDoorHost: every request to the front door carries the domain of the app it judges.
func TestFrontDoorHost(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	out := w.run(t.Context())

	require.Equal(t, results.Pass, climb(t, out)[results.TierRestore].Status)
	assert.Equal(t, []string{freshDomain, upgradeDomain, upgradeDomain, upgradeDomain}, w.Door.Hosts(),
		"one request each: the fresh install, the base, the upgraded app, the restored app")
}

// TestEachAppCreatedOnce: whatever happens, no app is created twice, and the outcome reports
// each app the run made with its `app new` count (the deploy-count guard).
func TestEachAppCreatedOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		world    func(w *world)
		wantApps []results.App
	}{
		{name: "a good run creates the fresh app and the upgrade app once each",
			world: func(*world) {}, wantApps: bothApps},
		{name: "an install that fails creates only the fresh app",
			world: func(w *world) {
				w.Swarm.WaitErrs = map[string][]error{freshStack: {&swarm.TimeoutError{Stack: freshStack}}}
			},
			wantApps: bothApps[:1]},
		{name: "an app new that fails still counts, and is not retried",
			world: func(w *world) {
				w.Abra.Errs = map[string]map[string][]error{freshDomain: {abra.CmdAppNew: {abraExit([]string{"app", "new"}, "FATA boom")}}}
			},
			wantApps: bothApps[:1]},
		{name: "a base that does not come up creates the upgrade app once, and backup uses the fresh app",
			world: func(w *world) {
				w.Swarm.WaitErrs = map[string][]error{upgradeStack: {&swarm.TimeoutError{Stack: upgradeStack}}}
			},
			wantApps: bothApps},
		{name: "no upgrade base creates only the fresh app",
			world:    func(w *world) { w.Git.Base, w.Git.BaseOK = recipe.Base{Reason: "no release"}, false },
			wantApps: bothApps[:1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tt.world(w)
			out := w.run(t.Context())

			assert.Equal(t, tt.wantApps, out.Apps)
			assert.Equal(t, len(tt.wantApps), out.Deploys)
			for domain, n := range w.Abra.AppNews() {
				assert.Equal(t, 1, n, domain)
			}
		})
	}
}

// TestUpgradeBaseCommit: a base that is a commit (the default branch's tip) is checked out and
// installed with chaos, and proven by its chaos-version label, before the head is.
func TestUpgradeBaseCommit(t *testing.T) {
	t.Parallel()
	const tip = "fedcba9876543210fedcba9876543210fedcba98"
	w := newWorld(t)
	w.Git.Base = recipe.Base{Commit: tip, Reason: "no release is an ancestor of the head; the default branch's tip " + tip[:8] + " is"}
	out := w.run(t.Context())

	tiers := climb(t, out)
	for _, name := range genericTiers {
		assert.Equal(t, results.Pass, tiers[name].Status, "%s: %s", name, tiers[name].Reason)
	}
	assertGenericTop(t, tiers)
	assert.Equal(t, results.UpgradeBase{Commit: tip, Reason: w.Git.Base.Reason}, out.UpgradeBase)
	assert.Equal(t, []string{"fresh: app new --chaos", "fresh: deploy --chaos",
		"upgrade: app new --chaos", "upgrade: deploy --chaos", "upgrade: deploy --chaos",
		"upgrade: backup create", "upgrade: restore 5a7e0001"}, w.Abra.Log())
	assert.Equal(t, []string{testHead, tip, testHead, testHead}, w.Git.Checkouts, "the head, the base, the head to upgrade to, the head to lint")
	assert.Contains(t, checkOf(t, tiers[results.TierUpgrade], "chaos-version label").Detail, tip[:8],
		"the base's label names the base commit")
	assert.Equal(t, bothApps, out.Apps)
}

// TestRun covers the ways a climb stops before the recipe is at fault, or at install.
func TestRun(t *testing.T) {
	t.Parallel()

	t.Run("the upgrade base cannot be resolved: install is unverified and nothing is deployed", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.Git.BaseErr = errors.New("git tag --merged: exit status 128")
		out := w.run(t.Context())

		tiers := climb(t, out)
		assert.Equal(t, results.Unverified, tiers[results.TierInstall].Status)
		assert.Contains(t, tiers[results.TierInstall].Reason, "resolve upgrade base: git tag --merged")
		assertNotReached(t, tiers, results.TierInstall, tiersAfter(results.TierInstall)...)
		assert.Empty(t, w.Abra.Got)
		assert.Empty(t, out.Apps)
		assert.Equal(t, 0, out.Deploys)
	})

	t.Run("a zero step timeout leaves the steps bounded by the run alone", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.Step = 0
		out := w.run(t.Context())

		tiers := climb(t, out)
		for _, name := range genericTiers {
			assert.Equal(t, results.Pass, tiers[name].Status, "%s: %s", name, tiers[name].Reason)
		}
		assertGenericTop(t, tiers)
		assert.Equal(t, goodLog, w.Abra.Log())
	})

	t.Run("the run aborted while install waits for the stack is unverified, not a failing recipe", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		w.Abra.OnDeploy = func(string, string, bool) { cancel() } // SIGTERM arrives during the deploy
		out := w.run(ctx)

		tiers := climb(t, out)
		assert.Equal(t, results.Unverified, tiers[results.TierInstall].Status)
		assert.Contains(t, tiers[results.TierInstall].Reason, "run aborted")
		assertNotReached(t, tiers, results.TierInstall, tiersAfter(results.TierInstall)...)
		assert.Equal(t, results.VerdictUnverified, results.Verdict(out.Tiers))
	})

	t.Run("the head that cannot be checked out leaves install unverified before app new", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.Git.CheckoutErrs = []error{errors.New("git checkout: unable to write new index file")}
		out := w.run(t.Context())

		tiers := climb(t, out)
		assert.Equal(t, results.Unverified, tiers[results.TierInstall].Status)
		assert.Contains(t, tiers[results.TierInstall].Reason, "check out 01234567: git checkout: unable to write new index file")
		assert.Empty(t, w.Abra.Got, "nothing is created from an unknown tree")
		assert.Equal(t, []results.App{{Role: results.RoleFresh, Domain: freshDomain}}, out.Apps, "the app is reported with no app new")
		assert.Equal(t, 0, out.Deploys)
	})
}

// TestCrashAfterConvergingFailsTheTier: a service that converged and then crashed (caught by the
// stability check) fails the tier, whatever the probes saw while it was up.
func TestCrashAfterConvergingFailsTheTier(t *testing.T) {
	t.Parallel()
	crashed := func(stack string) error {
		return &swarm.StabilityError{Failures: []swarm.TaskFailure{{Service: stack + "_app", State: "failed", ExitCode: 1, Err: "task: non-zero exit (1)"}}}
	}
	tests := []struct {
		name  string
		stack string
		tier  string
	}{
		{name: "the fresh app crashing after it converged fails install", stack: freshStack, tier: results.TierInstall},
		{name: "the upgraded app crashing after it converged fails upgrade", stack: upgradeStack, tier: results.TierUpgrade},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.Swarm.StableErrs = map[string]error{tt.stack: crashed(tt.stack)}
			tiers := climb(t, w.run(t.Context()))

			got := tiers[tt.tier]
			assert.Equal(t, results.Fail, got.Status)
			assert.Contains(t, got.Reason, tt.stack+"_app: task failed after converging")
			assert.Equal(t, results.Fail, checkOf(t, got, "stayed up").Status)
			assert.Equal(t, results.Unverified, tiers[results.TierBackup].Status, "later tiers are not reached")
		})
	}
}

// TestStabilityCheckErrorIsUnverified: the Docker API failing during the check is infrastructure.
func TestStabilityCheckErrorIsUnverified(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Swarm.StableErrs = map[string]error{freshStack: errors.New("docker: connection refused")}
	tiers := climb(t, w.run(t.Context()))
	assert.Equal(t, results.Unverified, tiers[results.TierInstall].Status)
	assert.Contains(t, tiers[results.TierInstall].Reason, "stayed up: docker: connection refused")
}
