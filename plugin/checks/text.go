// Package checks runs the FUNCTIONAL checks a maintainer declares in a recipe's overlay against a
// live test app: HTTP checks through the CI's front door, and custom test executables whose exit
// code is the verdict (their TAP output and JUnit reports, when present, become one row each).
//
// Everything that comes back (names, details, reasons, body excerpts) is untrusted text from the
// app or the executable: it is made plain (one line, no control or terminal escape characters),
// capped in length, and, for executables, passed through the caller's mask before it is returned.
package checks

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"coopcloud.tech/cc-ci/internal/results"
)

// Caps on what a row may hold: results.json, summaries and PR comments stay readable and bounded
// whatever a test prints.
const (
	maxName   = 200
	maxDetail = 600
	maxReason = 600
	// MaxRows is how many rows one executable may contribute; the rest are counted in a final row.
	MaxRows = 200
)

var (
	// ansi matches terminal escape sequences: CSI (colours, cursor moves) and OSC (titles,
	// hyperlinks), so coloured test output reads as its text.
	ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?`)
	// hidden matches whole elements whose content is never page text.
	hidden = regexp.MustCompile(`(?is)<(script|style|noscript|template)\b.*?</(?:script|style|noscript|template)\s*>|<!--.*?-->`)
	tag    = regexp.MustCompile(`(?s)<[^>]*>`)
)

// plain turns untrusted text into one line of printable text of at most max runes: invalid UTF-8
// replaced, terminal escapes dropped, control, bidi-override and other format characters (which
// can make a reader see text that is not there) replaced by spaces, whitespace collapsed.
func plain(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = ansi.ReplaceAllString(s, "")
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return clip(b.String(), max)
}

// clip cuts s to at most max runes, marking the cut.
func clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	runes := []rune(s)
	return string(runes[:max-1]) + "…"
}

// pageText is the readable text of an HTML (or plain) body: scripts, styles and comments dropped,
// tags removed, entities decoded.
func pageText(body string, max int) string {
	// Bound the work on a huge page: only the start of the excerpt is ever shown.
	if len(body) > 64<<10 {
		body = body[:64<<10]
	}
	body = hidden.ReplaceAllString(body, " ")
	body = tag.ReplaceAllString(body, " ")
	return plain(html.UnescapeString(body), max)
}

// masked applies mask (nil: none) before and after making s plain, so a secret is caught both as
// printed and once escapes that split it are gone, and caps s only after masking, so a cut never
// leaves half a secret unmatched.
func masked(mask func(string) string, s string, max int) string {
	if mask == nil {
		return plain(s, max)
	}
	return clip(mask(plain(mask(s), 1<<20)), max)
}

// row builds a result row with its name and detail masked, plain and capped.
func row(mask func(string) string, name string, status results.Status, detail string) results.Check {
	return results.Check{Name: masked(mask, name, maxName), Status: status, Detail: masked(mask, detail, maxDetail)}
}

// rowSet collects rows, at most MaxRows of them. When it is full, a failing row takes the place of
// the latest row that did not fail (a reader must see every failure the cap allows); what is left
// out is counted in a final row carrying the worst status among it.
type rowSet struct {
	rows       []results.Check
	left       int
	leftFailed int
	leftWorst  results.Status
}

func (s *rowSet) add(c results.Check) {
	if len(s.rows) < MaxRows-1 {
		s.rows = append(s.rows, c)
		return
	}
	if c.Status == results.Fail {
		for i := len(s.rows) - 1; i >= 0; i-- {
			if s.rows[i].Status != results.Fail {
				out := s.rows[i]
				s.rows = append(append(s.rows[:i:i], s.rows[i+1:]...), c)
				c = out
				break
			}
		}
	}
	s.left++
	if c.Status == results.Fail {
		s.leftFailed++
	}
	if s.left == 1 || rank(c.Status) > rank(s.leftWorst) {
		s.leftWorst = c.Status
	}
}

// failed lists the names of the failing rows, the ones left out counted.
func (s *rowSet) failed() (names []string, n int) {
	for _, r := range s.rows {
		if r.Status == results.Fail {
			names = append(names, r.Name)
		}
	}
	return names, len(names) + s.leftFailed
}

// list returns the rows, with the final row counting what was left out.
func (s *rowSet) list() []results.Check {
	out := append([]results.Check{}, s.rows...)
	if s.left == 0 {
		return out
	}
	detail := fmt.Sprintf("and %d more rows left out (at most %d are kept)", s.left, MaxRows)
	if s.leftFailed > 0 {
		detail += fmt.Sprintf(", %d of them failed", s.leftFailed)
	}
	return append(out, results.Check{Name: "more rows", Status: s.leftWorst, Detail: detail})
}

// rank orders statuses from best to worst; an unknown status is the worst.
func rank(s results.Status) int {
	switch s {
	case results.Pass:
		return 0
	case results.Skip:
		return 1
	case results.Unverified:
		return 2
	case results.Fail:
		return 3
	}
	return 4
}
