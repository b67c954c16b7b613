package generate_test

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drone/drone-go/drone"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/dashboard-gen/fakehistory"
	"coopcloud.tech/cc-ci/dashboard-gen/state"
	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
)

func TestEveryPageOfHistoryIsRenderedThenOnlyWhatIsNew(t *testing.T) {
	t.Parallel()
	recipes := fakehistory.Recipes(6)
	runs := fakehistory.Mixed(130, recipes)
	running := fakehistory.Make(131, recipes[0], fakehistory.Running)
	w := newWorld(t, append(runs, running), append(recipes, "never-tested")...)
	// A push build of the cc-ci repo itself: not a recipe run, never shown.
	_, err := w.drone.Seed(owner, name, fakedrone.History{Status: drone.StatusPassing, Commit: strings.Repeat("c", 40)})
	require.NoError(t, err)

	stats := w.generate(t)
	assert.True(t, stats.Full)
	assert.Equal(t, 132, stats.Listed, "every page of the history, not only the first 100 builds")
	assert.Equal(t, 131, stats.Changed, "every recipe run, and not the push build")

	var api []state.Run
	require.NoError(t, json.Unmarshal([]byte(w.read(t, "api/results.json")), &api))
	require.Len(t, api, 131)
	byBuild := map[int64]state.Run{}
	for _, r := range api {
		byBuild[r.Build] = r
	}
	for _, r := range runs {
		got := byBuild[r.Number]
		assert.Equal(t, r.Recipe, got.Recipe)
		switch r.Kind {
		case fakehistory.Killed, fakehistory.Errored, fakehistory.NoResults:
			assert.Equal(t, state.Missing, got.Results, "build %d: a run without results is shown as such", r.Number)
			assert.Contains(t, w.read(t, "run/"+got.RunID+".html"), "No usable results: the build ended")
		case fakehistory.InLogOnly:
			assert.Equal(t, state.FromLog, got.Results, "build %d: recovered from the step log", r.Number)
			assert.Equal(t, r.Results.Level, got.Level)
		default:
			assert.Equal(t, state.FromRunsDir, got.Results, "build %d", r.Number)
			assert.Equal(t, r.Results.Verdict, got.Verdict)
			assert.Equal(t, r.Results.Level, got.Level)
		}
		assert.FileExists(t, filepath.Join(w.settings.Out, "run", got.RunID+".html"))
	}
	assert.Equal(t, state.NotYet, byBuild[131].Results)
	assert.Contains(t, w.read(t, "run/drone-131.html"), "running")

	index := w.read(t, "index.html")
	for _, r := range append(recipes, "never-tested") {
		assert.Contains(t, index, `href="recipe/`+r+`.html"`)
		assert.FileExists(t, filepath.Join(w.settings.Out, "badge", r+".svg"))
		assert.FileExists(t, filepath.Join(w.settings.Out, "recipe", r+".html"))
	}
	var feed struct {
		Entries []struct {
			Title string `xml:"title"`
		} `xml:"entry"`
	}
	require.NoError(t, xml.Unmarshal([]byte(w.read(t, "feed.xml")), &feed))
	assert.NotEmpty(t, feed.Entries)

	// One new build, and the running one ends.
	fresh := fakehistory.Make(133, recipes[1], fakehistory.FailAt)
	w.seed(t, fresh)
	ended := fakehistory.Make(131, recipes[0], fakehistory.Pass)
	require.NoError(t, fakehistory.WriteResults(w.runsDir, ended.Results))
	require.NoError(t, w.drone.EndSeeded(owner, name, 131, drone.StatusPassing, ended.History.Log, time.Now()))
	untouched := filepath.Join(w.settings.Out, "recipe", recipes[3]+".html")
	oldRun := filepath.Join(w.settings.Out, "run", "drone-5.html")
	before := []os.FileInfo{stat(t, untouched), stat(t, oldRun)}

	stats = w.generate(t)
	assert.False(t, stats.Full)
	assert.Equal(t, 1, stats.Listed, "only builds newer than the newest already read")
	assert.Equal(t, 2, stats.Changed, "the new build and the one that was running")
	// 2 runs x (page + results) + 2 recipes x (page + badge) + index, feed, api.
	assert.Equal(t, 11, stats.Files)
	assert.True(t, os.SameFile(before[0], stat(t, untouched)), "a recipe with nothing new keeps its page")
	assert.True(t, os.SameFile(before[1], stat(t, oldRun)), "a finished run's page is never rewritten")
	require.NoError(t, json.Unmarshal([]byte(w.read(t, "api/results.json")), &api))
	require.Len(t, api, 132)
	assert.Equal(t, "success", api[130].Status)
	assert.Equal(t, state.FromRunsDir, api[130].Results)
	assert.Equal(t, "failure", api[131].Status)
	assert.Contains(t, w.read(t, "recipe/"+recipes[1]+".html"), "#133")

	// The site brought up to date piece by piece is the site rendered from scratch.
	incremental, incState := w.settings.Out, w.settings.StatePath
	w.settings.Out, w.settings.StatePath = filepath.Join(t.TempDir(), "site"), filepath.Join(t.TempDir(), "state")
	assert.True(t, w.generate(t).Full)
	for _, rel := range []string{"index.html", "feed.xml", "api/results.json", "recipe/" + recipes[0] + ".html",
		"recipe/" + recipes[1] + ".html", "recipe/" + recipes[3] + ".html", "badge/" + recipes[1] + ".svg", "run/drone-131.html"} {
		inc, err := os.ReadFile(filepath.Join(incremental, rel))
		require.NoError(t, err)
		assert.Equal(t, stamp.ReplaceAllString(w.read(t, rel), ""), stamp.ReplaceAllString(string(inc), ""), rel)
	}
	w.settings.Out, w.settings.StatePath = incremental, incState

	stats = w.generate(t)
	assert.Equal(t, 0, stats.Changed)
	assert.Equal(t, 0, stats.Files, "nothing new: nothing written")
}

// stamp is the time a page was generated, the one thing two renderings of a page may differ in.
var stamp = regexp.MustCompile(`Generated [^<]* by`)

func stat(t *testing.T, path string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi
}

func TestAFullRunOverASiteReplacesItsPagesKeepsThoseOfForgottenBuildsAndLeavesNoStaging(t *testing.T) {
	t.Parallel()
	recipes := fakehistory.Recipes(3)
	w := newWorld(t, fakehistory.Mixed(20, recipes))
	w.generate(t)
	// The page of a build Drone no longer lists (purged): a full run re-reads Drone, not the site.
	forgotten := filepath.Join(w.settings.Out, "run", "drone-999.html")
	require.NoError(t, os.WriteFile(forgotten, []byte("build 999"), 0o644))
	before := stat(t, filepath.Join(w.settings.Out, "run", "drone-5.html"))

	w.settings.Full = true
	stats := w.generate(t)
	assert.True(t, stats.Full)
	assert.False(t, os.SameFile(before, stat(t, filepath.Join(w.settings.Out, "run", "drone-5.html"))), "rendered anew")
	assert.Equal(t, "build 999", w.read(t, "run/drone-999.html"))
	entries, err := os.ReadDir(w.settings.Out)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"api", "badge", "feed.xml", "index.html", "recipe", "run", "style.css"}, names)
}
