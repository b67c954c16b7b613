package render

import (
	"bytes"
	"strconv"

	"coopcloud.tech/cc-ci/dashboard-gen/state"
)

// recipePage is what a recipe page shows: its row of the index and its history, newest first.
type recipePage struct {
	page
	Row      row
	Runs     []*state.Run
	BadgeURL string
}

// writeHTML writes the recipe page p: the bytes the "recipe" template (templates/recipe.html in
// templates/layout.html) renders, written directly (see writeLayout); head is layoutHead.
func (p *recipePage) writeHTML(b *bytes.Buffer, head string) {
	writeLayout(b, head, &p.page, p.Row.Name+" · "+p.Site, p.writeContent)
}

// writeContent writes templates/recipe.html's "content".
func (p *recipePage) writeContent(b *bytes.Buffer) {
	el(b, `<nav class="crumbs"><a href="../index.html">All recipes</a> › `, p.Row.Name, "</nav>\n<h1>")
	el(b, "", p.Row.Name, "")
	link(b, ` <img class="shield" src="../badge/`, p.Row.Key, `.svg" alt="`)
	el(b, "", p.Row.Badge, `"></h1>`)
	if c := p.Row.Current; c != nil {
		el(b, "\n<p class=\"lead\">Level "+strconv.Itoa(c.Level)+", ", Verdict(c), "")
		link(b, `: <a href="../run/`, c.RunID, `.html">build #`+strconv.FormatInt(c.Build, 10)+"</a> of ")
		el(b, "", when(c.Finished), ".</p>")
	} else {
		b.WriteString("\n<p class=\"lead\">Never tested: no full run has a verdict yet.</p>")
	}
	for _, n := range p.Row.Notes {
		el(b, "\n<p>", n, "</p>")
	}
	el(b, "\n<p class=\"muted\">Badge for a README: <code>", p.BadgeURL, "</code></p>\n<h2>History, newest first</h2>\n"+
		"<div class=\"scroll\">\n<table id=\"history\">\n<thead><tr><th>Build</th><th>Finished</th><th>Level</th>"+
		"<th>Verdict</th><th>Mode</th><th>PR</th><th>Ref</th><th>Duration</th><th>Log</th></tr></thead>\n<tbody>")
	for _, r := range p.Runs {
		link(b, "\n<tr>\n<td><a href=\"../run/", r.RunID, ".html\">#"+strconv.FormatInt(r.Build, 10)+"</a></td>\n<td>")
		if r.Final() {
			el(b, "", when(r.Finished), "</td>\n<td>")
		} else {
			el(b, "", r.Status, "</td>\n<td>")
		}
		if r.HasVerdict() {
			el(b, `<span class="badge `, LevelClass(r), `">L`+strconv.Itoa(r.Level)+"</span>")
		} else {
			b.WriteString("–")
		}
		el(b, "</td>\n<td>", Verdict(r), "</td>\n<td>")
		if r.Mode == ModeQuick {
			b.WriteString(`<span class="quick">quick</span>`)
		} else {
			el(b, "", r.Mode, "")
		}
		b.WriteString("</td>\n<td>")
		if r.PR != "" {
			el(b, "#", r.PR, "")
		} else {
			b.WriteString("–")
		}
		el(b, "</td>\n<td><code>", short(r.Ref), "</code></td>\n<td>")
		el(b, "", duration(r.DurationS), "</td>\n<td>")
		if r.Link != "" {
			link(b, `<a href="`, r.Link, `">Drone</a>`)
		} else {
			b.WriteString("–")
		}
		b.WriteString("</td>\n</tr>")
	}
	if len(p.Runs) == 0 {
		b.WriteString("\n<tr><td colspan=\"9\" class=\"muted\">No runs yet.</td></tr>")
	}
	b.WriteString("\n</tbody>\n</table>\n</div>")
}
