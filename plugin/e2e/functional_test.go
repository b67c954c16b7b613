package e2e_test

// Issue 9 on the real swarm: overlays with HTTP and browser checks (headless Chromium), the
// LINT tier under the FAKE abra, health statuses, pinned images, repo-local overlays and quick
// mode.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/swarm"
	"coopcloud.tech/cc-ci/internal/testkit"
	"coopcloud.tech/cc-ci/plugin/overlay"
)

// notesFlow is an overlay with an HTTP check and a browser flow through the sample app's notes
// form: fill it, submit, and see the saved text.
const notesFlow = `
http_checks:
  - {name: health endpoint, path: /healthz, text: ok}
browser_checks:
  - name: save a note
    steps:
      - visit: /notes
      - fill: {selector: "#note", text: saved by cc-ci}
      - click: "#save"
      - wait_text: {selector: "#saved", text: saved by cc-ci}
      - screenshot: saved.png
`

// httpOnly is an overlay whose FUNCTIONAL tier is one HTTP check.
const httpOnly = "http_checks:\n  - {name: health endpoint, path: /healthz, text: ok}\n"

func runDir(t *testing.T, r caseRun) string {
	t.Helper()
	require.NotNil(t, r.results, "no results.json:\n%s", r.output)
	return filepath.Dir(r.results.Artifacts["results"])
}

func isPNG(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")), "%s is a PNG", path)
}

func TestAnOverlayWithHTTPAndBrowserChecksReachesLevel5AndLintCapsIt(t *testing.T) {
	t.Parallel()
	overlays := sampleOverlays(t, notesFlow)
	// The good sample's run: every rung up to LINT, and what every green run must show.
	t.Run("with lint passing under the abra fake, level 5", func(t *testing.T) {
		t.Parallel()
		rec := makeRecipe(t, testkit.Good)
		r := runCase(t, rec, "41", caseOpts{overlays: overlays, extra: []string{withBrowser(t)}})
		requireVerdict(t, r, 0, results.VerdictPass, 5)
		assertPassed(t, r, results.TierInstall, results.TierUpgrade, results.TierBackup, results.TierRestore,
			results.TierFunctional, results.TierLint)
		assert.Equal(t, 2, r.results.Deploys, "exactly one app new per app")
		require.Len(t, r.results.Apps, 2)
		for _, a := range r.results.Apps {
			assert.Equal(t, 1, a.AppNew, "%s app created exactly once", a.Role)
		}
		assert.Equal(t, "0.2.0+2.0.0", r.results.UpgradeBase.Version)
		assert.True(t, r.results.Teardown.Clean)
		assert.Contains(t, r.output, "==> [", "stage banners with elapsed time")
		assert.Contains(t, r.output, "FAKE abra")
		f := tier(t, r.run, results.TierFunctional)
		assert.Equal(t, results.Pass, f.Status, f.Reason)
		var names []string
		for _, c := range f.Checks {
			names = append(names, c.Name)
		}
		assert.Contains(t, names, "http: health endpoint")
		assert.Contains(t, names, "browser: save a note")
		dir := runDir(t, r)
		isPNG(t, filepath.Join(dir, "saved.png"))
		isPNG(t, filepath.Join(dir, "screenshot.png"))
		assert.Equal(t, "screenshot.png", r.results.Artifacts["screenshot"], "the landing page is a named artifact")
		lint, err := os.ReadFile(filepath.Join(dir, "lint.txt"))
		require.NoError(t, err)
		assert.Contains(t, string(lint), "R014", "abra's lint table is saved")
		assert.Contains(t, r.results.Manifest["overlay-config"], overlay.FileName, "the overlay in effect is recorded")
	})
	t.Run("a lightweight tag fails lint: level 4", func(t *testing.T) {
		t.Parallel()
		rec := makeRecipe(t, testkit.Good)
		out, err := exec.Command("git", "-C", rec.Src, "tag", "wip", rec.Head).CombinedOutput()
		require.NoError(t, err, "%s", out)
		// An HTTP check is enough to pass FUNCTIONAL; this case is about LINT, so no browser.
		r := runCase(t, rec, "42", caseOpts{overlays: sampleOverlays(t, httpOnly)})
		requireVerdict(t, r, 1, results.VerdictFail, 4)
		assertFailedAt(t, r, results.TierLint, `R014 only annotated tags`)
	})
}

func TestABrowserCheckExpectingTextThePageDoesNotShowFailsFunctional(t *testing.T) {
	t.Parallel()
	rec := makeRecipe(t, testkit.Good)
	overlays := sampleOverlays(t, `
browser_checks:
  - name: the title says hello
    steps:
      - visit: /
      - expect_text: {selector: h1, text: Hello from a page that does not exist}
`)
	r := runCase(t, rec, "43", caseOpts{overlays: overlays, extra: []string{withBrowser(t)}})
	requireVerdict(t, r, 1, results.VerdictFail, 3)
	assertFailedAt(t, r, results.TierFunctional, `(?s)the title says hello.*expect_text.*h1`)
	lint := tier(t, r.run, results.TierLint)
	assert.Equal(t, results.Unverified, lint.Status, "lint is not reached after a failed tier")
	shots, err := filepath.Glob(filepath.Join(runDir(t, r), "*failed*.png"))
	require.NoError(t, err)
	require.NotEmpty(t, shots, "a screenshot of the failing page is kept")
	isPNG(t, shots[0])
	assert.Contains(t, tier(t, r.run, results.TierFunctional).Reason, filepath.Base(shots[0]), "the reason names the screenshot")
}

func TestATypoInAnOverlayKeyExits2BeforeAnythingIsDeployed(t *testing.T) {
	t.Parallel()
	rec := makeRecipe(t, testkit.Good)
	overlays := sampleOverlays(t, "http_checks:\n  - {name: a, path: /, statuss: [200]}\n")
	r := runCase(t, rec, "44", caseOpts{overlays: overlays})
	require.Equal(t, 2, r.code, r.output)
	assert.Contains(t, r.output, `unknown http_checks key "statuss": did you mean "statuses"?`)
	assert.Contains(t, r.output, filepath.Join(overlays, "sample", overlay.FileName), "the error names the file")
	assert.NotContains(t, r.output, "abra app new", "nothing was deployed")
}

func TestAnAppThatAnswers401PassesInstallOnlyWhenTheOverlayDeclaresIt(t *testing.T) {
	t.Parallel()
	// The sample overlay's data probe talks to /kv, which this app guards: a config alone.
	bare := func(cfg string) string {
		root := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(root, "sample"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, "sample", overlay.FileName), []byte(cfg), 0o644))
		return root
	}
	t.Run("without an overlay it fails install naming the status and the fix", func(t *testing.T) {
		t.Parallel()
		r := runCase(t, makeRecipe(t, testkit.AuthRequired), "45", caseOpts{overlays: bare("")})
		requireVerdict(t, r, 1, results.VerdictFail, 0)
		assertFailedAt(t, r, results.TierInstall, `HTTP 401.*health\.statuses`)
	})
	t.Run("with health.statuses [401] it installs", func(t *testing.T) {
		t.Parallel()
		r := runCase(t, makeRecipe(t, testkit.AuthRequired), "46", caseOpts{overlays: bare("health: {statuses: [401]}\n")})
		requireVerdict(t, r, 0, results.VerdictPass, 3)
		assertPassed(t, r, results.TierInstall, results.TierUpgrade)
	})
}

func TestAnOverlayThatPinsAnImageIsReportedAndItsScriptSeesOnlyTheRunsEnv(t *testing.T) {
	t.Parallel()
	rec := makeRecipe(t, testkit.ImageTagFromEnv)
	overlays := sampleOverlays(t, "app_env: {APP_TAG: 2.0.0}\n")
	// install_steps.sh records the environment it was given, once per app.
	script := "#!/bin/sh\nenv > \"$CCCI_RUN_DIR/install-env-$CCCI_APP_DOMAIN.txt\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(overlays, "sample", overlay.InstallSteps), []byte(script), 0o755))
	const canary = "CCCI_RUNNER_SECRET_CANARY=do-not-leak-4f2a"
	r := runCase(t, rec, "47", caseOpts{overlays: overlays, extra: []string{canary}})
	require.NotNil(t, r.results, r.output)
	install := tier(t, r.run, results.TierInstall)
	require.NotEmpty(t, install.Warnings, "the pin is a warning on install")
	assert.Contains(t, install.Warnings[0], "service app runs image ccci-sample:2.0.0, not the PR head's ccci-sample:2.1.0")
	assert.Contains(t, r.summary, "hides the change under test", "the summary shows the warning")

	envs, err := filepath.Glob(filepath.Join(runDir(t, r), "install-env-*.txt"))
	require.NoError(t, err)
	require.Len(t, envs, 2, "install_steps.sh ran once for each app")
	for _, path := range envs {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.NotContains(t, string(data), "do-not-leak", "a variable of the plugin's environment never reaches a hook")
		assert.Contains(t, string(data), "CCCI_APP_ENV=", "the script is told where the app's .env is")
		assert.Contains(t, string(data), "ABRA_DIR=")
	}
	assert.NotContains(t, r.output, "do-not-leak")
}

func TestARepoOverlayIsUsedOnlyForAnAllowedRecipe(t *testing.T) {
	t.Parallel()
	rec := makeRecipe(t, testkit.Good)
	// The PR adds its own overlay, whose check fails if it is ever used.
	dir := filepath.Join(rec.Src, overlay.RepoDirName)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, overlay.FileName), []byte("http_checks:\n  - {name: from the repo, path: /no-such-page}\n"), 0o644))
	for _, args := range [][]string{{"add", "-A"}, {"commit", "-qm", "add a repo overlay"}} {
		out, err := exec.Command("git", append([]string{"-C", rec.Src}, args...)...).CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	head, err := exec.Command("git", "-C", rec.Src, "rev-parse", "HEAD").Output()
	require.NoError(t, err)
	rec.Head = strings.TrimSpace(string(head))

	t.Run("not on the allow-list: ignored, and the log says why", func(t *testing.T) {
		t.Parallel()
		r := runCase(t, rec, "48", caseOpts{overlays: sampleOverlays(t, "")})
		assert.Contains(t, r.output, "is ignored: sample is not on the allow-list")
		requireVerdict(t, r, 0, results.VerdictPass, 3)
	})
	t.Run("on the allow-list: used, and its failing check fails functional", func(t *testing.T) {
		t.Parallel()
		overlays := sampleOverlays(t, "")
		require.NoError(t, os.WriteFile(filepath.Join(overlays, overlay.AllowFile), []byte("recipes: [sample]\n"), 0o644))
		r := runCase(t, rec, "49", caseOpts{overlays: overlays})
		requireVerdict(t, r, 1, results.VerdictFail, 3)
		assertFailedAt(t, r, results.TierFunctional, "from the repo")
		assert.Equal(t, overlay.SourceRepo, r.results.Manifest["overlay-source"])
	})
}

func TestQuickModeFallsBackToColdThenReusesTheWarmAppsData(t *testing.T) {
	t.Parallel()
	rec := makeRecipe(t, testkit.Good)
	host := t.TempDir()
	overlays := sampleOverlays(t, httpOnly)
	warm := naming.Stack(naming.WarmDomain("sample", suffix))
	t.Cleanup(func() { removeStack(t, warm) })
	quick := []string{"CCCI_OVERLAYS_DIR=" + overlays, "PLUGIN_MODE=quick"}

	first := runIn(t, host, rec.Src, rec.Head, "50", quick...)
	requireVerdict(t, first, 0, results.VerdictPass, 5)
	assert.Equal(t, results.ModeCold, first.results.Mode, "with no warm app the quick run runs cold")
	assert.Contains(t, first.results.Manifest[results.ManifestQuickFallback], "no warm app")
	assert.Contains(t, first.summary, "ran cold instead")
	assert.Contains(t, first.output, "created the warm app")

	// The PR moves on: the quick run upgrades the warm app to a new head.
	require.NoError(t, os.WriteFile(filepath.Join(rec.Src, "README.md"), []byte("# sample\n\nA second push.\n"), 0o644))
	for _, args := range [][]string{{"add", "-A"}, {"commit", "-qm", "a second push"}} {
		out, err := exec.Command("git", append([]string{"-C", rec.Src}, args...)...).CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	next, err := exec.Command("git", "-C", rec.Src, "rev-parse", "HEAD").Output()
	require.NoError(t, err)
	second := runIn(t, host, rec.Src, strings.TrimSpace(string(next)), "50", quick...)
	require.Equal(t, 0, second.code, second.output)
	require.NotNil(t, second.results)
	assert.Equal(t, results.ModeQuick, second.results.Mode)
	assert.Equal(t, results.VerdictPass, second.results.Verdict)
	assert.Equal(t, 0, second.results.Level, "a quick run proves no install: it never reaches a level")
	up := tier(t, second.run, results.TierUpgrade)
	survived := false
	for _, c := range up.Checks {
		survived = survived || (c.Name == "warm data survives" && c.Status == results.Pass)
	}
	assert.True(t, survived, "the datum seeded when the warm app was created is read back: %+v", up.Checks)
	assert.Equal(t, results.Pass, tier(t, second.run, results.TierFunctional).Status)
	assert.Contains(t, second.summary, "Quick run")
	assert.Less(t, second.results.DurationS, first.results.DurationS, "a quick run is faster than the cold run")
	assert.Contains(t, second.output, "abra app deploy "+naming.WarmDomain("sample", suffix), "the warm app was deployed at the new head")
	t.Logf("cold (fallback, creating the warm app): %.1fs; quick: %.1fs\n%s", first.results.DurationS, second.results.DurationS, second.summary)
}

// removeStack removes what a test left on the swarm on purpose (the warm app), as the plugin's
// teardown does.
func removeStack(t *testing.T, stack string) {
	c, err := swarm.New(context.Background())
	if err != nil {
		t.Logf("docker: %v", err)
		return
	}
	defer c.Close()
	if _, err := c.Teardown(context.Background(), stack, ""); err != nil {
		t.Logf("remove %s: %v", stack, err)
	}
}
