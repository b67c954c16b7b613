package render

import (
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/dashboard-gen/state"
	"coopcloud.tech/cc-ci/internal/results"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares the site's file rel with testdata/<name>.golden.
func golden(t *testing.T, s *Site, rel, name string) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(s.Out, rel))
	require.NoError(t, err)
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./render -update to create it")
	assert.Equal(t, string(want), string(got), "%s differs from %s (go test ./render -update rewrites it)", rel, path)
}

// document is a finalized results.json of build n with the given tiers.
func document(n int64, mode string, tiers ...results.Tier) *results.Results {
	r := &results.Results{RunID: "drone-" + strconv.FormatInt(n, 10), Recipe: "sample", Repo: "coop-cloud/sample", PR: "7",
		Ref: strings.Repeat("ab", 20), Mode: mode, Domain: "samp-1a2b3c.ci.local", Started: day0,
		UpgradeBase: results.UpgradeBase{Version: "0.2.0+2.0.0", Reason: "newest release before the head"},
		Tiers:       tiers, Deploys: 2, Apps: []results.App{{Role: results.RoleFresh, Domain: "samp-1.ci.local", AppNew: 1},
			{Role: results.RoleUpgrade, Domain: "samp-2.ci.local", AppNew: 1}},
		Teardown: results.Teardown{Clean: true}, Manifest: map[string]string{"version": "0.3.0+2.1.0"}, Artifacts: map[string]string{}}
	r.Finalize(day0.Add(3*time.Minute + 12*time.Second))
	return r
}

func tier(name string, s results.Status, reason string) results.Tier {
	return results.Tier{Name: name, Status: s, Reason: reason, DurationS: 12.5, Checks: []results.Check{{Name: name, Status: s}}}
}

// summary is the state's summary of res as build n, the way the source makes it.
func summary(n int64, status string, res *results.Results) state.Run {
	r := state.Run{Build: n, RunID: res.RunID, Recipe: res.Recipe, Status: status, Results: state.FromRunsDir,
		Verdict: res.Verdict, Level: res.Level, Mode: res.Mode, Repo: res.Repo, PR: res.PR, Ref: res.Ref,
		Version: res.Manifest["version"], Forge: "github", Src: "https://github.com/coop-cloud/sample.git",
		Started: res.Started, Finished: res.Finished.Add(time.Duration(n) * time.Hour), DurationS: res.DurationS,
		Link: "https://drone.example.org/coop-cloud/cc-ci/" + strconv.FormatInt(n, 10)}
	for _, t := range res.Tiers {
		if t.Status == results.Fail {
			r.Failed = &state.Note{Tier: t.Name, Status: string(t.Status), Reason: t.Reason}
		}
	}
	if c := results.CappedBy(res.Tiers); c != nil {
		r.Capped = &state.Note{Tier: c.Name, Status: string(c.Status), Reason: c.Reason, Lift: c.Lift}
	}
	return r
}

func TestPagesMatchTheirGoldenFiles(t *testing.T) {
	t.Parallel()
	s, err := New(t.TempDir(), "cc-ci recipe results", "https://ci.example.org/", "https://git.coopcloud.tech")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	s.Now = func() time.Time { return day0.Add(24 * time.Hour) }

	gap := tier(results.TierUpgrade, results.Skip, "no release before the head to upgrade from")
	gap.Lift = "tag a release of the recipe"
	capped := document(1, "cold", tier(results.TierInstall, results.Pass, ""), gap)
	failed := document(2, "cold", tier(results.TierInstall, results.Pass, ""), tier(results.TierUpgrade, results.Pass, ""),
		tier(results.TierBackup, results.Fail, "backupbot found no volume to back up"))
	failed.FailureExcerpt = "\x1b[31mERRO\x1b[0m backup failed\nexit status 1\n"
	failed.Tiers[1].Warnings = []string{"app restarted once while its database booted"}
	quick := document(3, "quick", tier(results.TierInstall, results.Pass, ""), tier(results.TierUpgrade, results.Pass, ""))

	runs := []state.Run{summary(1, "success", capped), summary(2, "failure", failed), summary(3, "success", quick),
		{Build: 4, RunID: "drone-4", Recipe: "sample", Status: "killed", Results: state.Missing, Mode: "cold",
			Problem: `the build ended "killed" without results.json (neither in the runs dir nor in its log)`,
			Ref:     strings.Repeat("cd", 20), PR: "8", Repo: "coop-cloud/sample", Forge: "github", Created: day0, Started: day0,
			Finished: day0.Add(5 * time.Hour), DurationS: 40},
		{Build: 5, RunID: "drone-5", Recipe: "sample", Status: "running", Results: state.NotYet, Mode: "cold", Created: day0}}
	runs[3].Link = "https://drone.example.org/coop-cloud/cc-ci/4"
	for i, res := range []*results.Results{capped, failed, quick, nil, nil} {
		var data []byte
		if res != nil {
			data = []byte("{}\n")
		}
		require.NoError(t, s.Run(&runs[i], res, data, ""))
	}
	recipes := Recipes(runs, []string{"traefik"})
	for _, r := range recipes {
		require.NoError(t, s.Recipe(r))
	}
	require.NoError(t, s.Index(recipes))
	require.NoError(t, s.Feed(recipes, "coop-cloud/cc-ci"))

	golden(t, s, "index.html", "index.html")
	golden(t, s, "recipe/sample.html", "recipe-sample.html")
	golden(t, s, "recipe/traefik.html", "recipe-traefik.html")
	golden(t, s, "run/drone-1.html", "run-capped.html")
	golden(t, s, "run/drone-2.html", "run-failed.html")
	golden(t, s, "run/drone-3.html", "run-quick.html")
	golden(t, s, "run/drone-4.html", "run-killed.html")
	golden(t, s, "run/drone-5.html", "run-running.html")
	golden(t, s, "badge/sample.svg", "badge-sample.svg")
	golden(t, s, "feed.xml", "feed.xml")

	run2, err := os.ReadFile(filepath.Join(s.Out, "run/drone-2.html"))
	require.NoError(t, err)
	want := results.Rerun{Recipe: "sample", Src: "https://github.com/coop-cloud/sample.git", Ref: failed.Ref, PR: "7",
		Repo: "coop-cloud/sample", Mode: "cold", Forge: "github"}.Command()
	assert.Contains(t, string(run2), "<pre class=\"cmd\"><code>"+strings.ReplaceAll(want, "+", "&#43;")+"</code></pre>",
		"the run page shows the bridge's one-line rerun command")
	assert.NotContains(t, string(run2), "\x1b", "colour codes are stripped from the excerpt")
	assert.Contains(t, string(run2), `href="https://github.com/coop-cloud/sample/pull/7"`)
}

func TestBadgesAreWellFormedSVG(t *testing.T) {
	t.Parallel()
	pass, fail := run(1, "cold", "pass", 4), run(2, "cold", "fail", 1)
	running := state.Run{Build: 3, Status: "running", Results: state.NotYet}
	tests := []struct {
		name    string
		run     *state.Run
		text    string
		colour  string
		recipe  string
		inTitle string
	}{
		{"a pass shows its level in the level's colour", &pass, "level 4", "#97ca00", "sample", "sample: cc-ci level 4"},
		{"a fail is red", &fail, "level 1 · fail", "#e05d44", "sample", "sample: cc-ci level 1 · fail"},
		{"never tested is grey", nil, "untested", "#9f9f9f", "sample", "untested"},
		{"running is blue", &running, "running", "#007ec6", "sample", "running"},
		{"a hostile name stays text", &pass, "level 4", "#97ca00", `</title><script>x</script>&`, `</title><script>x</script>&: cc-ci level 4`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svg := Badge(tt.recipe, tt.run)
			var doc struct {
				XMLName xml.Name `xml:"svg"`
				Title   string   `xml:"title"`
				Rects   []struct {
					Fill string `xml:"fill,attr"`
				} `xml:"g>rect"`
				Texts []string `xml:"g>text"`
			}
			require.NoError(t, xml.Unmarshal(svg, &doc), string(svg))
			assert.Contains(t, doc.Title, tt.inTitle)
			assert.Contains(t, doc.Texts, tt.text)
			require.Len(t, doc.Rects, 3)
			assert.Equal(t, tt.colour, doc.Rects[1].Fill)
		})
	}
}
