// Package command is the `!testme` grammar: one pure function deciding whether a comment body
// asks for a run. It reads the body as Markdown renders it, so text a maintainer quoted, put in a
// code block or hid in an HTML comment never starts a run (STYLE 9, after prow's
// pjutil/filter.go, which strips quotes and code before matching).
package command

import (
	"regexp"
	"strings"
)

// Command is a `!testme` found in a comment.
type Command struct {
	// Quick is `!testme --quick`: the plugin's quick mode instead of the default cold run.
	Quick bool
}

// Words are the two exact command lines, for the fuzz invariant and for help texts.
const (
	Cold  = "!testme"
	Quick = "!testme --quick"
)

var (
	// commandLine is a whole line (already trimmed of spaces and tabs) that is a command. One
	// space before --quick, nothing after it: `!testme foo`, `!testme --quick extra` and
	// `!testmexyz` are not commands.
	commandLine = regexp.MustCompile(`^!testme(?: (--quick))?$`)
	// fenceOpen is a CommonMark fenced code block opener: up to 3 spaces, then 3+ backticks or
	// 3+ tildes, then an info string (https://spec.commonmark.org/0.31.2/#fenced-code-blocks).
	fenceOpen = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})(.*)$")
	// fenceClose closes a fence: the same character, at least as many, nothing else.
	fenceClose = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})[ \t]*$")
)

// scanner is the block state the parser carries from line to line.
type scanner struct {
	fence     string // the open fence's run of ` or ~; "" outside a fence
	comment   bool   // inside an HTML comment (<!-- ... -->), which renders as nothing
	quote     bool   // the previous line belonged to a block quote (lazy continuation)
	paragraph bool   // the previous line was paragraph text (an indented line continues it)
}

// Parse reports whether body holds a command on a line of its own, outside quotes, code blocks
// and HTML comments. The first command line decides. Lines end in \n or \r\n.
func Parse(body string) (Command, bool) {
	var s scanner
	for line := range strings.SplitSeq(body, "\n") {
		if c, ok := s.line(strings.TrimSuffix(line, "\r")); ok {
			return c, true
		}
	}
	return Command{}, false
}

// line advances the scanner over one line and reports a command on it.
func (s *scanner) line(line string) (Command, bool) {
	if s.fence != "" {
		if m := fenceClose.FindStringSubmatch(line); m != nil && m[1][0] == s.fence[0] && len(m[1]) >= len(s.fence) {
			s.fence = ""
		}
		return Command{}, false
	}
	if s.comment {
		s.comment = !strings.Contains(line, "-->")
		return Command{}, false
	}
	trimmed := strings.Trim(line, " \t\r")
	if trimmed == "" {
		// A blank line ends a quote and a paragraph; an indented code block runs on across it.
		s.quote, s.paragraph = false, false
		return Command{}, false
	}
	if indent(line) >= 4 && !s.paragraph && !s.quote {
		// Indented code cannot interrupt a paragraph, so it starts only after a blank line, a
		// non-paragraph block or at the top (https://spec.commonmark.org/0.31.2/#indented-code-blocks).
		return Command{}, false
	}
	if m := fenceOpen.FindStringSubmatch(line); m != nil && !(m[1][0] == '`' && strings.Contains(m[2], "`")) {
		// A backtick "fence" whose info string holds a backtick is an inline code span instead.
		s.fence, s.quote, s.paragraph = m[1], false, false
		return Command{}, false
	}
	if strings.HasPrefix(trimmed, ">") {
		s.quote, s.paragraph = true, false
		return Command{}, false
	}
	if s.quote {
		// Lazy continuation: a line right after a quoted line renders inside the quote.
		return Command{}, false
	}
	if open := strings.LastIndex(line, "<!--"); open >= 0 && !strings.Contains(line[open+4:], "-->") {
		s.comment, s.paragraph = true, false
		return Command{}, false
	}
	s.paragraph = true
	if m := commandLine.FindStringSubmatch(trimmed); m != nil {
		return Command{Quick: m[1] != ""}, true
	}
	return Command{}, false
}

// indent is the width of line's leading whitespace, a tab advancing to the next multiple of 4
// as CommonMark counts it.
func indent(line string) int {
	w := 0
	for _, r := range line {
		switch r {
		case ' ':
			w++
		case '\t':
			w += 4 - w%4
		default:
			return w
		}
	}
	return w
}
