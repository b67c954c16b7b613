package e2e_test

// The cases of issue 7, each on the real swarm: the realistic notes recipe with no overlay, and
// one sample variant per numbered case. Each test asserts what a maintainer must see: the
// verdict, the level, the tier that failed or the gap that caps the level, and words of its reason.

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/testkit"
	"coopcloud.tech/cc-ci/plugin/overlay"
)

// caseOpts are the run settings a case changes; zero values keep what PrepareE2E set up.
type caseOpts struct {
	overlays  string   // CCCI_OVERLAYS_DIR
	frontDoor string   // CCCI_FRONTDOOR_URL
	extra     []string // more of the plugin's environment
}

// caseRun is one run's outcome plus its summary.md.
type caseRun struct {
	run
	summary string
}

// runCase runs the plugin on rec's PR head as runPlugin does, with the case's settings.
func runCase(t *testing.T, rec testkit.Recipe, pr string, o caseOpts) caseRun {
	t.Helper()
	var extra []string
	if o.overlays != "" {
		extra = append(extra, "CCCI_OVERLAYS_DIR="+o.overlays)
	}
	if o.frontDoor != "" {
		extra = append(extra, "CCCI_FRONTDOOR_URL="+o.frontDoor)
	}
	extra = append(extra, o.extra...)
	return runWith(t, rec.Src, rec.Head, pr, extra...)
}

// requireVerdict checks the exit code, the verdict and the level together.
func requireVerdict(t *testing.T, r caseRun, code int, verdict string, level int) {
	t.Helper()
	require.Equal(t, code, r.code, "exit code:\n%s", r.output)
	require.NotNil(t, r.results, "no results.json was written:\n%s", r.output)
	assert.Equal(t, verdict, r.results.Verdict)
	assert.Equal(t, level, r.results.Level)
}

// assertFailedAt checks that name failed with a reason matching reason, and no other tier failed.
func assertFailedAt(t *testing.T, r caseRun, name, reason string) {
	t.Helper()
	got := tier(t, r.run, name)
	assert.Equal(t, results.Fail, got.Status, "tier %s: %s", name, got.Reason)
	assert.Regexp(t, reason, got.Reason)
	for _, other := range r.results.Tiers {
		if other.Name != name {
			assert.NotEqual(t, results.Fail, other.Status, "only %s may fail, but %s did: %s", name, other.Name, other.Reason)
		}
	}
}

// assertGap checks that name is a skip the ladder decided (not declared), with its reason and
// what would lift it.
func assertGap(t *testing.T, r caseRun, name, reason string) {
	t.Helper()
	got := tier(t, r.run, name)
	assert.Equal(t, results.Skip, got.Status, "tier %s: %s", name, got.Reason)
	assert.False(t, got.Declared, "a skip the ladder decided by itself is a gap, never declared")
	assert.Regexp(t, reason, got.Reason)
	assert.NotEmpty(t, got.Lift, "a gap says what would lift the level")
}

func assertPassed(t *testing.T, r caseRun, names ...string) {
	t.Helper()
	for _, name := range names {
		got := tier(t, r.run, name)
		assert.Equal(t, results.Pass, got.Status, "tier %s: %s", name, got.Reason)
	}
}

var climbed = []string{results.TierInstall, results.TierUpgrade, results.TierBackup, results.TierRestore}

func makeNotes(t *testing.T) testkit.Recipe {
	t.Helper()
	r, err := testkit.MakeNotesRecipe(filepath.Join(t.TempDir(), testkit.NotesName))
	require.NoError(t, err)
	return r
}

// sampleOverlays returns an overlays dir holding the repo's sample overlay plus cfg as its
// config file (cc-ci.yml); cfg "" copies the overlay alone.
func sampleOverlays(t *testing.T, cfg string) string {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(root, testkit.RecipeName), os.DirFS(filepath.Join(env.Overlays, testkit.RecipeName))))
	if cfg != "" {
		require.NoError(t, os.WriteFile(filepath.Join(root, testkit.RecipeName, overlay.FileName), []byte(cfg), 0o644))
	}
	return root
}

func TestRealisticRecipeReachesLevel3WithNoOverlay(t *testing.T) {
	t.Parallel()
	_, err := os.Stat(filepath.Join(env.Overlays, testkit.NotesName))
	require.ErrorIs(t, err, os.ErrNotExist, "cc-ci ships no overlay for the notes recipe: the generic ladder must do")
	rec := makeNotes(t)
	r := runCase(t, rec, "7", caseOpts{})
	requireVerdict(t, r, 0, results.VerdictPass, 3)
	assertPassed(t, r, climbed...)
	assert.Equal(t, testkit.NotesTag2, r.results.UpgradeBase.Version)
	assert.True(t, r.results.Teardown.Clean)
	assert.Equal(t, 2, r.results.Deploys, "one app new per app")
	for _, src := range r.results.Manifest {
		assert.NotContains(t, src, filepath.Join("recipes", testkit.NotesName), "no overlay may be in effect")
	}
	for _, tr := range r.results.Tiers {
		if tr.Name == results.TierLint {
			continue // abra's lint warnings are listed there; they are no restart
		}
		assert.Empty(t, tr.Warnings, "tier %s: the realistic recipe boots without a restart", tr.Name)
	}
}

// TestCasesThatMustPassAtLevel3 holds the good cases: each variant must climb the whole ladder.
func TestCasesThatMustPassAtLevel3(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		variant testkit.Variant
		check   func(t *testing.T, r caseRun)
	}{
		{name: "today's per-volume backup labels are backed up and restored", variant: testkit.VolumeSpecLabels},
		{name: "DOCKER_HOST in the recipe's env never steers the CI's docker", variant: testkit.DockerHostInEnv},
		{name: "a release on a side branch is never the upgrade base", variant: testkit.SideBranchRelease,
			check: func(t *testing.T, r caseRun) {
				assert.Equal(t, testkit.Tag1, r.results.UpgradeBase.Version,
					"the newest release that is an ancestor of the head, not %s", testkit.SideTag)
				assert.Contains(t, r.results.UpgradeBase.Reason, "ancestor")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCase(t, makeRecipe(t, tt.variant), "7", caseOpts{})
			requireVerdict(t, r, 0, results.VerdictPass, 3)
			assertPassed(t, r, climbed...)
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

// TestTheGenericFloorCatchesALostVolumeWithNoOverlay: with no data probe at all, an upgrade that
// mounts a new volume still fails UPGRADE, on the floor's marker in every named volume.
func TestTheGenericFloorCatchesALostVolumeWithNoOverlay(t *testing.T) {
	t.Parallel()
	r := runCase(t, makeRecipe(t, testkit.UpgradeLosesData), "7", caseOpts{overlays: t.TempDir()})
	requireVerdict(t, r, 1, results.VerdictFail, 1)
	assertFailedAt(t, r, results.TierUpgrade, `(?i)volume`)
}

func TestNoBackupLabelsCapsTheLevelAt2WithAGap(t *testing.T) {
	t.Parallel()
	r := runCase(t, makeRecipe(t, testkit.NoBackupLabels), "7", caseOpts{})
	requireVerdict(t, r, 0, results.VerdictPass, 2)
	assertPassed(t, r, results.TierInstall, results.TierUpgrade)
	assertGap(t, r, results.TierBackup, `backupbot`)
	assert.Contains(t, r.summary, "capped", "the summary says the level is capped and what would lift it")
}

func TestNoReleaseCapsTheLevelAt1WithAGap(t *testing.T) {
	t.Parallel()
	r := runCase(t, makeRecipe(t, testkit.NoRelease), "7", caseOpts{})
	requireVerdict(t, r, 0, results.VerdictPass, 1)
	assertPassed(t, r, results.TierInstall)
	assertGap(t, r, results.TierUpgrade, `(?i)no (published )?release|upgrade base`)
	assert.Empty(t, r.results.UpgradeBase.Version)
	assert.Regexp(t, `(?i)no (published )?release|upgrade base`, r.results.UpgradeBase.Reason)
}

func TestRedirectToThePlaceholderDomainFailsInstallNamingTheLocation(t *testing.T) {
	t.Parallel()
	r := runCase(t, makeRecipe(t, testkit.PlaceholderRedirect), "7", caseOpts{})
	requireVerdict(t, r, 1, results.VerdictFail, 0)
	assertFailedAt(t, r, results.TierInstall, regexp.QuoteMeta(testkit.PlaceholderURL+"/"))
}

func TestRedirectToSSOIsTheAppsOwnPageOnlyWhenTheOverlayNamesTheHost(t *testing.T) {
	t.Parallel()
	rec := makeRecipe(t, testkit.SSORedirect)
	tests := []struct {
		name     string
		cfg      string
		wantCode int
	}{
		{"without redirect_hosts the off-host redirect fails INSTALL naming the host", "", 1},
		{"with the SSO host in redirect_hosts the recipe passes", "redirect_hosts: [" + testkit.SSOHost + "]\n", 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCase(t, rec, strconv.Itoa(70+i), caseOpts{overlays: sampleOverlays(t, tt.cfg)})
			if tt.wantCode == 0 {
				requireVerdict(t, r, 0, results.VerdictPass, 3)
				assertPassed(t, r, climbed...)
				return
			}
			requireVerdict(t, r, 1, results.VerdictFail, 0)
			assertFailedAt(t, r, results.TierInstall, regexp.QuoteMeta(testkit.SSOHost))
		})
	}
}

func TestAHeadThatBreaksAFreshInstallFailsInstall(t *testing.T) {
	t.Parallel()
	r := runCase(t, makeRecipe(t, testkit.FreshInstallBroken), "7", caseOpts{})
	requireVerdict(t, r, 1, results.VerdictFail, 0)
	got := tier(t, r.run, results.TierInstall)
	assert.Equal(t, results.Fail, got.Status, got.Reason)
	assert.Regexp(t, `(?i)crash|exit|migrate`, got.Reason)
}

func TestAHeadThatFixesABrokenReleaseIsNotFailed(t *testing.T) {
	t.Parallel()
	r := runCase(t, makeRecipe(t, testkit.FixedHeadBrokenBase), "7", caseOpts{})
	require.NotNil(t, r.results, r.output)
	assert.NotEqual(t, 1, r.code, "the recipe's head is fine: its broken base is not its fault")
	assert.NotEqual(t, results.VerdictFail, r.results.Verdict)
	assertPassed(t, r, results.TierInstall)
	up := tier(t, r.run, results.TierUpgrade)
	assert.True(t, up.Gap() || up.Status == results.Unverified,
		"the upgrade is not proven (a gap or unverified), never failed: %s %s", up.Status, up.Reason)
	assert.Contains(t, up.Reason, testkit.Tag2, "the reason names the broken base")
	assert.Equal(t, 1, r.results.Level)
}

func TestEnvSampleWithoutDomainFailsInstallBeforeDeploying(t *testing.T) {
	t.Parallel()
	r := runCase(t, makeRecipe(t, testkit.NoDomain), "7", caseOpts{})
	requireVerdict(t, r, 1, results.VerdictFail, 0)
	assertFailedAt(t, r, results.TierInstall, `\.env\.sample`)
	assert.Regexp(t, `\bDOMAIN\b`, tier(t, r.run, results.TierInstall).Reason)
	for _, tr := range r.results.Tiers {
		for _, c := range tr.Checks {
			if strings.Contains(c.Name, "deploy") {
				assert.NotEqual(t, results.Pass, c.Status, "nothing may be deployed: %s %s", tr.Name, c.Name)
			}
		}
	}
}

func TestAPRThatAddsASecretAndAnEnvKeyUpgradesAndSaysWhatItNeeds(t *testing.T) {
	t.Parallel()
	r := runCase(t, makeRecipe(t, testkit.NewSecretAndEnv), "7", caseOpts{})
	requireVerdict(t, r, 0, results.VerdictPass, 3)
	assertPassed(t, r, climbed...)
	for _, need := range []string{"new secret " + testkit.NewSecret, "new env " + testkit.NewEnv} {
		assert.Contains(t, r.results.UpgradeBase.Needs, need)
		assert.Contains(t, r.summary, need)
	}
}

func TestOneRestartWhileBootingPassesWithAWarning(t *testing.T) {
	t.Parallel()
	r := runCase(t, makeRecipe(t, testkit.BootRestart), "7", caseOpts{})
	requireVerdict(t, r, 0, results.VerdictPass, 3)
	assertPassed(t, r, climbed...)
	var warnings []string
	for _, tr := range r.results.Tiers {
		warnings = append(warnings, tr.Warnings...)
	}
	assert.Regexp(t, `(?i)restart`, strings.Join(warnings, "\n"), "the restart is reported")
	assert.Regexp(t, `(?i)restart`, r.summary)
}

func TestAnEmptyButValidDumpFailsRestore(t *testing.T) {
	t.Parallel()
	r := runCase(t, makeRecipe(t, testkit.EmptyValidDump), "7", caseOpts{})
	requireVerdict(t, r, 1, results.VerdictFail, 2)
	assertPassed(t, r, results.TierInstall, results.TierUpgrade)
	assertFailedAt(t, r, results.TierRestore, `restore`)
}

func TestAFrontDoorThatIsDownIsTheBoxesFaultExit3(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	// Its own PR number: the Good recipe's commits are the same in every test, so PR and head
	// name the apps, and another test's run of the Good recipe must not share them.
	r := runCase(t, makeRecipe(t, testkit.Good), "90", caseOpts{frontDoor: closed})
	require.Equal(t, 3, r.code, r.output)
	assert.Contains(t, r.output, closed, "the message names the front door")
	if r.results != nil {
		assert.Equal(t, results.VerdictUnverified, r.results.Verdict)
		for _, tr := range r.results.Tiers {
			assert.NotEqual(t, results.Fail, tr.Status, "the box's fault is never the recipe's: %s %s", tr.Name, tr.Reason)
		}
	}
}

func TestAnImageThatCannotBePulledIsNamedNotCalledACrashLoop(t *testing.T) {
	t.Parallel()
	r := runCase(t, makeRecipe(t, testkit.MissingImage), "7", caseOpts{})
	require.NotNil(t, r.results, r.output)
	assert.NotEqual(t, results.VerdictPass, r.results.Verdict)
	got := tier(t, r.run, results.TierInstall)
	assert.Contains(t, []results.Status{results.Fail, results.Unverified}, got.Status, got.Reason)
	assert.Contains(t, got.Reason, testkit.MissingImageTag, "the reason names the image")
	assert.NotRegexp(t, `(?i)crash`, got.Reason, "a missing image is not a crash loop")
}
