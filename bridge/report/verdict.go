package report

import (
	"fmt"
	"strconv"
	"strings"

	"coopcloud.tech/cc-ci/bridge/forge"
	"coopcloud.tech/cc-ci/internal/results"
)

// VersionKey is the results.json manifest key read for the recipe version a baseline run tested,
// to name it in the regression line ("since 0.2.0+2.0.0"); without it the line names the
// baseline's commit.
const VersionKey = "version"

// Verdict renders the sticky comment's summary of a finished run, and its commit status.
// baseline is the recipe's last canonical cold run (see Baseline), or nil: when res is a lower
// level, the summary says so first. res nil (no results at all) is reported as BuildError.
//
// Presentation never changes the verdict (DESIGN 3): pass is success, fail is failure, and
// unverified (the CI box, not the recipe) is an error status with a hint to retry.
func Verdict(run Run, res, baseline *results.Results, links Links) (string, forge.Status) {
	if res == nil {
		return BuildError(run, "error", "the run left no results")
	}
	// A quick request that found no warm app ran cold (the plugin says why in the manifest): its
	// verdict is a full one.
	fellBack := res.Manifest[results.ManifestQuickFallback]
	quick := res.Mode == ModeQuick || (run.Mode == ModeQuick && fellBack == "")
	var b strings.Builder
	b.WriteString(Marker + "\n")
	drop := regression(res, baseline, quick)
	if drop != "" {
		b.WriteString(drop + "\n\n")
	}
	var st forge.Status
	switch res.Verdict {
	case results.VerdictPass:
		fmt.Fprintf(&b, "### ✅ cc-ci: level %d/5 · pass\n\n", res.Level)
		st = status(run, forge.StateSuccess, prefixQuick(quick, fmt.Sprintf("level %d/5 · pass", res.Level)+wasLevel(drop, baseline)))
	case results.VerdictFail:
		t := firstWith(res.Tiers, results.Fail)
		fmt.Fprintf(&b, "### ❌ cc-ci: level %d/5 · fail at %s\n\n", res.Level, text(t.Name))
		desc := "fail at " + strings.ToUpper(t.Name)
		if t.Reason != "" {
			desc += ": " + t.Reason
		}
		st = status(run, forge.StateFailure, prefixQuick(quick, desc))
	default:
		b.WriteString("### ⚠️ cc-ci: CI error, no verdict\n\n")
		cause := unverifiedCause(res)
		fmt.Fprintf(&b, "**%s.** Cause: %s.\n\n", capitalize(retryHint), text(cause))
		st = status(run, forge.StateError, "CI error, not the recipe (!testme to retry): "+cause)
	}
	fmt.Fprintf(&b, "Tested %s in %s: %s.\n", subject(run), duration(res.DurationS), buildLink(run))
	if quick {
		b.WriteString("\n_" + quickLabel + "._\n")
	}
	if fellBack != "" && !quick {
		fmt.Fprintf(&b, "\n_Quick run requested; it ran cold instead (%s), so this is a full verdict._\n", text(fellBack))
	}
	writeUpgradeBase(&b, res.UpgradeBase)
	writeTiers(&b, res)
	if res.FailureExcerpt != "" {
		b.WriteString("\n<details><summary>failure excerpt</summary>\n\n")
		b.WriteString(fenced("", excerpt(res.FailureExcerpt)))
		b.WriteString("\n</details>\n")
	}
	b.WriteString(footer(run, links, res.RunID))
	return b.String(), st
}

// regression is the first line of a summary whose level dropped below the baseline's; empty when
// it did not. A recipe always at level 1 is not news, a drop is. A quick run (reused app) and a
// CI error are not comparable with a full cold verdict, so they never claim a regression.
func regression(res, baseline *results.Results, quick bool) string {
	if baseline == nil || quick || res.Verdict == results.VerdictUnverified ||
		baseline.Recipe != res.Recipe || res.Level >= baseline.Level {
		return ""
	}
	since, of := baseline.Manifest[VersionKey], "release"
	if since == "" {
		since, of = shortSHA(baseline.Ref), "default branch"
	}
	return fmt.Sprintf("**level %d -> %d since %s** 📉 the last cold run of the %s (%s) reached level %d.",
		baseline.Level, res.Level, code(since), of, code(baseline.RunID), baseline.Level)
}

func wasLevel(drop string, baseline *results.Results) string {
	if drop == "" {
		return ""
	}
	return fmt.Sprintf(" (was level %d)", baseline.Level)
}

func prefixQuick(quick bool, desc string) string {
	if quick {
		return "quick run, not a full verdict · " + desc
	}
	return desc
}

// firstWith is the first tier in ladder order with status s (a zero tier named "?" when none).
func firstWith(tiers []results.Tier, s results.Status) results.Tier {
	for _, t := range tiers {
		if t.Status == s {
			return t
		}
	}
	return results.Tier{Name: "?"}
}

// unverifiedCause says why a run reached no verdict, in the order results.Finalize decides it.
func unverifiedCause(res *results.Results) string {
	for _, t := range res.Tiers {
		if t.Status != results.Pass && t.Status != results.Fail && t.Status != results.Skip {
			if t.Reason == "" {
				return t.Name + " " + string(t.Status)
			}
			return t.Name + ": " + t.Reason
		}
	}
	if results.Verdict(res.Tiers) == results.VerdictUnverified {
		return "no tier was verified"
	}
	if !res.Teardown.Clean {
		if len(res.Teardown.Residue) == 0 {
			return "teardown did not finish clean"
		}
		return "teardown left " + strings.Join(res.Teardown.Residue, ", ")
	}
	return "the deploy-count guard failed: " + strconv.Itoa(res.Deploys) + " app new for " + strconv.Itoa(len(res.Apps)) + " apps"
}

func writeUpgradeBase(b *strings.Builder, u results.UpgradeBase) {
	switch {
	case u.Version != "":
		fmt.Fprintf(b, "\nUpgrade tested from %s.\n", code(u.Version))
	case u.Commit != "":
		fmt.Fprintf(b, "\nUpgrade tested from commit %s.\n", code(shortSHA(u.Commit)))
	case u.Reason != "":
		fmt.Fprintf(b, "\nNo upgrade base: %s.\n", text(u.Reason))
	}
}

// writeTiers is the tier table, what would lift a level capped by a gap, and the warnings.
func writeTiers(b *strings.Builder, res *results.Results) {
	if len(res.Tiers) == 0 {
		b.WriteString("\n_No tier ran._\n")
		return
	}
	b.WriteString("\n| tier | status | reason | time |\n|---|---|---|---|\n")
	for _, t := range res.Tiers {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", text(t.Name), tierStatus(t), text(t.Reason), duration(t.DurationS))
	}
	if c := results.CappedBy(res.Tiers); c != nil {
		fmt.Fprintf(b, "\n**Level %d is capped by a gap at %s:** %s.", res.Level, text(c.Name), text(orDefault(c.Reason, "skipped")))
		if c.Lift != "" {
			fmt.Fprintf(b, " To lift it: %s.", text(c.Lift))
		}
		b.WriteString("\n")
	}
	first := true
	for _, t := range res.Tiers {
		for _, w := range t.Warnings {
			if first {
				b.WriteString("\n")
				first = false
			}
			fmt.Fprintf(b, "- ⚠️ %s: %s\n", text(t.Name), text(w))
		}
	}
}

func tierStatus(t results.Tier) string {
	switch {
	case t.Status == results.Pass:
		return "✅ pass"
	case t.Status == results.Fail:
		return "❌ fail"
	case t.Gap():
		return "⏭ skip (gap)"
	case t.Status == results.Skip:
		return "⏭ skip (declared)"
	default:
		return "⚠️ " + text(string(t.Status))
	}
}

// duration is summary.md's time format: seconds under a minute, else minutes and seconds.
func duration(s float64) string {
	if s < 60 {
		return fmt.Sprintf("%.1fs", s)
	}
	return fmt.Sprintf("%dm%02ds", int(s)/60, int(s)%60)
}
