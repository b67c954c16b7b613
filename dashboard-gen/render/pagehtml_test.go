package render

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/dashboard-gen/state"
	"coopcloud.tech/cc-ci/internal/results"
)

// writer is a page view the site writes without its template.
type writer interface {
	writeHTML(b *bytes.Buffer, head string)
}

// sameAsTemplate fails the test unless the view's writer writes exactly what template name
// renders of it.
func sameAsTemplate(t testing.TB, s *Site, name string, view writer) {
	t.Helper()
	var want, got bytes.Buffer
	require.NoError(t, s.tmpl[name].ExecuteTemplate(&want, "layout", view))
	view.writeHTML(&got, s.head)
	require.Equal(t, want.String(), got.String())
}

// goldenViews are views like those of the golden pages (TestPagesMatchTheirGoldenFiles): the
// run pages, and the recipe pages of their recipe and of one never tested.
func goldenViews(s *Site) ([]runPage, []recipePage) {
	gap := tier(results.TierUpgrade, results.Skip, "no release before the head to upgrade from")
	gap.Lift = "tag a release of the recipe"
	capped := document(1, "cold", tier(results.TierInstall, results.Pass, ""), gap)
	failed := document(2, "cold", tier(results.TierInstall, results.Pass, ""),
		tier(results.TierBackup, results.Fail, "backupbot found no volume to back up"))
	failed.FailureExcerpt = "ERRO backup failed\nexit status 1\n"
	failed.Tiers[0].Warnings = []string{"app restarted once"}
	quick := document(3, "quick", tier(results.TierInstall, results.Pass, ""))
	quick.Tiers[0].Checks = nil
	none := document(4, "cold")
	runs := []state.Run{summary(1, "success", capped), summary(2, "failure", failed), summary(3, "success", quick),
		summary(4, "failure", none),
		{Build: 5, RunID: "drone-5", Recipe: "sample", Status: "killed", Results: state.Missing, Mode: "cold", Problem: "gone"},
		{Build: 6, RunID: "drone-6", Recipe: "sample", Status: "running", Results: state.NotYet, Mode: "cold", Created: day0}}
	runs[1].Screenshot = true
	var out []runPage
	for i, res := range []*results.Results{capped, failed, quick, none, nil, nil} {
		out = append(out, s.runView(&runs[i], res, day0))
	}
	var recipes []recipePage
	for _, r := range Recipes(runs, []string{"traefik"}) {
		recipes = append(recipes, recipePage{page: page{s.Title, "../", day0}, Row: newRow(r, "../"), Runs: r.Runs,
			BadgeURL: "https://ci.example.org/badge/" + r.Key + ".svg"})
	}
	return out, recipes
}

// hostile are strings that need escaping in every context a run page has, and URLs that
// html/template filters or normalizes.
var hostile = []string{"", "plain", `<script>alert(1)</script>`, `"><img src=x onerror=alert(2)>`, "a'b\"c&d+e<f>g",
	"\x00nul", "\xff\xfe invalid utf-8 \xe2<", "javascript:alert(3)", "JavaScript:alert(4)", "HTTPS://x.example/a?b=c&d=e+f",
	"mailto:a@example.org", "data:text/html,<b>", "/relative/path:with colon", "a/b:c", "%41%zz%4", "100%", "%",
	"ünïcödé ✓ \ufdd0 \ufffe", "tab\tnew\nline\r", "[]!#$*,;=?@~ {}|\\^`", "../../etc/passwd"}

func TestThePageWritersWriteWhatTheTemplatesRender(t *testing.T) {
	t.Parallel()
	s, err := New(t.TempDir(), "cc-ci recipe results", "https://ci.example.org/", "https://git.coopcloud.tech")
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	runs, recipes := goldenViews(s)
	for _, p := range runs {
		sameAsTemplate(t, s, "run", &p)
	}
	for _, p := range recipes {
		sameAsTemplate(t, s, "recipe", &p)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	str := func() string { return randomString(rnd) }
	for range 2000 {
		run, recipe := randomView(rnd, str), randomRecipe(rnd, str)
		sameAsTemplate(t, s, "run", &run)
		sameAsTemplate(t, s, "recipe", &recipe)
	}
	for _, h := range hostile {
		rnd := rand.New(rand.NewPCG(3, 4))
		run, recipe := randomView(rnd, func() string { return h }), randomRecipe(rnd, func() string { return h })
		sameAsTemplate(t, s, "run", &run)
		sameAsTemplate(t, s, "recipe", &recipe)
	}
}

// FuzzThePageWriters puts fuzzed strings in every field of a run page and a recipe page.
func FuzzThePageWriters(f *testing.F) {
	s, err := New(f.TempDir(), "cc-ci", "", "")
	require.NoError(f, err)
	f.Cleanup(func() { _ = s.Close() })
	for i, h := range hostile {
		f.Add(h, hostile[(i+1)%len(hostile)], uint64(i))
	}
	f.Fuzz(func(t *testing.T, a, b string, seed uint64) {
		rnd := rand.New(rand.NewPCG(seed, seed))
		str := func() string {
			if rnd.IntN(2) == 0 {
				return a
			}
			return b
		}
		run, recipe := randomView(rnd, str), randomRecipe(rnd, str)
		sameAsTemplate(t, s, "run", &run)
		sameAsTemplate(t, s, "recipe", &recipe)
	})
}

// randomRecipe is a recipe page whose every string is str() and whose every choice is random;
// its runs' statuses, results and verdicts are the ones its helpers branch on, or str().
func randomRecipe(rnd *rand.Rand, str func() string) recipePage {
	pick := func(choices ...string) string { return append(choices, str())[rnd.IntN(len(choices)+1)] }
	runs := make([]*state.Run, rnd.IntN(4))
	for i := range runs {
		runs[i] = &state.Run{Build: rnd.Int64N(1e9) - 10, RunID: str(), Recipe: str(),
			Status: pick("running", "pending", "success", "failure"), Results: pick(state.FromRunsDir, state.FromLog,
				state.NotYet, state.Missing, state.Invalid), Verdict: pick(results.VerdictPass, results.VerdictFail, ""),
			Level: rnd.IntN(8) - 1, Mode: pick(ModeQuick, "cold"), PR: pick(""), Ref: str(), Link: pick(""),
			Finished: day0.Add(time.Duration(rnd.Int64N(1e15))), DurationS: rnd.Float64()*8000 - 10}
		if rnd.IntN(2) == 0 {
			runs[i].Failed = &state.Note{Tier: str(), Reason: str()}
		}
	}
	var current *state.Run
	if len(runs) > 0 && rnd.IntN(3) > 0 {
		current = runs[rnd.IntN(len(runs))]
	}
	notes := make([]string, rnd.IntN(3))
	for i := range notes {
		notes[i] = str()
	}
	return recipePage{page: page{str(), []string{"", "../", str()}[rnd.IntN(3)], day0.Add(time.Duration(rnd.Int64N(1e15)))},
		Row: row{Name: str(), Key: str(), Badge: str(), Current: current, Notes: notes}, Runs: runs, BadgeURL: str()}
}

// randomView is a run page whose every string is str() and whose every choice is random.
func randomView(rnd *rand.Rand, str func() string) runPage {
	facts := func() []fact {
		out := make([]fact, rnd.IntN(4))
		for i := range out {
			out[i] = fact{Name: str(), Text: str(), After: str()}
			if rnd.IntN(2) == 0 {
				out[i].Href = str()
			}
		}
		return out
	}
	strs := func() []string {
		out := make([]string, rnd.IntN(3))
		for i := range out {
			out[i] = str()
		}
		return out
	}
	p := runPage{page: page{str(), []string{"", "../", str()}[rnd.IntN(3)], day0.Add(time.Duration(rnd.Int64N(1e15)))},
		Key: str(), Recipe: str(), RunID: str(), Build: rnd.Int64N(1e9) - 10, Class: str(), Badge: str(), Verdict: str(),
		Quick: rnd.IntN(2) == 0, Problem: str(), Capped: str(), Facts: facts(), HasResults: rnd.IntN(3) > 0,
		Screenshot: rnd.IntN(2) == 0, Excerpt: str(), Manifest: facts(), Link: str(), Rerun: str()}
	for range rnd.IntN(4) {
		p.Tiers = append(p.Tiers, tierRow{Name: str(), Class: str(), Status: str(), Reason: str(), Lift: str(), Time: str(),
			Warnings: strs(), Checks: strs(), ChecksLabel: str()})
	}
	return p
}

// randomString is a short string of bytes that matter to HTML and URL escaping, some letters,
// multi-byte and invalid UTF-8, and the schemes html/template's URL filter looks for.
func randomString(rnd *rand.Rand) string {
	parts := []string{"a", "Z", "9", " ", "<", ">", "&", "'", "\"", "+", "\x00", "%", "%2F", "%g", ":", "/", "?", "#", "=",
		"-", ".", "_", "~", "!", "$", "*", ",", ";", "@", "[", "]", "(", ")", "{", "\\", "\t", "\n", "é", "✓", "\ufdd0",
		"\xff", "\xe2", "javascript:", "http:", "HTTPS:", "mailto:", "data:", "//", "../"}
	if rnd.IntN(8) == 0 {
		return ""
	}
	var b strings.Builder
	for range rnd.IntN(12) + 1 {
		b.WriteString(parts[rnd.IntN(len(parts))])
	}
	return b.String()
}
