package abra

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Lint severities, as abra prints them in its SEVERITY column.
const (
	SeverityError = "error"
	SeverityWarn  = "warn"
)

// Cell values abra prints in the SATISFIED and SKIPPED columns.
const (
	markYes  = "✅"
	markNo   = "❌"
	markNone = "-"
)

// LintRule is one row of `abra recipe lint`'s table.
type LintRule struct {
	Ref         string // abra's rule number, e.g. "R014"
	Description string // the RULE column
	Severity    string // SeverityError or SeverityWarn
	Satisfied   bool
	Skipped     bool // abra skipped the rule for this recipe; Satisfied is then false
}

// Failed reports whether the rule counts against the recipe: an error-severity rule that was
// checked and not satisfied. Warnings never fail lint, as in abra.
func (r LintRule) Failed() bool {
	return r.Severity == SeverityError && !r.Skipped && !r.Satisfied
}

// lintSentinel is the warning abra logs after the table when an error-severity rule failed.
const lintSentinel = "critical errors present"

var (
	ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)
	ruleRef    = regexp.MustCompile(`^R[0-9]{3}$`)
	// lintColumns are the columns ParseLint needs; others (abra's how-to-resolve) are ignored.
	lintColumns = []string{"ref", "rule", "severity", "satisfied", "skipped"}
)

// ParseLint reads the rule table that `abra recipe lint` prints (abra exits 0 whether or not a
// rule fails, so the table is the only verdict). Box-drawing or ASCII borders, colour codes and
// lines around the table are tolerated; anything it cannot read for certain is an error, never
// "all satisfied": no table, a missing column, an unknown severity or mark, a duplicate rule, or
// abra's "critical errors present" warning without a failed error-severity row.
func ParseLint(output string) ([]LintRule, error) {
	var cols map[string]int
	var rules []LintRule
	seen := map[string]bool{}
	for _, raw := range strings.Split(output, "\n") {
		cells, ok := tableCells(ansiEscape.ReplaceAllString(raw, ""))
		if !ok {
			continue
		}
		if cols == nil {
			if c, isHeader := headerColumns(cells); isHeader {
				cols = c
			}
			continue
		}
		row, err := lintRow(cells, cols)
		if err != nil {
			return nil, fmt.Errorf("parse abra lint output: %w in line %q", err, strings.TrimSpace(raw))
		}
		if row.Ref == "" { // a wrapped cell continues the row above
			if len(rules) == 0 {
				return nil, fmt.Errorf("parse abra lint output: a continuation line before the first rule: %q", strings.TrimSpace(raw))
			}
			rules[len(rules)-1].Description = strings.TrimSpace(rules[len(rules)-1].Description + " " + row.Description)
			continue
		}
		if seen[row.Ref] {
			return nil, fmt.Errorf("parse abra lint output: rule %s appears twice", row.Ref)
		}
		seen[row.Ref] = true
		rules = append(rules, row)
	}
	if cols == nil {
		return nil, errors.New("parse abra lint output: no rule table (no header with REF, RULE, SEVERITY, SATISFIED, SKIPPED)")
	}
	if len(rules) == 0 {
		return nil, errors.New("parse abra lint output: the rule table has no rows")
	}
	if strings.Contains(ansiEscape.ReplaceAllString(output, ""), lintSentinel) && len(LintFailures(rules)) == 0 {
		return nil, fmt.Errorf("parse abra lint output: abra reports %q but no error-severity rule reads as failed", lintSentinel)
	}
	return rules, nil
}

// LintFailures returns the rules that fail lint (see LintRule.Failed), in table order.
func LintFailures(rules []LintRule) []LintRule {
	var out []LintRule
	for _, r := range rules {
		if r.Failed() {
			out = append(out, r)
		}
	}
	return out
}

// tableCells splits a table line into trimmed cells; ok=false for border lines and text that is
// not a table row.
func tableCells(line string) ([]string, bool) {
	line = strings.TrimSpace(line)
	var sep string
	switch {
	case strings.HasPrefix(line, "│") && strings.HasSuffix(line, "│"):
		sep = "│"
	case strings.HasPrefix(line, "┃") && strings.HasSuffix(line, "┃"):
		sep = "┃"
	case strings.HasPrefix(line, "|") && strings.HasSuffix(line, "|"):
		sep = "|"
	default:
		return nil, false
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(line, sep), sep)
	if strings.Trim(inner, "─━-+┼╋═ |│┃") == "" {
		return nil, false // a separator drawn inside side borders
	}
	parts := strings.Split(inner, sep)
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts, true
}

// headerColumns maps the needed column names to their index, when cells are the header.
func headerColumns(cells []string) (map[string]int, bool) {
	cols := map[string]int{}
	for i, c := range cells {
		cols[strings.ToLower(c)] = i
	}
	for _, want := range lintColumns {
		if _, ok := cols[want]; !ok {
			return nil, false
		}
	}
	return cols, true
}

// lintRow reads one body row. A row with an empty REF is a wrapped continuation: only its RULE
// cell may hold text.
func lintRow(cells []string, cols map[string]int) (LintRule, error) {
	for _, want := range lintColumns {
		if cols[want] >= len(cells) {
			return LintRule{}, fmt.Errorf("%d cells where the header has more", len(cells))
		}
	}
	ref, desc := cells[cols["ref"]], cells[cols["rule"]]
	sev, sat, skip := cells[cols["severity"]], cells[cols["satisfied"]], cells[cols["skipped"]]
	if ref == "" {
		if sev != "" || sat != "" || skip != "" {
			return LintRule{}, errors.New("a row without a rule number")
		}
		return LintRule{Description: desc}, nil
	}
	if !ruleRef.MatchString(ref) {
		return LintRule{}, fmt.Errorf("rule number %q is not of the form R000", ref)
	}
	r := LintRule{Ref: ref, Description: desc, Severity: sev}
	if sev != SeverityError && sev != SeverityWarn {
		return LintRule{}, fmt.Errorf("rule %s: unknown severity %q", ref, sev)
	}
	switch skip {
	case markYes:
		r.Skipped = true
	case markNone:
	default:
		return LintRule{}, fmt.Errorf("rule %s: unknown SKIPPED mark %q", ref, skip)
	}
	switch {
	case sat == markYes && !r.Skipped:
		r.Satisfied = true
	case sat == markNo && !r.Skipped:
	case sat == markNone && r.Skipped:
	default:
		return LintRule{}, fmt.Errorf("rule %s: SATISFIED %q does not fit SKIPPED %q", ref, sat, skip)
	}
	return r, nil
}
