package render

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/dashboard-gen/state"
	"coopcloud.tech/cc-ci/internal/results"
)

// ModeQuick is a quick run's mode: it reused the warm app, so it is never a full verdict.
const ModeQuick = "quick"

// trendLen is how many of a recipe's latest runs the index shows as its trend.
const trendLen = 10

// recipeName is a Co-op Cloud recipe name, as the bridge's enrolment accepts it: such a name is
// its own page key.
// ^[a-z0-9][a-z0-9-]{0,63}$, with the length checked apart: a counted repetition compiles into a
// copy of its class per count, which every process start and every match pays for.
var recipeName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// ValidName reports whether name is a recipe name the enrolment would accept.
func ValidName(name string) bool { return len(name) <= 64 && recipeName.MatchString(name) }

// Key is the file name (without extension) of a recipe's page and badge: the name itself when it
// is a valid recipe name, else a digest of it, so a hostile name from a build's params can never
// choose a path ("../x", "a/b") or collide with a real recipe ('_' is not in recipe names).
func Key(name string) string {
	if ValidName(name) {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return "_" + hex.EncodeToString(sum[:8])
}

// SetsLevel reports whether r may set its recipe's level on the index: a full run (not quick)
// whose usable results hold a verdict on the recipe. A CI error (unverified) says nothing about
// the recipe, and a build without results says nothing at all.
func SetsLevel(r *state.Run) bool {
	return r.HasVerdict() && r.Mode != ModeQuick &&
		(r.Verdict == results.VerdictPass || r.Verdict == results.VerdictFail)
}

// Recipe is one recipe's runs and what its row on the index says.
type Recipe struct {
	Name, Key string
	// Runs are the recipe's runs by build number, oldest first.
	Runs []*state.Run
	// Current is the newest run that sets the level (SetsLevel), nil when none.
	Current *state.Run
	// Since is when Current's verdict began: the finish of the first run of its streak.
	Since time.Time

	changes []Change // its verdict changes, oldest first, at most feedLen
}

// Recipes groups runs by recipe, adds the known recipes that have no run yet, and sorts them by
// name.
func Recipes(runs []state.Run, known []string) []*Recipe {
	by := map[string]*Recipe{}
	get := func(name string) *Recipe {
		r := by[name]
		if r == nil {
			r = &Recipe{Name: name, Key: Key(name)}
			by[name] = r
		}
		return r
	}
	for _, name := range known {
		get(name)
	}
	for i := range runs {
		r := get(runs[i].Recipe)
		r.Runs = append(r.Runs, &runs[i])
	}
	for _, r := range by {
		r.settle()
	}
	return sorted(by)
}

// NewRecipe is one recipe with all its runs, oldest first.
func NewRecipe(name string, runs []state.Run) *Recipe {
	r := &Recipe{Name: name, Key: Key(name)}
	for i := range runs {
		r.Runs = append(r.Runs, &runs[i])
	}
	r.settle()
	return r
}

// FromSummaries are the recipes as the index and the feed show them, from their summaries
// (their Runs are only the latest), with the known recipes that have none, sorted by name.
func FromSummaries(sums map[string]*state.Summary, known []string) []*Recipe {
	by := map[string]*Recipe{}
	for _, name := range known {
		by[name] = &Recipe{Name: name, Key: Key(name)}
	}
	for name, sum := range sums {
		r := &Recipe{Name: name, Key: Key(name), Current: sum.Current, Since: sum.Since}
		for i := range sum.Tail {
			r.Runs = append(r.Runs, &sum.Tail[i])
		}
		for i := range sum.Changes {
			r.changes = append(r.changes, Change{Recipe: r, Run: &sum.Changes[i], From: sum.From[i]})
		}
		by[name] = r
	}
	return sorted(by)
}

func sorted(by map[string]*Recipe) []*Recipe {
	out := make([]*Recipe, 0, len(by))
	for _, r := range by {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Recipe) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Summary is what the state keeps of a recipe built with all its runs (Recipes, NewRecipe).
func (r *Recipe) Summary() *state.Summary {
	sum := &state.Summary{Since: r.Since}
	if r.Current != nil {
		c := *r.Current
		sum.Current = &c
	}
	for _, run := range r.Runs[max(0, len(r.Runs)-trendLen):] {
		sum.Tail = append(sum.Tail, *run)
	}
	for _, c := range r.changes {
		sum.Changes, sum.From = append(sum.Changes, *c.Run), append(sum.From, c.From)
	}
	return sum
}

// settle finds the current verdict, since when it holds, and the verdict changes.
func (r *Recipe) settle() {
	for i := len(r.Runs) - 1; i >= 0; i-- {
		run := r.Runs[i]
		if !SetsLevel(run) {
			continue
		}
		if r.Current == nil {
			r.Current = run
		} else if run.Verdict != r.Current.Verdict {
			break
		}
		r.Since = run.Finished
	}
	prev := ""
	for _, run := range r.Runs {
		if SetsLevel(run) && run.Verdict != prev {
			r.changes = append(r.changes, Change{Recipe: r, Run: run, From: prev})
			prev = run.Verdict
		}
	}
	r.changes = r.changes[max(0, len(r.changes)-feedLen):]
}

// Latest is the recipe's newest run of any kind, nil when it has none.
func (r *Recipe) Latest() *state.Run {
	if len(r.Runs) == 0 {
		return nil
	}
	return r.Runs[len(r.Runs)-1]
}

// Notes are the sentences the index and the recipe page add to the level: what caps it and what
// would lift it, and what a newer run that does not set the level says.
func (r *Recipe) Notes() []string {
	var notes []string
	if c := r.Current; c != nil && c.Capped != nil {
		n := fmt.Sprintf("Level %d is capped by a gap at %s: %s.", c.Level, c.Capped.Tier, orDefault(c.Capped.Reason, "skipped"))
		if c.Capped.Lift != "" {
			n += " To lift it: " + c.Capped.Lift + "."
		}
		notes = append(notes, n)
	}
	latest := r.Latest()
	if latest == nil || latest == r.Current {
		return notes
	}
	switch {
	case !latest.Final():
		notes = append(notes, fmt.Sprintf("Build #%d is %s.", latest.Build, latest.Status))
	case latest.HasVerdict() && latest.Mode == ModeQuick:
		notes = append(notes, fmt.Sprintf("Newer quick run #%d: %s, level %d (not a full verdict).", latest.Build, Verdict(latest), latest.Level))
	default:
		notes = append(notes, fmt.Sprintf("Newer build #%d: %s.", latest.Build, Verdict(latest)))
	}
	return notes
}

// Verdict says in a few words how a run ended.
func Verdict(r *state.Run) string {
	switch {
	case !r.Final():
		return r.Status
	case r.Results == state.NotYet:
		return "results not read yet (build " + r.Status + ")"
	case r.Results == state.Missing:
		return "no results (build " + r.Status + ")"
	case r.Results == state.Invalid:
		return "unusable results (build " + r.Status + ")"
	case r.Verdict == results.VerdictPass:
		return "pass"
	case r.Verdict == results.VerdictFail:
		if r.Failed != nil {
			return "fail at " + r.Failed.Tier
		}
		return "fail"
	default:
		if r.Failed != nil && r.Failed.Reason != "" {
			return "CI error, not the recipe (" + r.Failed.Tier + ": " + r.Failed.Reason + ")"
		}
		return "CI error, not the recipe"
	}
}

// BadgeText is the level badge's text for a run.
func BadgeText(r *state.Run) string {
	switch {
	case r == nil:
		return "untested"
	case !r.Final():
		return r.Status
	case !r.HasVerdict():
		return "no results"
	case r.Verdict == results.VerdictFail:
		return fmt.Sprintf("level %d · fail", r.Level)
	case r.Verdict == results.VerdictPass:
		return fmt.Sprintf("level %d", r.Level)
	default:
		return "CI error"
	}
}

// LevelClass is the CSS class (and badge colour) of a run: l0..l5 for a pass, fail, running or
// none.
func LevelClass(r *state.Run) string {
	switch {
	case r == nil:
		return "none"
	case !r.Final():
		return "running"
	case !r.HasVerdict():
		return "none"
	case r.Verdict == results.VerdictFail:
		return "fail"
	case r.Verdict == results.VerdictPass:
		return fmt.Sprintf("l%d", min(max(r.Level, 0), 5))
	default:
		return "none"
	}
}

// Cell is one run in a recipe's trend.
type Cell struct {
	Class, Href, Title string
}

// Trend is the recipe's latest runs, oldest first, linked from a page at root ("" or "../").
func (r *Recipe) Trend(root string) []Cell {
	runs := r.Runs[max(0, len(r.Runs)-trendLen):]
	cells := make([]Cell, 0, len(runs))
	for _, run := range runs {
		class := "none"
		switch {
		case !run.Final():
			class = "running"
		case run.HasVerdict() && run.Verdict == results.VerdictPass:
			class = "pass"
		case run.HasVerdict() && run.Verdict == results.VerdictFail:
			class = "fail"
		}
		title := fmt.Sprintf("#%d: %s", run.Build, Verdict(run))
		if run.HasVerdict() && run.Verdict != results.VerdictUnverified {
			title += fmt.Sprintf(", level %d", run.Level)
		}
		if run.Mode == ModeQuick {
			class += " quick"
			title += " (quick run)"
		}
		cells = append(cells, Cell{Class: class, Href: root + "run/" + run.RunID + ".html", Title: title})
	}
	return cells
}

// Streak names the current verdict's colour: green for a pass, red for a fail.
func (r *Recipe) Streak() string {
	if r.Current != nil && r.Current.Verdict == results.VerdictPass {
		return "green"
	}
	return "red"
}

// Counts summarises the recipes for the index's first line.
func Counts(recipes []*Recipe) string {
	green, red, untested := 0, 0, 0
	for _, r := range recipes {
		switch {
		case r.Current == nil:
			untested++
		case r.Current.Verdict == results.VerdictPass:
			green++
		default:
			red++
		}
	}
	noun := "recipes"
	if len(recipes) == 1 {
		noun = "recipe"
	}
	return fmt.Sprintf("%d %s: %d green, %d red, %d without a full verdict", len(recipes), noun, green, red, untested)
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}
