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
	if r.UpgradeBase.Version != "" {
		fmt.Fprintf(&b, "Upgrade base: `%s`\n\n", r.UpgradeBase.Version)
	} else if r.UpgradeBase.Reason != "" {
		fmt.Fprintf(&b, "Upgrade base: none (%s)\n\n", r.UpgradeBase.Reason)
	}
	b.WriteString("| tier | status | reason | time |\n|---|---|---|---|\n")
	for _, t := range r.Tiers {
		fmt.Fprintf(&b, "| %s | %s %s | %s | %s |\n", t.Name, icon(t.Status), t.Status, cell(t.Reason), fmtSeconds(t.DurationS))
	}
	fmt.Fprintf(&b, "\nDeploys: %d · teardown clean: %t\n", r.Deploys, r.Teardown.Clean)
	if len(r.Teardown.Residue) > 0 {
		fmt.Fprintf(&b, "Left behind: %s\n", strings.Join(r.Teardown.Residue, ", "))
	}
	if r.FailureExcerpt != "" {
		fence := codeFence(r.FailureExcerpt)
		fmt.Fprintf(&b, "\n<details><summary>failure excerpt</summary>\n\n%s\n%s\n%s\n</details>\n", fence, strings.TrimRight(r.FailureExcerpt, "\n"), fence)
	}
	return b.String()
}

// WriteSummary writes Summary(r) atomically.
func WriteSummary(path string, r *Results) error {
	return atomicfile.Write(path, []byte(Summary(r)), 0o644)
}

// codeFence returns a backtick fence longer than any run of backticks in s, so log text (which a
// PR author controls) cannot close the block and inject markdown into the PR comment.
func codeFence(s string) string {
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
