package report

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"coopcloud.tech/cc-ci/internal/results"
)

// Everything a build or a PR controls (recipe names, refs, reasons, log excerpts) reaches the
// comment through one of these helpers, so a hostile value can neither inject HTML or Markdown
// nor break the table, the code fence or the hidden marker.

// maxText caps one escaped value (a reason), so a log-sized reason cannot swamp the comment.
const maxText = 300

// text escapes s for inline Markdown+HTML on one line: control characters and newlines become
// spaces; &, < and > become entities (no tag, no HTML comment can open or close: `-->` is inert);
// the punctuation that starts inline markup anywhere (emphasis, code, links, strikethrough,
// GitHub's `$` math, a table's `|`) is backslash-escaped, as CommonMark allows for any ASCII
// punctuation (https://spec.commonmark.org/0.31.2/#backslash-escapes; `\|` inside a cell,
// https://github.github.com/gfm/#tables-extension-), and so is a leading character that would
// start a block (heading, list, setext underline) should the text ever begin a line; '@' is
// followed by a zero-width space, so a reason cannot @-mention (notify) people or teams.
func text(s string) string {
	s = truncate(strings.TrimSpace(oneLine(s)), maxText)
	var b strings.Builder
	for i, c := range s {
		switch {
		case c == '&':
			b.WriteString("&amp;")
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '@':
			b.WriteString("@\u200b")
		case strings.ContainsRune("\\`*_[]()!|~$", c),
			i == 0 && strings.ContainsRune("#+-=", c),
			c == '.' && i > 0 && leadingDigits.MatchString(s[:i]):
			b.WriteByte('\\')
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// leadingDigits is what an ordered list item's number looks like ("1." starts a list).
var leadingDigits = regexp.MustCompile(`^[0-9]{1,9}$`)

// plainSafe is what may appear verbatim inside a code span: no backtick (which would end it), no
// pipe (which splits a table cell even inside a code span), nothing that needs escaping.
var plainSafe = regexp.MustCompile(`^[A-Za-z0-9._+/:,=-]+$`)

// code renders s as a code span when that is safe, else as escaped text.
func code(s string) string {
	if plainSafe.MatchString(s) {
		return "`" + s + "`"
	}
	return text(s)
}

// oneLine turns newlines, tabs and other control characters into spaces.
func oneLine(s string) string {
	return strings.Map(func(c rune) rune {
		if unicode.IsControl(c) || c == '\u2028' || c == '\u2029' {
			return ' '
		}
		return c
	}, s)
}

// truncate cuts s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// ansi matches terminal colour and cursor sequences (abra's output is coloured).
var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// Excerpt limits: the end of a log is where the failure is.
const (
	excerptLines = 60
	excerptBytes = 6000
)

// excerpt cleans a failure excerpt for a code block: colour codes and control characters other
// than newline and tab go, and only the last lines are kept.
func excerpt(s string) string {
	s = ansi.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(c rune) rune {
		if c != '\n' && c != '\t' && unicode.IsControl(c) {
			return -1
		}
		return c
	}, s)
	s = strings.Trim(s, "\n")
	lines := strings.Split(s, "\n")
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

// fenced wraps body in a code block with info string info, fenced by results.CodeFence so
// nothing inside can close the block and go on as Markdown.
func fenced(info, body string) string {
	fence := results.CodeFence(body)
	return fence + info + "\n" + body + "\n" + fence + "\n"
}

// link renders a Markdown link to an http(s) URL, or just the label when the URL is empty or
// not http(s). Parentheses and spaces are percent-encoded so the URL cannot end the link early.
func link(label, raw string) string {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return label
	}
	s := strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(u.String())
	return "[" + label + "](" + s + ")"
}

// plain makes s fit a commit status description: one line of plain text, at most n runes (the
// forges render it as text, so no escaping, but a newline or a 2 KB reason would not fit).
func plain(s string, n int) string {
	return truncate(strings.Join(strings.Fields(oneLine(s)), " "), n)
}
