package browser

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	visit := Step{Action: ActionVisit, Path: "/notes"}
	check := func(steps ...Step) Check { return Check{Name: "notes", Steps: steps} }
	tests := []struct {
		name    string
		check   Check
		wantErr string
	}{
		{"a full flow is valid", check(visit, Step{Action: ActionFill, Selector: "#note", Text: "hi\n"},
			Step{Action: ActionClick, Selector: "#save"}, Step{Action: ActionWaitText, Selector: "#saved", Text: "hi"},
			Step{Action: ActionExpectText, Selector: "h1", Text: "Notes"}, Step{Action: ActionScreenshot, File: "saved-1.png"}), ""},
		{"fill may clear a field with no text", check(visit, Step{Action: ActionFill, Selector: "#note"}), ""},
		{"a check needs a name", Check{Steps: []Step{visit}}, "browser check without a name"},
		{"a name is one line", Check{Name: "a\nb", Steps: []Step{visit}}, "the name must be one line"},
		{"a negative timeout", Check{Name: "n", Steps: []Step{visit}, Timeout: -time.Second}, "timeout -1s is negative"},
		{"no steps", check(), `browser check "notes": no steps: start with a visit`},
		{"the first step must be a visit", check(Step{Action: ActionClick, Selector: "#x"}),
			`browser check "notes" step 1 (click): the first step must be a visit`},
		{"an unknown action names the nearest", check(visit, Step{Action: "wait_txt", Selector: "#x", Text: "y"}),
			`browser check "notes" step 2 (wait_txt): unknown action "wait_txt": did you mean "wait_text"?`},
		{"a misspelt first visit is named as such", check(Step{Action: "vist", Path: "/"}), `unknown action "vist": did you mean "visit"?`},
		{"no action", check(visit, Step{Selector: "#x"}), "step 2 (): no action: use one of visit, fill"},
		{"a field the action does not take", check(Step{Action: ActionVisit, Path: "/", Text: "x"}), "visit takes no text (it takes only path)"},
		{"click takes no text", check(visit, Step{Action: ActionClick, Selector: "#x", Text: "y"}), "click takes no text"},
		{"wait_text needs text", check(visit, Step{Action: ActionWaitText, Selector: "#x"}), "wait_text needs the text to look for"},
		{"expect_text needs a selector", check(visit, Step{Action: ActionExpectText, Text: "x"}), "needs a CSS selector"},
		{"a selector of spaces", check(visit, Step{Action: ActionClick, Selector: "  "}), "needs a CSS selector"},
		{"a selector with a newline", check(visit, Step{Action: ActionClick, Selector: "#a\n#b"}), "holds control characters"},
		{"text with an escape character", check(visit, Step{Action: ActionExpectText, Selector: "h1", Text: "a\x1b[31m"}), "text holds control characters"},
		{"too much text", check(visit, Step{Action: ActionExpectText, Selector: "h1", Text: strings.Repeat("x", maxTextLen+1)}), "at most 2000"},
		{"visit needs a path", check(Step{Action: ActionVisit}), "visit needs a path on the app"},
		{"a full URL is not a path", check(Step{Action: ActionVisit, Path: "https://evil.example/"}), "must start with a single"},
		{"a protocol-relative path leaves the app", check(Step{Action: ActionVisit, Path: "//evil.example/"}), "never another host"},
		{"a backslash path leaves the app in browsers", check(Step{Action: ActionVisit, Path: `/\evil.example/`}), "holds a backslash"},
		{"a path with a space", check(Step{Action: ActionVisit, Path: "/a b"}), "percent-encode"},
		{"a path with a query and fragment is fine", check(Step{Action: ActionVisit, Path: "/search?q=a%20b#top"}), ""},
		{"screenshot needs a file", check(visit, Step{Action: ActionScreenshot}), "screenshot needs a file name"},
		{"a screenshot file in a directory", check(visit, Step{Action: ActionScreenshot, File: "../x.png"}), "plain file name ending in .png"},
		{"a screenshot file with a separator", check(visit, Step{Action: ActionScreenshot, File: "a/b.png"}), "no directories"},
		{"a hidden screenshot file", check(visit, Step{Action: ActionScreenshot, File: ".x.png"}), "plain file name"},
		{"a screenshot that is not a PNG", check(visit, Step{Action: ActionScreenshot, File: "results.json"}), "ending in .png"},
		{"the landing screenshot's name is taken", check(visit, Step{Action: ActionScreenshot, File: "screenshot.png"}), "the landing page's screenshot"},
		{"failing-page names are taken", check(visit, Step{Action: ActionScreenshot, File: "notes-failed.png"}), "kept for screenshots of failing pages"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(tc.check)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.wantErr)
		})
	}
	many := make([]Step, maxSteps+1)
	for i := range many {
		many[i] = visit
	}
	assert.ErrorContains(t, Validate(check(many...)), "101 steps, at most 100")
}

func TestSlugMakesAFileNameStem(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"words become dashed lower case", "Save a Note!", "save-a-note"},
		{"path tricks are flattened", "../../etc/passwd", "etc-passwd"},
		{"nothing usable gives a default", "¡¿!", "check"},
		{"long names are cut", strings.Repeat("ab-", 30), strings.TrimRight(strings.Repeat("ab-", 16), "-")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, slug(tc.in))
		})
	}
}

func TestPlainAndQuoteKeepUntrustedTextOnOneLine(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "a b c\u00a0d e", plain("a\nb\rc\u00a0d\u2028e", 100))
	assert.Equal(t, "abc...", plain("abcdef", 3))
	assert.Equal(t, `"<b>\n\x1b[31m"`, quote("<b>\n\x1b[31m"))
	long := quote(strings.Repeat("é", maxShownTextRunes+10))
	assert.True(t, strings.HasSuffix(long, `"...`))
	assert.Equal(t, maxShownTextRunes+5, len([]rune(long)), "two quotes and three dots around the clipped text")
}

func TestClipAroundKeepsTheMatchWithSomeContext(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "short text", clipAround("short text", "text"))
	got := clipAround(strings.Repeat("x", 300)+"needle"+strings.Repeat("é", 300), "needle")
	assert.Contains(t, got, "needle")
	assert.Less(t, len([]rune(got)), 100)
	assert.True(t, strings.HasPrefix(got, "xxxx"))
	assert.True(t, strings.HasSuffix(got, "é"), "a cut never splits a character")
}
