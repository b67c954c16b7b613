package results

import (
	"fmt"
	"strings"

	"coopcloud.tech/cc-ci/internal/atomicfile"
)

// Summary renders the human summary.md: a table of tiers (status, reason, time), the level and
// verdict, and the failure excerpt when there is one.
func Summary(r *Results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## cc-ci: %s — verdict **%s**, level %d/5\n\n", r.Recipe, strings.ToUpper(r.Verdict), r.Level)
	fmt.Fprintf(&b, "ref `%s`", short(r.Ref))
	if r.PR != "" {
		fmt.Fprintf(&b, " · PR #%s", r.PR)
	}
	fmt.Fprintf(&b, " · run `%s` · app `%s` · %s\n\n", r.RunID, r.Domain, fmtSeconds(r.DurationS))
	if r.Mode == ModeQuick {
		b.WriteString("**Quick run**: the warm app was upgraded to this commit and checked; install, backup and restore were not run. A quick result is never a merge gate: `!testme` runs the whole ladder.\n\n")
	}
	if why := r.Manifest[ManifestQuickFallback]; why != "" {
		fmt.Fprintf(&b, "Quick run requested; ran cold instead: %s.\n\n", cell(why))
	}
	if ov := r.Manifest["overlay"]; ov != "" && ov != "generic" {
		fmt.Fprintf(&b, "Overlay in effect: `%s` (%s)\n\n", cell(ov), cell(r.Manifest["overlay-source"]))
	}
	switch {
	case r.UpgradeBase.Version != "":
		fmt.Fprintf(&b, "Upgrade base: `%s` (%s)\n\n", r.UpgradeBase.Version, cell(r.UpgradeBase.Reason))
	case r.UpgradeBase.Commit != "":
		fmt.Fprintf(&b, "Upgrade base: commit `%s` (%s)\n\n", short(r.UpgradeBase.Commit), cell(r.UpgradeBase.Reason))
	case r.UpgradeBase.Reason != "":
		fmt.Fprintf(&b, "Upgrade base: none (%s)\n\n", cell(r.UpgradeBase.Reason))
	}
	if len(r.UpgradeBase.Needs) > 0 {
		fmt.Fprintf(&b, "This upgrade needs: %s\n\n", cell(strings.Join(r.UpgradeBase.Needs, ", ")))
	}
	b.WriteString("| tier | status | reason | time |\n|---|---|---|---|\n")
	for _, t := range r.Tiers {
		status := string(t.Status)
		if t.Gap() {
			status = "skip (gap)"
		}
		fmt.Fprintf(&b, "| %s | %s %s | %s | %s |\n", t.Name, icon(t.Status), status, cell(t.Reason), fmtSeconds(t.DurationS))
	}
	if c := CappedBy(r.Tiers); c != nil {
		fmt.Fprintf(&b, "\nLevel %d is capped by a gap at %s: %s.", r.Level, c.Name, cell(c.Reason))
		if c.Lift != "" {
			fmt.Fprintf(&b, " To lift it: %s.", cell(c.Lift))
		}
		b.WriteString("\n")
	}
	for _, t := range r.Tiers {
		for _, w := range t.Warnings {
			fmt.Fprintf(&b, "\n⚠️ %s: %s", t.Name, cell(w))
		}
	}
	for _, a := range r.Allowances {
		fmt.Fprintf(&b, "\n🔓 allowed by the operator's policy: %s", cell(a))
	}
	apps := make([]string, 0, len(r.Apps))
	for _, a := range r.Apps {
		apps = append(apps, fmt.Sprintf("%s `%s` (app new ×%d)", a.Role, a.Domain, a.AppNew))
	}
	fmt.Fprintf(&b, "\nApps: %s · teardown clean: %t\n", strings.Join(apps, ", "), r.Teardown.Clean)
	if len(r.Teardown.Residue) > 0 {
		fmt.Fprintf(&b, "Left behind: %s\n", strings.Join(r.Teardown.Residue, ", "))
	}
	if r.FailureExcerpt != "" {
		fence := CodeFence(r.FailureExcerpt)
		fmt.Fprintf(&b, "\n<details><summary>failure excerpt</summary>\n\n%s\n%s\n%s\n</details>\n", fence, strings.TrimRight(r.FailureExcerpt, "\n"), fence)
	}
	return b.String()
}

// WriteSummary writes Summary(r) atomically.
func WriteSummary(path string, r *Results) error {
	return atomicfile.Write(path, []byte(Summary(r)), 0o644)
}

// CodeFence returns a backtick fence for a code block holding s: at least three backticks and
// longer than any run of backticks in s. A closing fence must be at least as long as the opening
// one (https://spec.commonmark.org/0.31.2/#fenced-code-blocks), so log text (which a PR author
// controls) cannot close the block and go on as Markdown in the PR comment.
func CodeFence(s string) string {
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

func icon(s Status) string {
	switch s {
	case Pass:
		return "✅"
	case Fail:
		return "❌"
	case Skip:
		return "⏭"
	default:
		return "⚠️"
	}
}

// cell keeps a reason on one table row.
func cell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	if len(s) > 200 {
		s = s[:197] + "..."
	}
	return s
}

func short(ref string) string {
	if len(ref) > 12 {
		return ref[:12]
	}
	return ref
}

func fmtSeconds(s float64) string {
	if s < 60 {
		return fmt.Sprintf("%.1fs", s)
	}
	return fmt.Sprintf("%dm%02ds", int(s)/60, int(s)%60)
}
