package report

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
)

func TestTextEscapesMarkdownAndHTML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"a script tag is shown, not run", "<script>alert(1)</script>", "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"},
		{"a pipe cannot split a table cell", "a | b", "a \\| b"},
		{"newlines cannot end the row", "one\ntwo\r\nthree", "one two  three"},
		{"an HTML comment can neither open nor close", "--> <!-- hidden", "\\--&gt; &lt;\\!-- hidden"},
		{"emphasis, code, links and images stay literal", "**b** _i_ `c` [l](http://x) ![i](y)",
			"\\*\\*b\\*\\* \\_i\\_ \\`c\\` \\[l\\]\\(http://x\\) \\!\\[i\\]\\(y\\)"},
		{"strikethrough and math stay literal", "~~s~~ $x^2$", "\\~\\~s\\~\\~ \\$x^2\\$"},
		{"a mention cannot notify anyone", "ping @coop-cloud/maintainers", "ping @\u200bcoop-cloud/maintainers"},
		{"a leading hash cannot make a heading", "# big", "\\# big"},
		{"a leading dash cannot make a list", "- item", "\\- item"},
		{"a leading number cannot make an ordered list", "1. item 2. not", "1\\. item 2. not"},
		{"leading spaces cannot make a code block", "      indented", "indented"},
		{"an entity stays literal", "&amp;", "&amp;amp;"},
		{"a backslash cannot escape our escapes", `\<b>`, `\\&lt;b&gt;`},
		{"ordinary text is untouched", "service app did not converge after 2.5s", "service app did not converge after 2.5s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, text(tt.in))
		})
	}
}

func TestTextCapsLongValues(t *testing.T) {
	t.Parallel()
	got := text(strings.Repeat("é", 1000))
	assert.Equal(t, maxText, utf8.RuneCountInString(got))
	assert.True(t, strings.HasSuffix(got, "…"))
}

func TestCodeFallsBackToTextForUnsafeValues(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "`0.2.0+2.0.0`", code("0.2.0+2.0.0"))
	assert.Equal(t, "a\\`b \\| c", code("a`b | c"), "a backtick would end the span, a pipe split the cell")
}

// hostile is every value a PR or a build controls, each trying to break out of where it lands.
const hostile = "x | y\n<script>alert(1)</script> --> <!-- @everyone **bold** [link](javascript:alert(1)) ```"

func TestHostileValuesCannotInjectMarkup(t *testing.T) {
	t.Parallel()
	excerptText := "```\n</details>\n<script>alert(1)</script>\n~~~\n````````\n--> <!--"
	r := finish(hostile, ModeCold, "7", "drone-42) [x](y", start,
		results.Tier{Name: results.TierInstall, Status: results.Pass, Reason: hostile, Warnings: []string{hostile}},
		results.Tier{Name: results.TierUpgrade, Status: results.Skip, Reason: hostile, Lift: hostile},
		results.Tier{Name: results.TierBackup, Status: results.Fail, Reason: hostile})
	r.UpgradeBase.Reason = hostile
	r.FailureExcerpt = excerptText
	evil := Run{Forge: "github", Repo: "o/r$(id)", PR: 7, SHA: "abc`def|", Mode: ModeCold, Recipe: hostile,
		Requester: "@admin <b>", Build: 42, BuildURL: "https://drone.example.org/a) [x](javascript:y", Src: "https://x/y.git'; touch /tmp/pwned; '"}

	bodies := map[string]string{"queued": Queued(evil), "started": Started(evil), "already running": AlreadyRunning(evil),
		"new commits": NewCommits(evil, hostile)}
	bodies["verdict"], _ = Verdict(evil, r, nil, Links{Dashboard: "https://ci.example.org", Results: "https://ci.example.org/r.json"})
	bodies["build error"], _ = BuildError(evil, hostile, hostile)

	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			outside, blocks := splitFences(body)
			assert.True(t, strings.HasPrefix(body, Marker) || strings.HasPrefix(body, ReplyMarker))
			assert.Equal(t, 1, strings.Count(outside, "-->"), "only the marker's comment closes:\n%s", body)
			assert.Equal(t, 1, strings.Count(outside, "<!--"), "only the marker's comment opens")
			for _, tag := range regexp.MustCompile(`<[^!][^>]*>`).FindAllString(outside, -1) {
				assert.Contains(t, []string{"<details>", "</details>", "<summary>", "</summary>"}, tag, "a tag came from an input:\n%s", body)
			}
			assert.NotRegexp(t, "@[^\u200b]", outside, "a mention would notify someone")
			assert.NotContains(t, outside, "](javascript", "a URL cannot close its link and start another")
			for _, line := range strings.Split(outside, "\n") {
				if strings.HasPrefix(line, "|") {
					assert.Len(t, regexp.MustCompile(`(^|[^\\])\|`).FindAllString(line, -1), 5, "a row must keep its 4 cells: %q", line)
				}
			}
			if name == "verdict" {
				require.Len(t, blocks, 2, "the excerpt and the rerun command, each one closed block:\n%s", body)
				assert.Equal(t, excerpt(excerptText), blocks[0], "the whole excerpt stays inside its block")
				assert.NotContains(t, outside, "<script>")
			}
		})
	}
}

// splitFences separates fenced code blocks from the rest of body, closing each block the way
// CommonMark does: at the first line of at least as many backticks as opened it, and nothing else
// (https://spec.commonmark.org/0.31.2/#fenced-code-blocks).
func splitFences(body string) (outside string, blocks []string) {
	lines := strings.Split(body, "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		n := len(lines[i]) - len(strings.TrimLeft(lines[i], "`"))
		if n < 3 || strings.Contains(lines[i][n:], "`") {
			out = append(out, lines[i])
			continue
		}
		var content []string
		j := i + 1
		for ; j < len(lines); j++ {
			c := strings.TrimLeft(lines[j], " ")
			m := len(c) - len(strings.TrimLeft(c, "`"))
			if m >= n && strings.TrimSpace(c[m:]) == "" {
				break
			}
			content = append(content, lines[j])
		}
		blocks = append(blocks, strings.Join(content, "\n"))
		i = j
	}
	return strings.Join(out, "\n"), blocks
}

func TestExcerptKeepsTheTailWithoutColour(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 100 {
		b.WriteString("\x1b[1;31mline\x1b[0m " + strings.Repeat("é", i%5) + "\r\n")
	}
	got := excerpt(b.String() + "the end\x07")
	assert.True(t, strings.HasPrefix(got, "[…]\n"), "a cut is marked")
	assert.True(t, strings.HasSuffix(got, "the end"))
	assert.NotContains(t, got, "\x1b")
	assert.NotContains(t, got, "\r")
	assert.LessOrEqual(t, strings.Count(got, "\n"), excerptLines)
	assert.True(t, utf8.ValidString(excerpt(strings.Repeat("é", excerptBytes))), "a byte cut never splits a character")
}

func TestLinkOnlyLinksWebURLs(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "log", link("log", ""))
	assert.Equal(t, "log", link("log", "javascript:alert(1)"))
	assert.Equal(t, "[log](https://d.example/a%29%20b)", link("log", "https://d.example/a) b"))
	assert.Equal(t, "[log](https://d.example/a%2Fb%29?q=%28x%29)", link("log", "https://d.example/a%2Fb)?q=(x)"),
		"a parenthesis Go's URL encoder keeps (raw path, query) must not end the link")
}

func TestRerunCommandRepeatsTheRun(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed: the round trip needs a real shell to parse the quoting")
	}
	evil := Run{Forge: "gitea", Repo: "o/r$(id)", PR: 7, SHA: sha, Mode: ModeQuick, Recipe: "-x; rm -rf ~", Src: "https://x/y.git'; touch /tmp/pwned; '"}
	out, err := exec.Command(bash, "-c", `printf '%s\0' `+rerun(evil)).Output()
	require.NoError(t, err)
	assert.Equal(t, []string{"cc-ci-plugin", "--recipe=-x; rm -rf ~", "--src=https://x/y.git'; touch /tmp/pwned; '", "--ref=" + sha,
		"--pr=7", "--repo=o/r$(id)", "--mode=quick", "--forge=gitea"}, strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00"))
}
