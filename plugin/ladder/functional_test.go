package ladder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/swarm"
)

// functionalOverlay declares one check of each kind: an HTTP check, a browser flow and a test
// executable.
const functionalOverlay = `http_checks:
  - name: home
    path: /
    text: Gitea
browser_checks:
  - name: save a note
    steps:
      - visit: /notes
      - fill: {selector: "#note", text: hello}
      - click: "#save"
      - expect_text: {selector: "#saved", text: hello}
tests:
  - name: smoke
    run: tests/smoke.sh
    args: [--quick]
    timeout: 90s
`

// withFunctional gives w the overlay above (its test executable in a real overlay directory)
// and a checker in which every check passes.
func withFunctional(t *testing.T, w *world) *fakeChecker {
	t.Helper()
	w.Overlay = overlayIn(t, functionalOverlay, map[string]string{"tests/smoke.sh": "#!/bin/sh\nexit 0\n"})
	return w.withChecker()
}

// lintFailing is abra's lint output with an error-severity rule unsatisfied, and abra's warning
// after the table (docs/abra-contract.md, "recipe lint").
const lintFailing = `+------+---------------------------------------------+----------+-----------+---------+
| REF  | RULE                                        | SEVERITY | SATISFIED | SKIPPED |
+------+---------------------------------------------+----------+-----------+---------+
| R010 | traefik routing enabled                     | error    | ✅        | -       |
| R014 | only annotated tags used for recipe version | error    | ❌        | -       |
+------+---------------------------------------------+----------+-----------+---------+
WARN critical errors present in gitea config
`

// TestFunctionalPasses: the declared checks all passing make FUNCTIONAL pass on the upgraded
// app, after restore and before lint; the level then reaches 4, and 5 when lint passes too.
func TestFunctionalPasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		lint      string
		wantLint  results.Status
		wantLevel int
		wantVerd  string
	}{
		{name: "with lint passing the recipe reaches level 5", lint: lintClean,
			wantLint: results.Pass, wantLevel: 5, wantVerd: results.VerdictPass},
		{name: "with an error rule of lint failing the recipe stays at level 4", lint: lintFailing,
			wantLint: results.Fail, wantLevel: 4, wantVerd: results.VerdictFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			c := withFunctional(t, w)
			w.Abra.LintOutput = tt.lint
			c.Outcomes["save a note"] = CheckOutcome{Status: results.Pass, Reason: `browser check "save a note": all 4 steps passed`,
				Checks: []results.Check{{Name: "1 visit /notes", Status: results.Pass, Detail: "HTTP 200"}}}
			out := w.run(t.Context())

			tiers := climb(t, out)
			fn := tiers[results.TierFunctional]
			require.Equal(t, results.Pass, fn.Status, fn.Reason)
			assert.Equal(t, []string{"http: home", "browser: save a note: 1 visit /notes", "browser: save a note", "test: smoke"}, checkNames(fn),
				"one row per check, and the checker's own rows under the check's name")
			for _, row := range fn.Checks {
				assert.Equal(t, results.Pass, row.Status, row.Name)
			}
			assert.Equal(t, `browser check "save a note": all 4 steps passed`, checkOf(t, fn, "browser: save a note").Detail)
			assert.Equal(t, "passed", checkOf(t, fn, "test: smoke").Detail, "a pass without a reason still says it passed")
			assert.Equal(t, tt.wantLint, tiers[results.TierLint].Status, tiers[results.TierLint].Reason)
			assert.Equal(t, tt.wantLevel, results.Level(out.Tiers))
			assert.Equal(t, tt.wantVerd, results.Verdict(out.Tiers))
			assert.Nil(t, results.CappedBy(out.Tiers))

			// The checks run against the upgraded app, each once, in the overlay's order.
			var got []checkerCall
			for _, call := range c.Calls {
				if call.Kind != checkScreenshot {
					got = append(got, call)
				}
			}
			assert.Equal(t, []checkerCall{
				{Kind: checkHTTP, Domain: upgradeDomain, Name: "home", Path: "/"},
				{Kind: checkBrowser, Domain: upgradeDomain, Name: "save a note", Steps: 4},
				{Kind: checkExec, Domain: upgradeDomain, Name: "smoke", Path: filepath.Join(w.Overlay.Dir, "tests", "smoke.sh"),
					Args: []string{"--quick"}, Timeout: 90 * time.Second},
			}, got)
			// After the restore proved the data, before lint.
			j := w.Journal.Entries
			restored := slices.Index(j, "data upgrade: read ccci-after-backup")
			first := slices.Index(j, "check upgrade: http home")
			last := slices.Index(j, "check upgrade: exec smoke")
			lint := slices.Index(j, "abra recipe lint "+testRecipe)
			assert.True(t, restored >= 0 && restored < first && first < last && last < lint, "restore, then the checks, then lint: %q", j)
		})
	}
}

// TestFunctionalVerdict: what the checks come to. A failure names the check and the checker's
// reason and stops the climb before lint; a failure outranks an unverified check; anything that
// is not a pass or a fail proved nothing and is unverified, never a pass.
func TestFunctionalVerdict(t *testing.T) {
	t.Parallel()
	failedStep := `browser check "save a note" failed at step 4 expect_text "#saved" "hello": the element holds "" ` +
		`; screenshot of the failing page: /run/save-a-note-failed.png`
	tests := []struct {
		name        string
		http        *results.Check
		outcomes    map[string]CheckOutcome
		want        results.Status
		wantReason  string
		wantRows    map[string]results.Status
		wantExcerpt string
		wantVerdict string
	}{
		{name: "a failing browser check fails FUNCTIONAL, naming the check and the checker's reason",
			outcomes: map[string]CheckOutcome{"save a note": {Status: results.Fail, Reason: failedStep}},
			want:     results.Fail, wantReason: "browser: save a note: " + failedStep,
			wantRows:    map[string]results.Status{"http: home": results.Pass, "browser: save a note": results.Fail, "test: smoke": results.Pass},
			wantVerdict: results.VerdictFail},
		{name: "a failure outranks an unverified check before it",
			http:     &results.Check{Name: "home", Status: results.Unverified, Detail: "GET /: connection refused by the front door"},
			outcomes: map[string]CheckOutcome{"save a note": {Status: results.Fail, Reason: failedStep}},
			want:     results.Fail, wantReason: "browser: save a note: " + failedStep,
			wantRows:    map[string]results.Status{"http: home": results.Unverified, "browser: save a note": results.Fail, "test: smoke": results.Pass},
			wantVerdict: results.VerdictFail},
		{name: "an unverified check after a failure leaves the first failure's reason",
			outcomes: map[string]CheckOutcome{
				"save a note": {Status: results.Fail, Reason: failedStep},
				"smoke":       {Status: results.Unverified, Reason: "timed out after 90s"},
			},
			want: results.Fail, wantReason: "browser: save a note: " + failedStep,
			wantRows:    map[string]results.Status{"browser: save a note": results.Fail, "test: smoke": results.Unverified},
			wantVerdict: results.VerdictFail},
		{name: "the first of two failures gives the reason",
			http:     &results.Check{Name: "home", Status: results.Fail, Detail: `HTTP 500, want 200`},
			outcomes: map[string]CheckOutcome{"save a note": {Status: results.Fail, Reason: failedStep}},
			want:     results.Fail, wantReason: "http: home: HTTP 500, want 200",
			wantRows:    map[string]results.Status{"http: home": results.Fail, "browser: save a note": results.Fail},
			wantVerdict: results.VerdictFail},
		{name: "a test that fails gives its output as the run's failure excerpt",
			outcomes: map[string]CheckOutcome{"smoke": {Status: results.Fail, Reason: "exit status 1", Excerpt: "not ok 2 - login page renders",
				Checks: []results.Check{{Name: "login page renders", Status: results.Fail, Detail: "not ok 2"}}}},
			want: results.Fail, wantReason: "test: smoke: exit status 1", wantExcerpt: "not ok 2 - login page renders",
			wantRows:    map[string]results.Status{"test: smoke: login page renders": results.Fail, "test: smoke": results.Fail},
			wantVerdict: results.VerdictFail},
		{name: "an unverified check alone leaves FUNCTIONAL unverified",
			outcomes: map[string]CheckOutcome{"save a note": {Status: results.Unverified, Reason: "chromium could not start"}},
			want:     results.Unverified, wantReason: "browser: save a note: chromium could not start",
			wantRows:    map[string]results.Status{"http: home": results.Pass, "browser: save a note": results.Unverified},
			wantVerdict: results.VerdictUnverified},
		{name: "a check that skipped itself proved nothing and is unverified",
			outcomes: map[string]CheckOutcome{"smoke": {Status: results.Skip, Reason: "1..0 # SKIP no database"}},
			want:     results.Unverified, wantReason: "test: smoke: 1..0 # SKIP no database",
			wantRows:    map[string]results.Status{"test: smoke": results.Unverified},
			wantVerdict: results.VerdictUnverified},
		{name: "a checker that answers no status is unverified, never a pass",
			http: &results.Check{Name: "home"},
			want: results.Unverified, wantReason: "http: home",
			wantRows:    map[string]results.Status{"http: home": results.Unverified},
			wantVerdict: results.VerdictUnverified},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			c := withFunctional(t, w)
			if tt.http != nil {
				c.HTTPRows["home"] = *tt.http
			}
			for name, o := range tt.outcomes {
				c.Outcomes[name] = o
			}
			out := w.run(t.Context())

			tiers := climb(t, out)
			for _, name := range genericTiers {
				require.Equal(t, results.Pass, tiers[name].Status, "%s: %s", name, tiers[name].Reason)
			}
			fn := tiers[results.TierFunctional]
			assert.Equal(t, tt.want, fn.Status)
			assert.Contains(t, fn.Reason, tt.wantReason)
			for row, status := range tt.wantRows {
				assert.Equal(t, status, checkOf(t, fn, row).Status, row)
			}
			assert.Len(t, c.Of(checkHTTP), 1, "every declared check runs, whatever an earlier one said")
			assert.Len(t, c.Of(checkBrowser), 1)
			assert.Len(t, c.Of(checkExec), 1)
			assert.Equal(t, tt.wantExcerpt, out.FailureExcerpt)
			assertNotReached(t, tiers, results.TierFunctional, results.TierLint)
			assert.Zero(t, w.Abra.Lints, "lint is not run once the app's behaviour is unknown")
			assert.Equal(t, 3, results.Level(out.Tiers))
			assert.Equal(t, tt.wantVerdict, results.Verdict(out.Tiers))
		})
	}
}

// TestFunctionalAborted: a check that fails while the run is being aborted (SIGTERM, the
// deadline) failed because of the abort, not the recipe: it is unverified.
func TestFunctionalAborted(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := withFunctional(t, w)
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	c.Before = func(call checkerCall) {
		if call.Kind == checkBrowser {
			cancel(errors.New("SIGTERM"))
		}
	}
	c.Outcomes["save a note"] = CheckOutcome{Status: results.Fail, Reason: "step 1 visit /notes: net::ERR_ABORTED"}
	out := w.run(ctx)

	tiers := climb(t, out)
	fn := tiers[results.TierFunctional]
	assert.Equal(t, results.Unverified, fn.Status)
	assert.Contains(t, fn.Reason, "browser: save a note: run aborted (SIGTERM): step 1 visit /notes: net::ERR_ABORTED")
	assert.Equal(t, results.Unverified, checkOf(t, fn, "browser: save a note").Status)
	assert.Equal(t, results.Pass, checkOf(t, fn, "http: home").Status, "a pass before the abort stands")
	assertNotReached(t, tiers, results.TierFunctional, results.TierLint)
	assert.Equal(t, results.VerdictUnverified, results.Verdict(out.Tiers))
}

// TestFunctionalWithoutChecks: with no check declared FUNCTIONAL is a gap that says what would
// lift it and caps the level at 3; lint still runs, and the checker is asked for nothing but the
// landing screenshot.
func TestFunctionalWithoutChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		overlay string
	}{
		{name: "no overlay at all", overlay: ""},
		{name: "an overlay that declares other things but no check", overlay: "app_env:\n  GITEA_ADMIN: ops\nhealth:\n  path: /\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			if tt.overlay != "" {
				w.Overlay = overlayOf(t, tt.overlay)
			}
			c := w.withChecker()
			out := w.run(t.Context())

			tiers := climb(t, out)
			assertGenericTop(t, tiers)
			assert.Equal(t, 3, results.Level(out.Tiers))
			if capped := results.CappedBy(out.Tiers); assert.NotNil(t, capped) {
				assert.Equal(t, results.TierFunctional, capped.Name)
			}
			assert.Equal(t, results.VerdictPass, results.Verdict(out.Tiers), "a gap is no failure")
			assert.Equal(t, 1, w.Abra.Lints)
			assert.Equal(t, []checkerCall{{Kind: checkScreenshot, Domain: freshDomain, Name: ScreenshotFile}}, c.Calls)
		})
	}
}

// TestFunctionalWithoutChecker: checks declared on a run that cannot execute them are
// unverified, never skipped: the maintainer asked for them.
func TestFunctionalWithoutChecker(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Overlay = overlayOf(t, functionalOverlay)
	out := w.run(t.Context())

	tiers := climb(t, out)
	fn := tiers[results.TierFunctional]
	assert.Equal(t, results.Unverified, fn.Status)
	assert.Contains(t, fn.Reason, "cannot execute functional checks")
	assertNotReached(t, tiers, results.TierFunctional, results.TierLint)
	assert.Equal(t, 3, results.Level(out.Tiers))
	assert.Equal(t, results.VerdictUnverified, results.Verdict(out.Tiers))
}

// tierLines are a climb's tiers without their timings, to compare two runs.
func tierLines(out Outcome) []string {
	var lines []string
	for _, tr := range out.Tiers {
		lines = append(lines, fmt.Sprintf("%s %s %q %q %q", tr.Name, tr.Status, tr.Reason, checkNames(tr), tr.Warnings))
	}
	return lines
}

// TestLandingScreenshot: the landing page is photographed once, when INSTALL is healthy and
// before anything else is created or changed; it is best-effort.
func TestLandingScreenshot(t *testing.T) {
	t.Parallel()

	t.Run("it is taken once, after the fresh app proved healthy and before the upgrade app is created", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		c := w.withChecker()
		stableBefore := -1
		c.Before = func(call checkerCall) {
			if call.Kind == checkScreenshot {
				stableBefore = len(w.Swarm.StableChecks)
			}
		}
		out := w.run(t.Context())

		require.Equal(t, []checkerCall{{Kind: checkScreenshot, Domain: freshDomain, Name: ScreenshotFile}}, c.Calls)
		assert.Equal(t, 1, stableBefore, "after the fresh app's stability check, the last of INSTALL")
		j := w.Journal.Entries
		shot := slices.Index(j, "check fresh: screenshot "+ScreenshotFile)
		assert.Greater(t, shot, slices.Index(j, "abra fresh: deploy --chaos"))
		assert.Less(t, shot, slices.Index(j, "abra upgrade: app new "+testBase), "before the upgrade app exists")
		assert.Equal(t, ScreenshotFile, out.Artifacts["screenshot"], "named relative to the run dir")
		_, err := os.Stat(filepath.Join(w.ArtifactsDir, out.Artifacts["screenshot"]))
		assert.NoError(t, err)
		assert.Contains(t, w.Out.String(), "landing-page screenshot of "+freshDomain)
	})

	t.Run("a screenshot that fails changes nothing but the missing picture", func(t *testing.T) {
		t.Parallel()
		good := newWorld(t)
		good.withChecker()
		want := good.run(t.Context())

		w := newWorld(t)
		w.withChecker().ShotErr = errors.New("chromium: exec: not found")
		out := w.run(t.Context())

		assert.Equal(t, tierLines(want), tierLines(out))
		assert.Equal(t, results.Level(want.Tiers), results.Level(out.Tiers))
		assert.Equal(t, results.Verdict(want.Tiers), results.Verdict(out.Tiers))
		assert.NotContains(t, out.Artifacts, "screenshot")
		assert.Contains(t, want.Artifacts, "screenshot", "sanity: the good run named its screenshot")
		assert.Contains(t, w.Out.String(), "no screenshot (best-effort, the verdict does not change): chromium: exec: not found")
	})

	t.Run("an install that is not healthy is not photographed", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		c := w.withChecker()
		w.Swarm.StableErrs = map[string]error{freshStack: &swarm.StabilityError{Failures: []swarm.TaskFailure{{Service: freshStack + "_app", State: "failed", ExitCode: 1}}}}
		out := w.run(t.Context())

		require.Equal(t, results.Fail, climb(t, out)[results.TierInstall].Status)
		assert.Empty(t, c.Calls)
		assert.NotContains(t, out.Artifacts, "screenshot")
	})
}
