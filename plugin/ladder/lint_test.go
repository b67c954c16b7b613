package ladder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/abra"
	"coopcloud.tech/cc-ci/internal/recipe"
	"coopcloud.tech/cc-ci/internal/results"
)

// lintWarnOnly has a warning rule unsatisfied: abra logs nothing more for it
// (docs/abra-contract.md, "recipe lint": "warn-only ❌ (R015) → NO sentinel").
const lintWarnOnly = `┌──────┬──────────────────────────────────────┬──────────┬───────────┬─────────┐
│ REF  │ RULE                                 │ SEVERITY │ SATISFIED │ SKIPPED │
├──────┼──────────────────────────────────────┼──────────┼───────────┼─────────┤
│ R002 │ healthcheck enabled for all services │ warn     │ ❌        │ -       │
│ R006 │ has published catalogue version      │ warn     │ -         │ ✅      │
│ R010 │ traefik routing enabled              │ error    │ ✅        │ -       │
│ R013 │ git.coopcloud.tech repo exists       │ error    │ -         │ ✅      │
└──────┴──────────────────────────────────────┴──────────┴───────────┴─────────┘
`

// lintFatal is abra failing to lint at all (docs/abra-contract.md: exit 1 with a FATA).
const lintFatal = "FATA unable to validate recipe: .env.sample for gitea couldn't be read: no such file or directory\n"

// TestLint: LINT reads abra's rule table, never its exit code alone: a failed error rule fails
// the tier although abra exits 0, a failed warning is listed but passes, and a table that cannot
// be read for certain or a lint that timed out is unverified.
func TestLint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		output       string
		err          error
		want         results.Status
		wantReason   []string
		wantDetail   string
		wantWarnings []string
		wantExcerpt  string
		wantVerdict  string
	}{
		{name: "a table where every rule holds passes",
			output: lintClean, want: results.Pass,
			wantDetail:  "3 rules read, no rule of error severity failed (0 warning(s))",
			wantVerdict: results.VerdictPass},
		{name: "an error rule unsatisfied fails lint naming the rule, though abra exits 0",
			output: lintFailing, want: results.Fail,
			wantReason:  []string{"1 rule(s) of error severity not satisfied: R014 only annotated tags used for recipe version"},
			wantExcerpt: lintFailing, wantVerdict: results.VerdictFail},
		{name: "a warning rule unsatisfied passes, with the rule listed as a warning; skipped rules count for nothing",
			output: lintWarnOnly, want: results.Pass,
			wantDetail:   "4 rules read, no rule of error severity failed (1 warning(s))",
			wantWarnings: []string{"lint warning (does not fail the tier): R002 healthcheck enabled for all services"},
			wantVerdict:  results.VerdictPass},
		{name: "output without a rule table is unverified, never all satisfied",
			output: "running recipe lint rules...\n", want: results.Unverified,
			wantReason:  []string{"read abra's lint table", "no rule table", "the report is in " + LintFile},
			wantVerdict: results.VerdictUnverified},
		{name: "abra's critical-errors warning under a table that shows no failed error rule is unverified",
			output: lintWarnOnly + "WARN critical errors present in gitea config\n", want: results.Unverified,
			wantReason:  []string{"read abra's lint table", "no error-severity rule reads as failed"},
			wantVerdict: results.VerdictUnverified},
		{name: "abra exiting 1 with a FATA fails lint: the recipe's files cannot be linted",
			output: lintFatal, err: abraExit([]string{"recipe", "lint", testRecipe}, lintFatal), want: results.Fail,
			wantReason:  []string{"abra recipe lint gitea: exit code 1", "FATA unable to validate recipe"},
			wantExcerpt: lintFatal, wantVerdict: results.VerdictFail},
		{name: "a lint that times out is unverified",
			output: "fetching tags from origin\n",
			err: &abra.Error{Args: []string{"recipe", "lint", testRecipe}, ExitCode: -1, Timeout: true,
				Output: "fetching tags from origin\n", Err: context.DeadlineExceeded},
			want:        results.Unverified,
			wantReason:  []string{"abra recipe lint", "timed out"},
			wantExcerpt: "fetching tags from origin\n", wantVerdict: results.VerdictUnverified},
		{name: "abra missing from the runner is unverified",
			err: fmt.Errorf("abra recipe lint: %w", abra.ErrNotFound), want: results.Unverified,
			wantReason: []string{"abra not found"}, wantVerdict: results.VerdictUnverified},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.Abra.LintOutput, w.Abra.LintErr = tt.output, tt.err
			out := w.run(t.Context())

			tiers := climb(t, out)
			for _, name := range genericTiers {
				require.Equal(t, results.Pass, tiers[name].Status, "%s: %s", name, tiers[name].Reason)
			}
			lint := tiers[results.TierLint]
			assert.Equal(t, tt.want, lint.Status, lint.Reason)
			for _, want := range tt.wantReason {
				assert.Contains(t, lint.Reason, want)
			}
			if tt.wantDetail != "" {
				assert.Equal(t, tt.wantDetail, checkOf(t, lint, "lint rules").Detail)
			}
			assert.Equal(t, tt.wantWarnings, lint.Warnings)
			assert.Equal(t, tt.wantExcerpt, out.FailureExcerpt)
			assert.Equal(t, tt.wantVerdict, results.Verdict(out.Tiers))
			assert.Equal(t, 3, results.Level(out.Tiers), "FUNCTIONAL (no checks) caps the level whatever lint says")
			assert.Equal(t, 1, w.Abra.Lints)

			// What abra printed is kept whole as lint.txt in the run dir, and named.
			if tt.output == "" {
				assert.NotContains(t, out.Artifacts, "lint", "nothing printed, nothing saved")
				return
			}
			assert.Equal(t, LintFile, out.Artifacts["lint"])
			saved, err := os.ReadFile(filepath.Join(w.ArtifactsDir, LintFile))
			require.NoError(t, err)
			assert.Equal(t, tt.output, string(saved))
		})
	}
}

// TestLintOnTheHead: lint reads the recipe checkout at the PR head, checked out for it, also when
// the upgrade base was a commit that the checkout visited.
func TestLintOnTheHead(t *testing.T) {
	t.Parallel()
	const tip = "fedcba9876543210fedcba9876543210fedcba98"
	w := newWorld(t)
	w.Git.Base = recipe.Base{Commit: tip, Reason: "the default branch's tip"}
	out := w.run(t.Context())

	require.Equal(t, results.Pass, climb(t, out)[results.TierLint].Status)
	assert.Equal(t, []string{testHead}, w.Abra.LintRefs)
	j := w.Journal.Entries
	assert.Equal(t, []string{"git checkout " + testHead, "abra recipe lint " + testRecipe}, j[len(j)-2:])
}

// TestLintWithoutArtifactsDir: a run with nowhere to save lint.txt still judges the table.
func TestLintWithoutArtifactsDir(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.ArtifactsDir = ""
	w.Abra.LintOutput = lintFailing
	out := w.run(t.Context())

	assert.Equal(t, results.Fail, climb(t, out)[results.TierLint].Status)
	assert.Empty(t, out.Artifacts)
}
