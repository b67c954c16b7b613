package report

import (
	"errors"
	"fmt"
	"os"

	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/rundir"
)

// Baseline is the run a verdict is compared with to tell a regression from a recipe that was
// always at its level: the newest (by finished time) results.json under runsDir/*/results.json
// of recipe that is a canonical run (cold, no PR: the default branch or a release, not someone's
// PR) with a verdict (a CI error says nothing about the recipe). nil when there is none.
//
// A results.json that cannot be read, is not schema 1 or whose verdict its tiers do not support
// is skipped, not fatal: the returned error joins every such problem and may come with a
// non-nil baseline found among the others. A runsDir that cannot be listed is an error alone.
func Baseline(runsDir, recipe string) (*results.Results, error) {
	entries, err := os.ReadDir(runsDir)
	if err != nil {
		return nil, fmt.Errorf("baseline of %s: %w", recipe, err)
	}
	var best *results.Results
	var skipped []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		path := rundir.ResultsFile(runsDir, e.Name())
		r, err := results.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue // a run still going, or one killed before it wrote anything
		}
		if err == nil {
			err = r.Validate()
		}
		if err != nil {
			skipped = append(skipped, fmt.Errorf("skip %s: %w", path, err))
			continue
		}
		if !canonical(r, recipe) {
			continue
		}
		if best == nil || r.Finished.After(best.Finished) {
			best = r
		}
	}
	return best, errors.Join(skipped...)
}

// canonical reports whether r may stand for recipe's own level.
func canonical(r *results.Results, recipe string) bool {
	return r.Recipe == recipe && r.Mode == ModeCold && r.PR == "" && r.Verdict != results.VerdictUnverified
}
