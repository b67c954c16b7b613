package ladder

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/abra"
	"coopcloud.tech/cc-ci/internal/recipe"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/swarm"
)

var ladderOrder = []string{results.TierInstall, results.TierUpgrade, results.TierBackup, results.TierRestore}

// climb returns the outcome's tiers by name, requiring exactly the four in ladder order.
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

// assertNotReached checks that every tier after the named one is unverified as not reached.
func assertNotReached(t *testing.T, tiers map[string]results.Tier, after string, names ...string) {
	t.Helper()
	for _, n := range names {
		assert.Equal(t, results.Unverified, tiers[n].Status, n)
		assert.Equal(t, "not reached: "+after+" did not pass", tiers[n].Reason, n)
	}
}

// TestGoodRecipe: a good recipe climbs install, upgrade, backup and restore, with each mutating
// abra call made once.
func TestGoodRecipe(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	out := w.run(t.Context())

	tiers := climb(t, out)
	for _, name := range ladderOrder {
		assert.Equal(t, results.Pass, tiers[name].Status, "%s: %s", name, tiers[name].Reason)
		for _, c := range tiers[name].Checks {
			assert.Equal(t, results.Pass, c.Status, "%s/%s: %s", name, c.Name, c.Detail)
		}
	}
	assert.Equal(t, []string{"app new " + testBase, "deploy " + testBase, "deploy chaos", "backup create", "restore"}, w.Abra.Log())
	assert.Equal(t, abraCall{Cmd: abra.CmdAppNew, Recipe: testRecipe, Version: testBase, Server: testServer, Domain: testDomain}, w.Abra.Got[0])
	for _, c := range w.Abra.Got {
		assert.Equal(t, testDomain, c.Domain, c.String())
	}
	assert.Equal(t, 1, out.Deploys)
	assert.Equal(t, results.UpgradeBase{Version: testBase, Reason: w.Git.BaseReason}, out.UpgradeBase)
	assert.Empty(t, out.FailureExcerpt)
	assert.Equal(t, 3, results.Level(out.Tiers))
	assert.Equal(t, results.VerdictPass, results.Verdict(out.Tiers))

	// The head is checked out only for the upgrade: after the base deploy, before the chaos one.
	assert.Equal(t, []string{
		"git upgrade-base " + testHead,
		"abra app new " + testBase, "abra deploy " + testBase,
		"git checkout " + testHead, "abra deploy chaos",
		"abra backup create", "abra restore",
	}, w.Journal.Entries)
	// Install, upgrade and restore each wait for the stack, with crash-loop detection on.
	require.Len(t, w.Swarm.Waits, 3)
	for _, wc := range w.Swarm.Waits {
		assert.Equal(t, testStack, wc.Stack)
		assert.Positive(t, wc.Opts.CrashThreshold)
	}
	assert.Equal(t, []string{"write ccci-install", "read ccci-install",
		"write ccci-backup", "write ccci-backup", "write ccci-after-backup",
		"read ccci-backup", "read ccci-after-backup"}, w.Data.Calls)
	assert.Equal(t, []string{"preflight", "app new", "deploy", "converged", "version label", "serves its own page", "seed ccci-install", "stayed up"},
		checkNames(tiers[results.TierInstall]))
	assert.Equal(t, []string{"chaos deploy", "converged without rollback", "chaos-version label", "serves its own page", "data survives upgrade", "stayed up"},
		checkNames(tiers[results.TierUpgrade]))
	require.Len(t, w.Swarm.StableChecks, 3, "install, upgrade and restore each end with a stability check")
	assert.True(t, w.Swarm.StableChecks[1].After(w.Swarm.StableChecks[0]) || w.Swarm.StableChecks[1].Equal(w.Swarm.StableChecks[0]),
		"the upgrade's check counts failures since the upgrade's deploy")
	for i, wc := range w.Swarm.Waits[:2] {
		assert.False(t, wc.Opts.Since.IsZero(), "wait %d counts task failures since its deploy started", i)
	}
	assert.Contains(t, w.Out.String(), "RESTORE")
}

// TestFrontDoorHost: every request to the front door carries the app's domain as its Host.
func TestFrontDoorHost(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	out := w.run(t.Context())

	require.Equal(t, results.Pass, climb(t, out)[results.TierRestore].Status)
	hosts := w.Door.Hosts()
	assert.Len(t, hosts, 3, "one request each at install, upgrade and restore")
	for _, h := range hosts {
		assert.Equal(t, testDomain, h)
	}
}

// TestOnePublishedVersion: a recipe with one published version skips the upgrade and installs
// the PR head with chaos.
func TestOnePublishedVersion(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Git.Base = recipe.Release{}
	w.Git.BaseOK = false
	w.Git.BaseReason = "only one published version (1.0.0+1.20.0)"
	out := w.run(t.Context())

	tiers := climb(t, out)
	assert.Equal(t, results.Pass, tiers[results.TierInstall].Status, tiers[results.TierInstall].Reason)
	assert.Equal(t, results.Skip, tiers[results.TierUpgrade].Status)
	assert.Equal(t, "only one published version (1.0.0+1.20.0)", tiers[results.TierUpgrade].Reason)
	assert.Equal(t, results.Pass, tiers[results.TierBackup].Status, tiers[results.TierBackup].Reason)
	assert.Equal(t, results.Pass, tiers[results.TierRestore].Status, tiers[results.TierRestore].Reason)
	assert.Equal(t, results.UpgradeBase{Reason: "only one published version (1.0.0+1.20.0)"}, out.UpgradeBase)
	assert.Equal(t, []string{"app new", "deploy chaos", "backup create", "restore"}, w.Abra.Log())
	assert.Equal(t, 1, out.Deploys)
	// abra app new without a version checks out the newest release: the head must be put
	// back before the chaos deploy, and the deployment must be proven to run it.
	assert.Equal(t, []string{
		"git upgrade-base " + testHead, "abra app new", "git checkout " + testHead, "abra deploy chaos",
		"abra backup create", "abra restore",
	}, w.Journal.Entries)
	assert.Equal(t, results.Pass, checkOf(t, tiers[results.TierInstall], "chaos-version label").Status)
	assert.Equal(t, 3, results.Level(out.Tiers))
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
		assertNotReached(t, tiers, results.TierInstall, results.TierUpgrade, results.TierBackup, results.TierRestore)
		assert.Empty(t, w.Abra.Got)
		assert.Equal(t, 0, out.Deploys)
	})

	t.Run("a zero step timeout leaves the steps bounded by the run alone", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.Step = 0
		out := w.run(t.Context())

		for name, tr := range climb(t, out) {
			assert.Equal(t, results.Pass, tr.Status, "%s: %s", name, tr.Reason)
		}
		assert.Len(t, w.Abra.Got, 5)
	})

	t.Run("the run aborted while install waits for the stack is unverified, not a failing recipe", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		w.Abra.OnDeploy = func(string, bool) { cancel() } // SIGTERM arrives during the deploy
		out := w.run(ctx)

		tiers := climb(t, out)
		assert.Equal(t, results.Unverified, tiers[results.TierInstall].Status)
		assert.Contains(t, tiers[results.TierInstall].Reason, "run aborted")
		assertNotReached(t, tiers, results.TierInstall, results.TierUpgrade, results.TierBackup, results.TierRestore)
		assert.Equal(t, results.VerdictUnverified, results.Verdict(out.Tiers))
	})

	t.Run("a data probe that refuses the seed fails install", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.Data.WriteErr = errors.New("data-write ccci-install: exit status 1: 401 Unauthorized")
		out := w.run(t.Context())

		tiers := climb(t, out)
		assert.Equal(t, results.Fail, tiers[results.TierInstall].Status)
		assert.Contains(t, tiers[results.TierInstall].Reason, "did not accept a datum")
		assert.Contains(t, tiers[results.TierInstall].Reason, "401 Unauthorized")
		assertNotReached(t, tiers, results.TierInstall, results.TierUpgrade, results.TierBackup, results.TierRestore)
	})

	t.Run("the deployed version label not naming the upgrade base fails install", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		deploy := w.Abra.OnDeploy
		w.Abra.OnDeploy = func(version string, chaos bool) {
			deploy(version, chaos)
			w.Swarm.Labels["app"][versionLabel] = "1.0.0+1.20.0"
		}
		out := w.run(t.Context())

		tiers := climb(t, out)
		assert.Equal(t, results.Fail, tiers[results.TierInstall].Status)
		assert.Contains(t, tiers[results.TierInstall].Reason, `is "1.0.0+1.20.0", want "`+testBase+`"`)
		assert.Equal(t, []string{"app new " + testBase, "deploy " + testBase}, w.Abra.Log())
	})
}

func checkNames(tr results.Tier) []string {
	var out []string
	for _, c := range tr.Checks {
		out = append(out, c.Name)
	}
	return out
}

// TestCrashAfterConvergingFailsTheTier: a service that converged and then crashed (caught by the
// stability check) fails the tier, whatever the probes saw while it was up.
func TestCrashAfterConvergingFailsTheTier(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Swarm.StableErr = &swarm.StabilityError{Failures: []swarm.TaskFailure{{Service: testStack + "_app", State: "failed", ExitCode: 1, Err: "task: non-zero exit (1)"}}}
	tiers := climb(t, w.run(t.Context()))

	install := tiers[results.TierInstall]
	assert.Equal(t, results.Fail, install.Status)
	assert.Contains(t, install.Reason, testStack+"_app")
	assert.Equal(t, results.Unverified, tiers[results.TierUpgrade].Status, "later tiers are not reached")
}

// TestStabilityCheckErrorIsUnverified: the Docker API failing during the check is infrastructure.
func TestStabilityCheckErrorIsUnverified(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Swarm.StableErr = errors.New("docker: connection refused")
	tiers := climb(t, w.run(t.Context()))
	assert.Equal(t, results.Unverified, tiers[results.TierInstall].Status)
}
