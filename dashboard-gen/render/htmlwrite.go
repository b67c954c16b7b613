package render

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// writeLayout writes a page the way templates/layout.html renders it around the page's
// "content", which content writes; title is the page's "title" as text (escaped here), and head
// is layoutHead.
//
// The run pages (one per build) and the recipe pages (one history row per build) are written by
// plain Go instead of html/template, which spends about a microsecond of reflection on each value
// of a page and made most of a full run's CPU time. The templates stay the definition of these
// pages: TestThePageWritersWriteWhatTheTemplatesRender renders views through both, hostile and
// random values included, and demands the same bytes, so each value is escaped exactly as
// html/template escapes it where it lands (htmlText, htmlURL).
func writeLayout(b *bytes.Buffer, head string, p *page, title string, content func(*bytes.Buffer)) {
	b.WriteString(head)
	el(b, "", title, "</title>\n<link rel=\"stylesheet\"")
	link(b, ` href="`, p.Root, "style.css\">\n<link rel=\"alternate\" type=\"application/atom+xml\" title=\"")
	el(b, "", p.Site, ": verdict changes\"")
	link(b, ` href="`, p.Root, "feed.xml\">\n</head>\n<body>\n<header class=\"site\"><a")
	link(b, ` href="`, p.Root, "index.html\">")
	el(b, "", p.Site, "</a></header>\n<main>\n")
	content(b)
	el(b, "\n</main>\n<footer class=\"site\">Generated ", when(p.Generated), " by cc-ci-dashboard ·\n<a")
	link(b, ` href="`, p.Root, "api/results.json\">every run as JSON</a> ·\n<a")
	link(b, ` href="`, p.Root, "feed.xml\">Atom feed of verdict changes</a></footer>\n</body>\n</html>\n")
}

// layoutHead is templates/layout.html up to the page's title, as the layout renders it (no
// value of a page comes before the title).
func layoutHead() (string, error) {
	data, err := files.ReadFile("templates/layout.html")
	if err != nil {
		return "", fmt.Errorf("layout: %w", err)
	}
	_, after, ok := strings.Cut(string(data), `{{define "layout" -}}`)
	head, _, ok2 := strings.Cut(after, `{{template "title" .}}`)
	if !ok || !ok2 || strings.Contains(head, "{{") {
		return "", errors.New("layout.html: the page writers expect a head without values up to the title")
	}
	return strings.TrimLeft(head, " \t\r\n"), nil
}

// el writes before, s escaped for HTML text or a quoted attribute (htmlText), and after.
func el(b *bytes.Buffer, before, s, after string) {
	b.WriteString(before)
	htmlText(b, s)
	b.WriteString(after)
}

// link writes before, s escaped for a quoted URL attribute (htmlURL), and after. A value right
// after the opening quote (before ends with `="`) starts the URL; else it follows a path.
func link(b *bytes.Buffer, before, s, after string) {
	b.WriteString(before)
	htmlURL(b, s, strings.HasSuffix(before, `="`))
	b.WriteString(after)
}

// htmlText writes s as html/template escapes a string in HTML text, in a quoted attribute and in
// <title> (htmlEscaper, attrEscaper and rcdataEscaper share one table). Every byte that table
// replaces is ASCII, so going byte by byte is going rune by rune, as html/template does.
func htmlText(b *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var with string
		switch s[i] {
		case 0:
			with = "\uFFFD"
		case '"':
			with = "&#34;"
		case '&':
			with = "&amp;"
		case '\'':
			with = "&#39;"
		case '+':
			with = "&#43;"
		case '<':
			with = "&lt;"
		case '>':
			with = "&gt;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(with)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// htmlURL writes s as html/template escapes a string in a quoted URL attribute: at the start of the
// URL (start) a scheme other than http, https or mailto becomes "#ZgotmplZ" (urlFilter); then
// every byte that is neither unreserved, reserved nor part of a %XX escape is percent-encoded
// (urlNormalizer), and the '&' and '+' left are escaped for the attribute (attrEscaper).
func htmlURL(b *bytes.Buffer, s string, start bool) {
	if start && !safeURL(s) {
		s = "#ZgotmplZ"
	}
	const hex = "0123456789abcdef"
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var with string
		switch {
		case c == '&':
			with = "&amp;"
		case c == '+':
			with = "&#43;"
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-._~!#$*,/:;=?@[]", c) >= 0:
			continue
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			continue
		default:
			with = string([]byte{'%', hex[c>>4], hex[c&15]})
		}
		b.WriteString(s[last:i])
		b.WriteString(with)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// safeURL is html/template's isSafeURL: a relative URL, or one whose scheme is http, https or
// mailto.
func safeURL(s string) bool {
	if scheme, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "/") {
		return strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "mailto")
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
