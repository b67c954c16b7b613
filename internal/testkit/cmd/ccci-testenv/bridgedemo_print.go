package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
)

// printPR prints what the PR received on the FAKE GitHub, in the order a maintainer sees it: the
// reaction on their comment, every commit status on the head, and the bot's comments (the
// sticky one) as the Markdown GitHub renders. It returns the last status's state.
func printPR(out io.Writer, forge *fakeforge.State, c demoConfig, commentID int64) string {
	fmt.Fprintf(out, "\n=== what the PR received on the FAKE GitHub (%s#%d, head %s)\n", demoRepo, c.pr, short(c.head))

	reactions := forge.Reactions(demoRepo, commentID)
	fmt.Fprintf(out, "\nreactions on the !testme comment: %d\n", len(reactions))
	for _, r := range reactions {
		fmt.Fprintf(out, "  %s %s by %s\n", emoji(r.Content), r.Content, r.User)
	}

	sts := forge.Statuses(demoRepo, c.head)
	fmt.Fprintf(out, "\ncommit statuses on %s, in order: %d\n", short(c.head), len(sts))
	for i, st := range sts {
		// Offsets from the first status: how long the run took, seen from the PR.
		fmt.Fprintf(out, "  %d. +%5.1fs  %-8s %-14s %q\n", i+1, st.Created.Sub(sts[0].Created).Seconds(), st.State, st.Context, st.Description)
		if st.TargetURL != "" {
			fmt.Fprintf(out, "                link: %s\n", st.TargetURL)
		}
	}

	comments := forge.CommentsBy(demoRepo, c.pr, demoBot)
	fmt.Fprintf(out, "\ncomments by %s on the PR: %d\n", demoBot, len(comments))
	for _, cm := range comments {
		fmt.Fprintf(out, "\n--- comment %d, edited %s: its Markdown (the <!-- --> marker is hidden on the PR) ---\n", cm.ID, times(cm.Edits))
		fmt.Fprintln(out, strings.TrimRight(cm.Body, "\n"))
		fmt.Fprintln(out, "--- end of comment ---")
	}
	if len(sts) == 0 {
		return ""
	}
	return sts[len(sts)-1].State
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

// emoji is GitHub's rendering of a reaction's content
// (https://docs.github.com/en/rest/reactions/reactions#about-reactions).
func emoji(content string) string {
	if e, ok := map[string]string{"+1": "👍", "-1": "👎", "laugh": "😄", "confused": "😕", "heart": "❤️",
		"hooray": "🎉", "rocket": "🚀", "eyes": "👀"}[content]; ok {
		return e
	}
	return "?"
}

// indent prefixes every line of s with "  > ", as a quoted comment.
func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "  > " + l
	}
	return strings.Join(lines, "\n")
}

// prefixWriter writes every complete line with prefix; flush writes an unterminated last line.
// The plugin's machine-readable results line (results.LogPrefix, a few KB of JSON the bridge
// can read from the build log) is shortened to its size: the same verdict is printed readably
// just above it. It is used from one goroutine at a time (the step's output copy).
type prefixWriter struct {
	w       io.Writer
	prefix  string
	partial []byte
}

// Write implements io.Writer; an error of the underlying writer is ignored, so a closed
// terminal never fails the build.
func (p *prefixWriter) Write(b []byte) (int, error) {
	p.partial = append(p.partial, b...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			break
		}
		p.line(p.partial[:i+1])
		p.partial = p.partial[i+1:]
	}
	return len(b), nil
}

func (p *prefixWriter) flush() {
	if len(p.partial) > 0 {
		p.line(append(p.partial, '\n'))
		p.partial = nil
	}
}

func (p *prefixWriter) line(l []byte) {
	if bytes.HasPrefix(l, []byte(results.LogPrefix)) {
		_, _ = fmt.Fprintf(p.w, "%s%s{...} (%d bytes of JSON: results.json, for a bridge that cannot read the runs dir)\n",
			p.prefix, results.LogPrefix, len(l)-len(results.LogPrefix)-1)
		return
	}
	_, _ = fmt.Fprintf(p.w, "%s%s", p.prefix, l)
}
