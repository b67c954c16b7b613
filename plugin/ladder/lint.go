package ladder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"coopcloud.tech/cc-ci/internal/abra"
	"coopcloud.tech/cc-ci/internal/results"
)

// LintFile is where abra's lint report is saved in the run dir.
const LintFile = "lint.txt"

// lint runs `abra recipe lint` on the exact ref under test and reads its rule table: abra exits
// 0 whether or not a rule fails (docs/abra-contract.md), so its exit code proves nothing. A
// failed rule of error severity fails the tier; failed warnings are listed; a table that cannot
// be read for certain, or a lint that timed out, is unverified.
func (l *Ladder) lint(ctx context.Context) *tier {
	t := l.newTier(results.TierLint)
	if !l.checkoutRef(ctx, t, l.Head) {
		return t
	}
	l.banner(t.Name, "abra recipe lint %s at %s", l.Recipe, short(l.Head))
	sctx, cancel := l.step(ctx)
	out, err := l.Abra.Lint(sctx, l.Recipe)
	cancel()
	if l.ArtifactsDir != "" && out != "" {
		path := filepath.Join(l.ArtifactsDir, LintFile)
		if werr := os.WriteFile(path, []byte(out), 0o644); werr == nil {
			l.arts["lint"] = l.artifact(path)
		}
	}
	if err != nil {
		// abra could not lint at all (a FATA): the recipe's files, unless it was a timeout.
		t.callFailed(ctx, "abra recipe lint", err)
		return t
	}
	rules, err := abra.ParseLint(out)
	if err != nil {
		t.unverified("read abra's lint table: %v (the report is in %s)", err, LintFile)
		return t
	}
	var errs, warns []string
	for _, r := range rules {
		switch {
		case r.Failed():
			errs = append(errs, fmt.Sprintf("%s %s", r.Ref, r.Description))
		case r.Severity == abra.SeverityWarn && !r.Skipped && !r.Satisfied:
			warns = append(warns, fmt.Sprintf("%s %s", r.Ref, r.Description))
		}
	}
	for _, w := range warns {
		t.Warnings = append(t.Warnings, "lint warning (does not fail the tier): "+w)
	}
	if len(errs) > 0 {
		t.excerpt = out
		t.fail("lint rules", "abra recipe lint: %d rule(s) of error severity not satisfied: %s", len(errs), strings.Join(errs, "; "))
		return t
	}
	t.pass("lint rules", "%d rules read, no rule of error severity failed (%d warning(s))", len(rules), len(warns))
	return t
}
