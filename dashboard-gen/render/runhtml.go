package render

import (
	"bytes"
	"strconv"
)

// writeHTML writes the run page p: the bytes the "run" template (templates/run.html in
// templates/layout.html) renders, written directly (see writeLayout); head is layoutHead.
func (p *runPage) writeHTML(b *bytes.Buffer, head string) {
	writeLayout(b, head, &p.page, p.Recipe+" build #"+strconv.FormatInt(p.Build, 10)+" · "+p.Site, p.writeContent)
}

// writeContent writes templates/run.html's "content".
func (p *runPage) writeContent(b *bytes.Buffer) {
	build := strconv.FormatInt(p.Build, 10)
	link(b, `<nav class="crumbs"><a href="../index.html">All recipes</a> › <a href="../recipe/`, p.Key, `.html">`)
	el(b, "", p.Recipe, "</a> › build #"+build+"</nav>\n<h1>")
	el(b, "", p.Recipe, " · build #"+build+` <span class="badge `)
	el(b, "", p.Class, `">`)
	el(b, "", p.Badge, "</span></h1>\n<p class=\"lead\">")
	el(b, "", p.Verdict, ".</p>")
	if p.Quick {
		b.WriteString("\n<p class=\"note quick\">Quick run: it reused the warm app, so it is not a full verdict and never sets the recipe's level.</p>")
	}
	if p.Problem != "" {
		el(b, "\n<p class=\"note problem\">No usable results: ", p.Problem, ".</p>")
	}
	if p.Capped != "" {
		el(b, "\n<p class=\"note\">", p.Capped, "</p>")
	}
	b.WriteString("\n<dl class=\"facts\">")
	for _, f := range p.Facts {
		el(b, "\n<dt>", f.Name, "</dt><dd>")
		if f.Href != "" {
			link(b, `<a href="`, f.Href, `">`)
			el(b, "", f.Text, "</a>")
			el(b, "", f.After, "</dd>")
		} else {
			el(b, "", f.Text, "</dd>")
		}
	}
	b.WriteString("\n</dl>")
	if p.HasResults {
		p.writeResults(b)
	}
	if p.Screenshot {
		link(b, "\n<h2>Screenshot</h2>\n<figure><img class=\"screenshot\" src=\"", p.RunID,
			".png\" alt=\"Screenshot taken by the run's browser checks\"></figure>")
	}
	b.WriteString("\n<h2>Links</h2>\n<ul>")
	if p.HasResults {
		link(b, `<li><a href="`, p.RunID, `.json">results.json</a></li>`)
	}
	if p.Link != "" {
		link(b, `<li><a href="`, p.Link, `">Drone log</a></li>`)
	}
	link(b, "\n<li><a href=\"../recipe/", p.Key, `.html">History of `)
	el(b, "", p.Recipe, "</a></li>\n</ul>\n<h2>Rerun by hand</h2>\n<pre class=\"cmd\"><code>")
	el(b, "", p.Rerun, "</code></pre>")
}

// writeResults writes what run.html shows only of a run with results: the tier table, the
// failure excerpt and the manifest.
func (p *runPage) writeResults(b *bytes.Buffer) {
	b.WriteString("\n<h2>Tiers</h2>\n<div class=\"scroll\">\n<table id=\"tiers\">\n" +
		"<thead><tr><th>Tier</th><th>Status</th><th>Reason</th><th>Time</th></tr></thead>\n<tbody>")
	for _, t := range p.Tiers {
		el(b, "\n<tr class=\"t-", t.Class, "\">\n<td>")
		el(b, "", t.Name, "</td>\n<td>")
		el(b, "", t.Status, "</td>\n<td>")
		el(b, "", t.Reason, "")
		if t.Lift != "" {
			el(b, `<span class="lift">To lift it: `, t.Lift, "</span>")
		}
		for _, w := range t.Warnings {
			el(b, `<span class="warn">Warning: `, w, "</span>")
		}
		if len(t.Checks) > 0 {
			el(b, "<details><summary>", t.ChecksLabel, "</summary><ul>")
			for _, c := range t.Checks {
				el(b, "<li>", c, "</li>")
			}
			b.WriteString("</ul></details>")
		}
		el(b, "</td>\n<td>", t.Time, "</td>\n</tr>")
	}
	if len(p.Tiers) == 0 {
		b.WriteString("\n<tr><td colspan=\"4\" class=\"muted\">No tier ran.</td></tr>")
	}
	b.WriteString("\n</tbody>\n</table>\n</div>")
	if p.Excerpt != "" {
		el(b, "\n<h2>Failure excerpt</h2>\n<pre class=\"excerpt\">", p.Excerpt, "</pre>")
	}
	if len(p.Manifest) > 0 {
		b.WriteString("\n<h2>Manifest</h2>\n<p class=\"muted\">The version tested and the overlays in effect.</p>\n<ul>")
		for _, m := range p.Manifest {
			el(b, "<li>", m.Name, ": <code>")
			el(b, "", m.Text, "</code></li>")
		}
		b.WriteString("</ul>")
	}
}
