package render

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/dashboard-gen/state"
	"coopcloud.tech/cc-ci/internal/results"
)

// feedLen is how many verdict changes the feed keeps.
const feedLen = 50

// Change is a recipe's verdict changing: its first verdict, going red, or green again.
type Change struct {
	Recipe *Recipe
	Run    *state.Run
	// From is the previous verdict, "" for the recipe's first.
	From string
}

// Changes are the verdict changes of every recipe, newest first, at most feedLen. Only runs that
// set a level count (SetsLevel): a quick run or a CI error is no news about the recipe.
func Changes(recipes []*Recipe) []Change {
	var out []Change
	for _, r := range recipes {
		out = append(out, r.changes...)
	}
	slices.SortFunc(out, func(a, b Change) int {
		if c := b.Run.Finished.Compare(a.Run.Finished); c != 0 {
			return c
		}
		return cmp.Compare(b.Run.Build, a.Run.Build)
	})
	return out[:min(len(out), feedLen)]
}

// Title says what changed, in the words a subscriber scans for.
func (c Change) Title() string {
	name, run := c.Recipe.Name, c.Run
	switch {
	case run.Verdict == results.VerdictFail && c.From == "":
		return fmt.Sprintf("%s is red: %s, level %d (build #%d)", name, Verdict(run), run.Level, run.Build)
	case run.Verdict == results.VerdictFail:
		return fmt.Sprintf("%s went red: %s, level %d (build #%d)", name, Verdict(run), run.Level, run.Build)
	case c.From == "":
		return fmt.Sprintf("%s is green: level %d (build #%d)", name, run.Level, run.Build)
	default:
		return fmt.Sprintf("%s is green again: level %d (build #%d)", name, run.Level, run.Build)
	}
}

// Atom (RFC 4287) documents, as encoding/xml writes them (it escapes every value).
type (
	atomFeed struct {
		XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
		Base    string      `xml:"xml:base,attr,omitempty"`
		Title   string      `xml:"title"`
		ID      string      `xml:"id"`
		Updated string      `xml:"updated"`
		Author  atomAuthor  `xml:"author"`
		Links   []atomLink  `xml:"link"`
		Entries []atomEntry `xml:"entry"`
	}
	atomAuthor struct {
		Name string `xml:"name"`
	}
	atomLink struct {
		Rel  string `xml:"rel,attr"`
		Type string `xml:"type,attr,omitempty"`
		Href string `xml:"href,attr"`
	}
	atomEntry struct {
		Title   string   `xml:"title"`
		ID      string   `xml:"id"`
		Updated string   `xml:"updated"`
		Link    atomLink `xml:"link"`
		Summary string   `xml:"summary"`
	}
)

// Feed writes feed.xml: the verdict changes as an Atom feed, so maintainers can subscribe
// instead of polling the index. Links are relative to the feed (xml:base names the site when
// BaseURL is set); ids are the run pages' URLs, or URNs under Source without a BaseURL.
func (s *Site) Feed(recipes []*Recipe, source string) error {
	changes := Changes(recipes)
	base := ""
	if s.BaseURL != "" {
		base = strings.TrimRight(s.BaseURL, "/") + "/"
	}
	id := func(rel string) string {
		if base != "" {
			return base + rel
		}
		return "urn:cc-ci:" + url.PathEscape(source) + ":" + rel
	}
	f := atomFeed{Base: base, Title: s.Title + ": verdict changes", ID: id("feed.xml"),
		Updated: time.Unix(0, 0).UTC().Format(time.RFC3339), Author: atomAuthor{Name: "cc-ci"},
		Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: "feed.xml"}, {Rel: "alternate", Type: "text/html", Href: "index.html"}}}
	for i, c := range changes {
		updated := c.Run.Finished.UTC().Format(time.RFC3339)
		if i == 0 {
			f.Updated = updated // newest first: the feed changed when its newest entry did
		}
		page := "run/" + c.Run.RunID + ".html"
		summary := fmt.Sprintf("%s: %s, level %d, ref %s", c.Recipe.Name, Verdict(c.Run), c.Run.Level, short(c.Run.Ref))
		if c.Run.PR != "" {
			summary += ", PR #" + c.Run.PR
		}
		if c.Run.Failed != nil && c.Run.Failed.Reason != "" {
			summary += ". " + c.Run.Failed.Tier + ": " + c.Run.Failed.Reason
		}
		f.Entries = append(f.Entries, atomEntry{Title: c.Title(), ID: id(page), Updated: updated,
			Link: atomLink{Rel: "alternate", Type: "text/html", Href: page}, Summary: summary})
	}
	data, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode feed: %w", err)
	}
	return s.write("feed.xml", append([]byte(xml.Header), append(data, '\n')...))
}
