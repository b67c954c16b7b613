package render

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/dashboard-gen/state"
)

var day0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// run is build n of recipe "sample", finished n hours after day0, with its results.
func run(n int64, mode, verdict string, level int) state.Run {
	r := state.Run{Build: n, RunID: "drone-" + strconv.FormatInt(n, 10), Recipe: "sample", Status: "success", Results: state.FromRunsDir,
		Verdict: verdict, Level: level, Mode: mode, Ref: strings.Repeat("ab", 20), Finished: day0.Add(time.Duration(n) * time.Hour)}
	if verdict != "pass" {
		r.Status = "failure"
	}
	if verdict == "fail" {
		r.Failed = &state.Note{Tier: "backup", Status: "fail", Reason: "no volume"}
	}
	return r
}

func TestTheIndexLevelComesFromTheLatestFullVerdict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		runs      []state.Run
		wantBuild int64 // 0: no current verdict
		wantSince int64 // the build whose finish starts the streak
		wantNote  string
	}{
		{"a newer quick run never sets the level", []state.Run{run(1, "cold", "pass", 3), run(2, "quick", "fail", 1)},
			1, 1, "Newer quick run #2: fail at backup, level 1 (not a full verdict)."},
		{"a newer CI error never sets the level", []state.Run{run(1, "cold", "fail", 1), run(2, "cold", "unverified", 0)},
			1, 1, "Newer build #2: CI error, not the recipe."},
		{"a newer full run does", []state.Run{run(1, "cold", "pass", 3), run(2, "cold", "fail", 1)}, 2, 2, ""},
		{"the streak starts at the first run of the same verdict", []state.Run{run(1, "cold", "fail", 1), run(2, "cold", "pass", 3),
			run(3, "quick", "fail", 0), run(4, "cold", "pass", 5)}, 4, 2, ""},
		{"only quick runs: no level yet", []state.Run{run(1, "quick", "pass", 3)}, 0, 0, "Newer quick run #1: pass, level 3 (not a full verdict)."},
		{"a killed build says so", []state.Run{run(1, "cold", "pass", 3), {Build: 2, RunID: "drone-2", Recipe: "sample", Status: "killed", Results: state.Missing}},
			1, 1, "Newer build #2: no results (build killed)."},
		{"a running build says so", []state.Run{run(1, "cold", "pass", 3), {Build: 2, RunID: "drone-2", Recipe: "sample", Status: "running", Results: state.NotYet}},
			1, 1, "Build #2 is running."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			recipes := Recipes(tt.runs, nil)
			require.Len(t, recipes, 1)
			r := recipes[0]
			if tt.wantBuild == 0 {
				assert.Nil(t, r.Current)
				assert.Equal(t, "untested", BadgeText(r.Current))
			} else {
				require.NotNil(t, r.Current)
				assert.Equal(t, tt.wantBuild, r.Current.Build)
				assert.Equal(t, day0.Add(time.Duration(tt.wantSince)*time.Hour), r.Since)
			}
			if tt.wantNote == "" {
				assert.Empty(t, r.Notes())
			} else {
				assert.Contains(t, r.Notes(), tt.wantNote)
			}
		})
	}
}

func TestACappedLevelSaysWhatWouldLiftIt(t *testing.T) {
	t.Parallel()
	r := run(1, "cold", "pass", 1)
	r.Capped = &state.Note{Tier: "upgrade", Status: "skip", Reason: "no release before the head", Lift: "tag a release"}
	recipes := Recipes([]state.Run{r}, nil)
	assert.Equal(t, []string{"Level 1 is capped by a gap at upgrade: no release before the head. To lift it: tag a release."},
		recipes[0].Notes())
}

func TestRecipesNeverTestedAreListedToo(t *testing.T) {
	t.Parallel()
	recipes := Recipes([]state.Run{run(1, "cold", "pass", 3)}, []string{"zammad", "sample", "authentik"})
	var names []string
	for _, r := range recipes {
		names = append(names, r.Name)
	}
	assert.Equal(t, []string{"authentik", "sample", "zammad"}, names)
	assert.Nil(t, recipes[0].Current)
	assert.Empty(t, recipes[0].Runs)
	assert.Equal(t, "3 recipes: 1 green, 0 red, 2 without a full verdict", Counts(recipes))
}

func TestKeyIsASafeFileName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, recipe string
		same         bool
	}{
		{"a recipe name is its own key", "sample", true},
		{"a name with digits and dashes too", "mattermost-lts2", true},
		{"a path is hashed", "../../etc/passwd", false},
		{"a slash is hashed", "a/b", false},
		{"markup is hashed", `<script>`, false},
		{"upper case is not a recipe name", "Sample", false},
		{"a key-looking name cannot collide with a hashed key", "_0123456789abcdef", false},
		{"empty is hashed", "", false},
		{"64 characters are a recipe name", strings.Repeat("a", 64), true},
		{"65 are not", strings.Repeat("a", 65), false},
		{"a name starts with a letter or digit", "-a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := Key(tt.recipe)
			assert.Regexp(t, `^[a-z0-9_][a-z0-9-]*$`, k)
			assert.Equal(t, tt.same, k == tt.recipe, k)
			if !tt.same {
				assert.Regexp(t, `^_[0-9a-f]{16}$`, k)
			}
		})
	}
	assert.NotEqual(t, Key("a/b"), Key("a/c"))
}

func TestAPullRequestIsLinkedOnlyForAWellFormedRepoAndNumber(t *testing.T) {
	t.Parallel()
	s := &Site{GiteaURL: "https://git.example.org"}
	tests := []struct {
		name, repo, pr string
		linked         bool
	}{
		{"owner/name and a number", "coop-cloud/sample.v2_x", "7", true},
		{"owners and names of 100 characters", strings.Repeat("o", 100) + "/" + strings.Repeat("n", 100), "1234567890", true},
		{"an owner of 101", strings.Repeat("o", 101) + "/n", "7", false},
		{"a name of 101", "o/" + strings.Repeat("n", 101), "7", false},
		{"an owner starting with a dot", ".o/n", "7", false},
		{"no name", "o/", "7", false},
		{"a path", "o/n/x", "7", false},
		{"markup", `o/n"><b>`, "7", false},
		{"PR 0", "o/n", "0", false},
		{"a PR of 11 digits", "o/n", "12345678901", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			link := s.prLink(&state.Run{Repo: tt.repo, PR: tt.pr, Forge: "gitea"})
			assert.Equal(t, tt.linked, link != "", link)
		})
	}
}

func TestTheFeedHoldsVerdictChangesOnly(t *testing.T) {
	t.Parallel()
	runs := []state.Run{run(1, "cold", "pass", 3), run(2, "cold", "pass", 3), run(3, "quick", "fail", 0),
		run(4, "cold", "unverified", 0), run(5, "cold", "fail", 1), run(6, "cold", "fail", 1), run(7, "cold", "pass", 4)}
	var titles []string
	for _, c := range Changes(Recipes(runs, nil)) {
		titles = append(titles, c.Title())
	}
	assert.Equal(t, []string{
		"sample is green again: level 4 (build #7)",
		"sample went red: fail at backup, level 1 (build #5)",
		"sample is green: level 3 (build #1)",
	}, titles, "newest first; quick runs and CI errors are no news")
}
