package container

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/applock"
	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/testkit"
)

// ladderWait bounds one whole run in the container: the sample ladder takes a minute or two.
const ladderWait = 10 * time.Minute

// assertNothingLeft checks that neither of b's apps left anything: swarm objects, .env, a held
// lock.
func assertNothingLeft(t *testing.T, h host, b build) {
	t.Helper()
	for _, d := range []string{b.domain(h), b.upgradeDomain(h)} {
		left := residue(t, naming.Stack(d))
		assert.True(t, left.Empty(), "left on the swarm by %s: %+v", d, left)
		assert.NoFileExists(t, h.EnvPath(d), "the app's .env is removed")
		lock, err := applock.TryAcquire(h.LockDir, d)
		require.NoError(t, err, "the app lock of %s is free", d)
		require.NoError(t, lock.Release())
	}
}

func TestTheImageClimbsTheSampleLadderToLevel3AsDronesDockerRunnerStartsIt(t *testing.T) {
	t.Parallel()
	h := newHost(t, "img1.local")
	b := newBuild(t, 4101, "61")
	s := startStep(t, h, b)
	s.awaitLine(3*time.Minute, "guarded child started")
	s.assertPluginIsPID1()
	code := s.exitCode(ladderWait)
	log := s.output()
	require.Equal(t, 0, code, "exit 0 is verdict pass:\n%s", log)

	res := readResults(t, h, b, log)
	assert.Equal(t, results.VerdictPass, res.Verdict)
	assert.Equal(t, 3, res.Level, "level 3: no functional checks are declared; lint passes")
	assert.Equal(t, "drone-4101", res.RunID, "DRONE_BUILD_NUMBER names the run")
	assert.Equal(t, testkit.RecipeName, res.Recipe, "CCCI_RECIPE reached the plugin")
	assert.Equal(t, b.rec.Head, res.Ref, "CCCI_REF reached the plugin")
	assert.Equal(t, "61", res.PR, "CCCI_PR reached the plugin")
	assert.Equal(t, "coop-cloud/sample", res.Repo, "CCCI_REPO reached the plugin")
	assert.Equal(t, results.ModeCold, res.Mode)
	assert.Equal(t, b.domain(h), res.Domain, "the runner's CCCI_DOMAIN_SUFFIX reached the plugin")
	for _, name := range []string{results.TierInstall, results.TierUpgrade, results.TierBackup, results.TierRestore, results.TierLint} {
		tr := res.Tier(name)
		require.NotNil(t, tr, name)
		assert.Equal(t, results.Pass, tr.Status, "%s: %s", name, tr.Reason)
	}
	f := res.Tier(results.TierFunctional)
	require.NotNil(t, f)
	assert.True(t, f.Gap(), "functional is a gap: %s %s", f.Status, f.Reason)
	assert.Contains(t, f.Reason, "no functional checks")
	assert.True(t, res.Teardown.Clean, "residue: %v", res.Teardown.Residue)
	assert.Contains(t, res.Manifest["overlay"], testkit.ImageOverlaysDir, "the image's own overlays are in effect")

	assert.Contains(t, log, "FAKE abra", "abra in the image is the test double")
	assert.Contains(t, log, "no screenshot (best-effort", "without chromium the landing screenshot is skipped")
	assert.Contains(t, log, "chromium not found")
	assertNothingLeft(t, h, b)
}

// browserFlow is the sample overlay (its data probe) plus one browser check.
const browserFlow = `
browser_checks:
  - name: the home page says hello
    steps:
      - visit: /
      - expect_text: {selector: body, text: sample}
`

func TestABrowserCheckIsUnverifiedWithItsReasonWhenTheImageHasNoChromium(t *testing.T) {
	t.Parallel()
	root, err := testkit.RepoRoot(t.Context())
	require.NoError(t, err)
	overlays := t.TempDir()
	sample := filepath.Join(overlays, testkit.RecipeName)
	require.NoError(t, os.CopyFS(sample, os.DirFS(filepath.Join(root, "recipes", testkit.RecipeName))))
	require.NoError(t, os.WriteFile(filepath.Join(sample, "cc-ci.yml"), []byte(browserFlow), 0o644))

	h := newHost(t, "img2.local")
	b := newBuild(t, 4102, "62")
	b.overlays = overlays
	s := startStep(t, h, b)
	code := s.exitCode(ladderWait)
	log := s.output()
	require.Equal(t, 3, code, "exit 3 is verdict unverified, the box's fault:\n%s", log)

	res := readResults(t, h, b, log)
	assert.Equal(t, results.VerdictUnverified, res.Verdict, "a missing browser never fails the recipe")
	assert.Equal(t, 3, res.Level, "what was proven before FUNCTIONAL still counts")
	f := res.Tier(results.TierFunctional)
	require.NotNil(t, f)
	assert.Equal(t, results.Unverified, f.Status)
	assert.Contains(t, f.Reason, `browser check "the home page says hello" could not run: chromium not found`)
	var rows []string
	for _, c := range f.Checks {
		rows = append(rows, c.Name+": "+string(c.Status)+": "+c.Detail)
	}
	assert.Contains(t, strings.Join(rows, "\n"), "unverified", "the check's own row says unverified")
	assert.Contains(t, res.Manifest["overlay"], overlaysMount, "the runner's overlays dir is in effect")
	assertNothingLeft(t, h, b)
}
