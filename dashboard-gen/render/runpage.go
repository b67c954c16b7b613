package render

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/dashboard-gen/state"
	"coopcloud.tech/cc-ci/internal/results"
)

// runPage is what a run page shows, every value already a string: a site holds one run page
// per build, so the template only places text (html/template still escapes each value for where
// it lands) and does no work of its own.
type runPage struct {
	page
	Key, Recipe, RunID     string
	Build                  int64
	Class, Badge, Verdict  string
	Quick                  bool
	Problem, Capped        string
	Facts                  []fact
	HasResults, Screenshot bool
	Tiers                  []tierRow
	Excerpt                string
	Manifest               []fact
	Link, Rerun            string
}

// fact is one line of the run's facts: a name and its text, linked when Href is set (After
// follows the link).
type fact struct {
	Name, Text, Href, After string
}

// tierRow is one row of the tier table.
type tierRow struct {
	Name, Class, Status, Reason, Lift, Time string
	Warnings, Checks                        []string
	ChecksLabel                             string
}

func (s *Site) runView(run *state.Run, res *results.Results, now time.Time) runPage {
	p := runPage{page: page{s.Title, "../", now}, Key: Key(run.Recipe), Recipe: run.Recipe, RunID: run.RunID,
		Build: run.Build, Class: LevelClass(run), Badge: BadgeText(run), Verdict: Verdict(run), Quick: run.Mode == ModeQuick,
		Problem: run.Problem, HasResults: res != nil, Screenshot: run.Screenshot, Link: run.Link,
		Rerun: results.Rerun{Recipe: run.Recipe, Src: run.Src, Ref: run.Ref, PR: run.PR, Repo: run.Repo, Mode: run.Mode,
			Forge: run.Forge}.Command()}
	if c := run.Capped; c != nil {
		p.Capped = fmt.Sprintf("Level %d is capped by a gap at %s: %s.", run.Level, c.Tier, orDefault(c.Reason, "skipped"))
		if c.Lift != "" {
			p.Capped += " To lift it: " + c.Lift + "."
		}
	}
	build := fact{Name: "Drone build", Text: fmt.Sprintf("#%d", run.Build), Href: run.Link,
		After: fmt.Sprintf(" (%s), run %s", run.Status, run.RunID)}
	if build.Href == "" {
		build.Text += build.After
	}
	repo := fact{Name: "Recipe repo", Text: orDefault(run.Repo, "–")}
	if run.PR != "" {
		if link := s.prLink(run); link != "" {
			repo = fact{Name: repo.Name, Text: repo.Text + " · PR #" + run.PR, Href: link}
		} else {
			repo.Text += " · PR #" + run.PR
		}
	}
	ref := orDefault(run.Ref, "–")
	if run.Version != "" {
		ref += " (release " + run.Version + ")"
	}
	p.Facts = []fact{build, repo, {Name: "Ref", Text: ref}, {Name: "Mode", Text: run.Mode},
		{Name: "Started", Text: when(run.Started)}, {Name: "Finished", Text: when(run.Finished)},
		{Name: "Duration", Text: duration(run.DurationS)}}
	if res != nil {
		p.Facts = append(p.Facts, resultFacts(res)...)
		p.Tiers = tierRows(res.Tiers)
		if res.FailureExcerpt != "" {
			p.Excerpt = excerpt(res.FailureExcerpt)
		}
		for _, k := range slices.Sorted(maps.Keys(res.Manifest)) {
			p.Manifest = append(p.Manifest, fact{Name: k, Text: res.Manifest[k]})
		}
	}
	return p
}

// resultFacts are the facts only results.json knows: the upgrade base, the apps, the teardown.
func resultFacts(res *results.Results) []fact {
	u := res.UpgradeBase
	base := "none"
	switch {
	case u.Version != "":
		base = u.Version
	case u.Commit != "":
		base = "commit " + short(u.Commit)
	}
	if u.Reason != "" {
		base += " (" + u.Reason + ")"
	}
	facts := []fact{{Name: "Upgrade base", Text: base}}
	if len(u.Needs) > 0 {
		facts = append(facts, fact{Name: "The upgrade needs", Text: strings.Join(u.Needs, ", ")})
	}
	apps := make([]string, 0, len(res.Apps))
	for _, a := range res.Apps {
		apps = append(apps, fmt.Sprintf("%s %s (app new ×%d)", a.Role, a.Domain, a.AppNew))
	}
	teardown := "clean"
	if !res.Teardown.Clean {
		teardown = "left " + orDefault(strings.Join(res.Teardown.Residue, ", "), "something behind")
	}
	return append(facts, fact{Name: "Apps", Text: orDefault(strings.Join(apps, ", "), "none")},
		fact{Name: "Teardown", Text: teardown})
}

func tierRows(tiers []results.Tier) []tierRow {
	rows := make([]tierRow, 0, len(tiers))
	for _, t := range tiers {
		row := tierRow{Name: t.Name, Class: tierClass(t), Status: tierStatus(t), Reason: t.Reason, Lift: t.Lift,
			Time: duration(t.DurationS), Warnings: t.Warnings}
		for _, c := range t.Checks {
			line := string(c.Status) + ": " + c.Name
			if c.Detail != "" {
				line += " — " + c.Detail
			}
			row.Checks = append(row.Checks, line)
		}
		row.ChecksLabel = fmt.Sprintf("%d checks", len(t.Checks))
		if len(t.Checks) == 1 {
			row.ChecksLabel = "1 check"
		}
		rows = append(rows, row)
	}
	return rows
}
