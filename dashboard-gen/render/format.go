package render

import (
	"fmt"
	"html/template"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"coopcloud.tech/cc-ci/internal/results"
)

// funcs are the templates' helpers. Each returns plain text: html/template escapes it where it
// lands, so none of them may return template.HTML.
var funcs = template.FuncMap{
	"when":       when,
	"day":        func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"dur":        duration,
	"short":      short,
	"verdict":    Verdict,
	"badgeText":  BadgeText,
	"levelClass": LevelClass,
	"tierStatus": tierStatus,
	"tierClass":  tierClass,
	"join":       strings.Join,
	"excerpt":    excerpt,
}

// when is an absolute UTC time: a static page cannot keep "5 minutes ago" true.
func when(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// duration is summary.md's time format: seconds under a minute, else minutes and seconds.
func duration(s float64) string {
	switch {
	case s <= 0:
		return "–"
	case s < 60:
		return fmt.Sprintf("%.1fs", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", int(s)/60, int(s)%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(s)/3600, int(s)%3600/60)
	}
}

// short is the first 12 characters of a commit, as summary.md shows it.
func short(ref string) string {
	if r := []rune(ref); len(r) > 12 {
		return string(r[:12])
	}
	return ref
}

func tierStatus(t results.Tier) string {
	switch {
	case t.Gap():
		return "skip (gap)"
	case t.Status == results.Skip:
		return "skip (declared)"
	default:
		return string(t.Status)
	}
}

func tierClass(t results.Tier) string {
	switch {
	case t.Status == results.Pass:
		return "pass"
	case t.Status == results.Fail:
		return "fail"
	case t.Gap():
		return "gap"
	case t.Status == results.Skip:
		return "declared"
	default:
		return "unverified"
	}
}

// ansi matches terminal colour and cursor sequences (abra's output is coloured).
var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// Excerpt limits: the end of a log is where the failure is.
const (
	excerptLines = 80
	excerptBytes = 12000
)

// excerpt cleans a failure excerpt for a <pre>: colour codes and control characters other than
// newline and tab go, and only the last lines are kept.
func excerpt(s string) string {
	s = ansi.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(c rune) rune {
		if c != '\n' && c != '\t' && unicode.IsControl(c) {
			return -1
		}
		return c
	}, s)
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	cut := false
	if len(lines) > excerptLines {
		lines, cut = lines[len(lines)-excerptLines:], true
	}
	s = strings.Join(lines, "\n")
	if len(s) > excerptBytes {
		i := len(s) - excerptBytes
		for i < len(s) && !utf8.RuneStart(s[i]) {
			i++
		}
		s, cut = s[i:], true
	}
	if cut {
		s = "[…]\n" + s
	}
	return s
}
