package command

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

type parseCase struct {
	name   string
	body   string
	want   Command
	wantOK bool
}

var parseCases = []parseCase{
	{name: "the bare command is a cold run", body: "!testme", wantOK: true},
	{name: "the quick command is a quick run", body: "!testme --quick", want: Command{Quick: true}, wantOK: true},
	{name: "up to three spaces before and spaces and tabs after the command are allowed", body: "   !testme \t ", wantOK: true},
	{name: "two spaces and a tab before the command make indented code", body: "  \t!testme"},
	{name: "a Windows line ending is allowed", body: "please test\r\n!testme\r\nthanks", wantOK: true},
	{name: "the quick command with CRLF is still quick", body: "!testme --quick\r\n", want: Command{Quick: true}, wantOK: true},
	{name: "the command after a sentence on its own line counts", body: "Looks good.\n\n!testme\n", wantOK: true},
	{name: "the first command line decides", body: "!testme --quick\n!testme", want: Command{Quick: true}, wantOK: true},
	{name: "an empty body is no command", body: ""},
	{name: "a word glued to the command is no command", body: "!testmexyz"},
	{name: "an argument after the command is no command", body: "!testme foo"},
	{name: "an extra word after --quick is no command", body: "!testme --quick extra"},
	{name: "two spaces before --quick is no command", body: "!testme  --quick"},
	{name: "a single-dash quick flag is no command", body: "!testme -quick"},
	{name: "upper case is no command", body: "!TESTME"},
	{name: "the command inside a sentence is no command", body: "please !testme now"},
	{name: "the command in an inline code span is no command", body: "type `!testme` to run"},
	{name: "a line that is only an inline code span is no command", body: "`!testme`"},
	{name: "a quoted command is no command", body: "> !testme"},
	{name: "a quoted command indented by spaces is no command", body: "   > !testme"},
	{name: "a nested quoted command is no command", body: "> > !testme"},
	{name: "a line right after a quote renders inside it and is no command", body: "> can you run it?\n!testme"},
	{name: "a blank line ends the quote and the command counts", body: "> can you run it?\n\n!testme", wantOK: true},
	{name: "a command in a backtick fence is no command", body: "```\n!testme\n```"},
	{name: "a command in a tilde fence is no command", body: "~~~\n!testme\n~~~"},
	{name: "a command in a fence with an info string is no command", body: "```sh\n!testme\n```"},
	{name: "a command after a closed fence counts", body: "```\ncode\n```\n!testme", wantOK: true},
	{name: "an unterminated fence is code until the end", body: "```\nfoo\n\n!testme\n"},
	{name: "a shorter closing fence does not close the block", body: "````\n```\n!testme\n````"},
	{name: "a tilde line does not close a backtick fence", body: "```\n~~~\n!testme"},
	{name: "a closing fence with text after it does not close the block", body: "```\n``` not a close\n!testme"},
	{name: "a fence indented by three spaces is still a fence", body: "   ```\n!testme\n   ```"},
	{name: "a backtick line holding a backtick is an inline span, not a fence", body: "```a`b```\n!testme", wantOK: true},
	{name: "a command indented four spaces at the start is indented code", body: "    !testme"},
	{name: "a command indented by a tab at the start is indented code", body: "\t!testme"},
	{name: "a command indented four spaces after a blank line is indented code", body: "hello\n\n    !testme"},
	{name: "indented code runs on across blank lines", body: "    code\n\n    !testme"},
	{name: "an indented command continuing a paragraph counts", body: "hello\n    !testme", wantOK: true},
	{name: "a command in a multi-line HTML comment is no command", body: "<!--\n!testme\n-->"},
	{name: "a command after a closed HTML comment counts", body: "<!-- hidden -->\n!testme", wantOK: true},
	{name: "a command after a multi-line HTML comment closes counts", body: "<!--\nx\n-->\n!testme", wantOK: true},
	{name: "a non-breaking space around the command is no command", body: "\u00a0!testme"},
	{name: "a zero-width space in the command is no command", body: "!test\u200bme"},
	{name: "a lone carriage return does not split lines", body: "hi\r!testme"},
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Parse(tc.body)
			assert.Equal(t, tc.wantOK, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

// FuzzParse checks the grammar's promises on any input: it never panics, it is deterministic,
// and whatever it accepts has the command on a line of its own.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got, ok := Parse(body)
		again, okAgain := Parse(body)
		if got != again || ok != okAgain {
			t.Fatalf("Parse(%q) is not deterministic", body)
		}
		if !ok {
			if got != (Command{}) {
				t.Fatalf("Parse(%q) returned %+v with ok=false", body, got)
			}
			return
		}
		want := Cold
		if got.Quick {
			want = Quick
		}
		for line := range strings.SplitSeq(body, "\n") {
			if strings.Trim(line, " \t\r") == want {
				return
			}
		}
		t.Fatalf("Parse(%q) = %+v but no line of the body is exactly %q", body, got, want)
	})
}
