package ladder

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/abra"
	"coopcloud.tech/cc-ci/internal/results"
)

// warmRef is the commit the warm app runs before a quick run.
const warmRef = "fedcba9876543210fedcba9876543210fedcba98"

// warmWorld is a world whose upgrade app stands in for an existing warm app: its .env written
// as app new would have, its datum seeded when it was created, backups declared.
func warmWorld(t *testing.T) (*world, Warm) {
	t.Helper()
	w := newWorld(t)
	w.Overlay = overlayOf(t, "http_checks:\n  - {name: home, path: /}\n")
	w.withChecker()
	sample, err := os.ReadFile(filepath.Join(w.RecipeDir, ".env.sample"))
	require.NoError(t, err)
	env := strings.ReplaceAll(string(sample), testRecipe+".example.com", upgradeDomain)
	require.NoError(t, os.WriteFile(filepath.Join(w.ServerDir, upgradeDomain+".env"), []byte(env), 0o600))
	w.Data.Values[upgradeDomain] = map[string]string{keyWarm: "seeded-when-created"}
	return w, Warm{Domain: upgradeDomain, Ref: warmRef, Seeded: map[string]string{keyWarm: "seeded-when-created"}}
}

func TestAQuickRunUpgradesTheWarmAppAndKeepsItOnAPass(t *testing.T) {
	t.Parallel()
	w, warm := warmWorld(t)
	l := w.ladder()
	out, wr := l.RunQuick(context.Background(), warm)

	tiers := map[string]results.Tier{}
	for _, tr := range out.Tiers {
		tiers[tr.Name] = tr
	}
	require.Len(t, tiers, len(coldTiers), "every tier is reported")
	for _, name := range []string{results.TierInstall, results.TierBackup, results.TierRestore} {
		assert.True(t, tiers[name].Gap(), "%s is a gap in a quick run, never declared", name)
		assert.Contains(t, tiers[name].Lift, "`!testme`")
	}
	up := tiers[results.TierUpgrade]
	require.Equal(t, results.Pass, up.Status, up.Reason)
	assert.Equal(t, results.Pass, checkOf(t, up, "warm data survives").Status, "the datum seeded at creation is read back")
	assert.Equal(t, results.Pass, checkOf(t, up, "last-known-good snapshot").Status)
	assert.Equal(t, results.Pass, tiers[results.TierFunctional].Status)
	assert.Equal(t, results.Pass, tiers[results.TierLint].Status)
	assert.Equal(t, 0, results.Level(out.Tiers), "a quick run proves no install")
	assert.Equal(t, results.VerdictPass, results.Verdict(out.Tiers))

	assert.Equal(t, []string{"upgrade: backup create", "upgrade: deploy --chaos"}, w.Abra.Log(), "no app new: the warm app is reused")
	assert.Equal(t, []results.App{{Role: results.RoleWarm, Domain: upgradeDomain, AppNew: 0}}, out.Apps)
	assert.Equal(t, 0, out.Deploys)
	assert.True(t, wr.Keep)
	assert.False(t, wr.Broken)
	assert.Equal(t, testHead, wr.Warm.Ref, "the warm app now runs the head")
	assert.Equal(t, warm.Seeded, wr.Warm.Seeded, "its datum stays the one seeded at creation")
}

func TestAFailedQuickRunPutsTheWarmAppBack(t *testing.T) {
	t.Parallel()
	w, warm := warmWorld(t)
	w.Check.Outcomes = map[string]CheckOutcome{}
	w.Check.HTTPRows = map[string]results.Check{"home": {Name: "home", Status: results.Fail, Detail: "HTTP 500"}}
	out, wr := w.ladder().RunQuick(context.Background(), warm)

	assert.Equal(t, results.VerdictFail, results.Verdict(out.Tiers))
	assert.Equal(t, []string{"upgrade: backup create", "upgrade: deploy --chaos", "upgrade: deploy --chaos", "upgrade: restore 5a7e0001"}, w.Abra.Log(),
		"the warm app is redeployed at its last good commit and its snapshot restored")
	assert.True(t, wr.Keep)
	assert.Equal(t, warmRef, wr.Warm.Ref, "the warm app stays at its last good commit")
	assert.Contains(t, wr.Note, "put back to its last good commit "+short(warmRef)+" and snapshot 5a7e0001")
	assert.Equal(t, testHead, w.Tree.Ref, "the checkout is back at the head")
}

func TestAWarmAppThatCannotBePutBackIsBroken(t *testing.T) {
	t.Parallel()
	w, warm := warmWorld(t)
	delete(w.Data.Values[upgradeDomain], keyWarm) // the upgrade lost the warm datum
	w.Abra.Errs = map[string]map[string][]error{upgradeDomain: {abra.CmdRestore: {&abra.Error{Args: []string{"app", "restore"}, ExitCode: 1, Err: errors.New("exit status 1")}}}}
	out, wr := w.ladder().RunQuick(context.Background(), warm)

	up := out.Tiers[1]
	require.Equal(t, results.TierUpgrade, up.Name)
	assert.Equal(t, results.Fail, up.Status)
	assert.Contains(t, up.Reason, "gone after upgrading it to the PR head")
	assert.True(t, wr.Broken, "a warm app that could not be put back is removed")
	assert.False(t, wr.Keep)
	assert.Contains(t, wr.Note, "falls back to a cold run")
}

func TestAnAbortedQuickRunLeavesTheWarmAppToTheTeardown(t *testing.T) {
	t.Parallel()
	w, warm := warmWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out, wr := w.ladder().RunQuick(ctx, warm)
	assert.NotEqual(t, results.VerdictPass, results.Verdict(out.Tiers))
	assert.True(t, wr.Broken)
	assert.Empty(t, w.Abra.Log(), "nothing starts once the run is aborted")
}

func TestCreateWarmSeedsTheWarmAppOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	l := w.ladder()
	wr := l.CreateWarm(context.Background(), freshDomain)
	out := l.Recount(Outcome{})

	require.True(t, wr.Keep, wr.Note)
	assert.NotEmpty(t, wr.Warm.Seeded[keyWarm], "the datum later quick runs must find")
	assert.Equal(t, w.Data.Values[freshDomain][keyWarm], wr.Warm.Seeded[keyWarm], "the datum is the one written into the app")
	assert.Equal(t, testHead, wr.Warm.Ref)
	assert.Equal(t, []string{"fresh: app new --chaos", "fresh: deploy --chaos"}, w.Abra.Log())
	assert.Equal(t, []results.App{{Role: results.RoleWarm, Domain: freshDomain, AppNew: 1}}, out.Apps)
	assert.Equal(t, 1, out.Deploys, "the warm app's app new is counted, once")
}

func TestAWarmAppThatDoesNotComeUpIsRemoved(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Abra.Errs = map[string]map[string][]error{freshDomain: {abra.CmdAppDeploy: {&abra.Error{Args: []string{"app", "deploy"}, ExitCode: 1, Err: errors.New("exit status 1")}}}}
	wr := w.ladder().CreateWarm(context.Background(), freshDomain)
	assert.True(t, wr.Broken)
	assert.Contains(t, wr.Note, "could not be created")
}
