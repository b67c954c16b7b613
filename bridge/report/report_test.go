package report

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/bridge/forge"
	"coopcloud.tech/cc-ci/internal/results"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.md from the current output")

// golden compares got with testdata/<name>.golden.md (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.md")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./report/ -update to create it")
	assert.Equal(t, string(want), got)
}

const sha = "0123456789abcdef0123456789abcdef01234567"

var (
	run = Run{Forge: "github", Repo: "coop-cloud/sample", PR: 7, SHA: sha, Mode: ModeCold, Recipe: "sample",
		Requester: "alice", Build: 42, BuildURL: "https://drone.example.org/coop-cloud/cc-ci/42", Src: "https://github.com/coop-cloud/sample.git"}
	links = Links{Dashboard: "https://ci.example.org/", Results: "https://ci.example.org/runs/drone-42/results.json"}
	start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
)

// finish makes a finalized results document of recipe from its tiers, as the plugin writes it.
func finish(recipe, mode, pr, runID string, finished time.Time, tiers ...results.Tier) *results.Results {
	r := &results.Results{RunID: runID, Recipe: recipe, PR: pr, Ref: sha, Mode: mode, Domain: "samp-1a2b3c.ci.local",
		Started: finished.Add(-252 * time.Second), Tiers: tiers, Deploys: 1, Teardown: results.Teardown{Clean: true},
		Apps: []results.App{{Role: results.RoleFresh, Domain: "samp-1a2b3c.ci.local", AppNew: 1}}}
	r.Finalize(finished)
	return r
}

func tier(name string, s results.Status, seconds float64, reason string) results.Tier {
	return results.Tier{Name: name, Status: s, DurationS: seconds, Reason: reason}
}

func level3(mode string) *results.Results {
	return finish("sample", mode, "7", "drone-42", start,
		tier(results.TierInstall, results.Pass, 62, ""), tier(results.TierUpgrade, results.Pass, 95.5, "from 0.1.0+1.0.0"),
		tier(results.TierBackup, results.Pass, 12.25, ""), tier(results.TierRestore, results.Pass, 20, "data written before the backup is back"))
}

func failAtUpgrade() *results.Results {
	r := finish("sample", ModeCold, "7", "drone-42", start,
		tier(results.TierInstall, results.Pass, 62, ""),
		tier(results.TierUpgrade, results.Fail, 130, "service app did not converge after the upgrade"),
		tier(results.TierBackup, results.Unverified, 0, "run aborted before this tier was decided"),
		tier(results.TierRestore, results.Unverified, 0, "run aborted before this tier was decided"))
	r.UpgradeBase = results.UpgradeBase{Version: "0.1.0+1.0.0", Reason: "latest release"}
	r.FailureExcerpt = "\x1b[31merror\x1b[0m: task exited 1\n```\n# not a heading, still inside the block\n````"
	return r
}

func TestRenderings(t *testing.T) {
	t.Parallel()
	capped := finish("sample", ModeCold, "7", "drone-42", start,
		tier(results.TierInstall, results.Pass, 40, ""),
		results.Tier{Name: results.TierUpgrade, Status: results.Skip, Reason: "no published release to upgrade from", Lift: "publish a release (abra recipe release)"},
		tier(results.TierBackup, results.Pass, 10, ""), tier(results.TierRestore, results.Pass, 11, ""))
	capped.Tiers[2].Warnings = []string{"app restarted once before converging"}
	unverified := finish("sample", ModeCold, "7", "drone-42", start,
		tier(results.TierInstall, results.Pass, 40, ""),
		tier(results.TierUpgrade, results.Unverified, 600, "docker daemon did not answer within 10m0s"))
	regressed := finish("sample", ModeCold, "7", "drone-42", start,
		tier(results.TierInstall, results.Pass, 40, ""), tier(results.TierUpgrade, results.Pass, 50, ""),
		tier(results.TierBackup, results.Fail, 9, "backupbot found no volume to back up"),
		tier(results.TierRestore, results.Unverified, 0, "run aborted before this tier was decided"))
	baseline := finish("sample", ModeCold, "", "drone-30", start.Add(-48*time.Hour), level3(ModeCold).Tiers...)
	baseline.Manifest = map[string]string{VersionKey: "0.2.0+2.0.0"}
	quickRun := run
	quickRun.Mode = ModeQuick
	fellBack := level3(ModeCold)
	fellBack.Manifest = map[string]string{results.ManifestQuickFallback: "no warm app of sample exists yet (a green cold run creates it)"}

	tests := []struct {
		name      string
		run       Run
		res, base *results.Results
		want      forge.Status
	}{
		{"level-3-pass", run, level3(ModeCold), nil,
			forge.Status{State: forge.StateSuccess, Description: "level 3/5 · pass"}},
		{"fail-at-upgrade", run, failAtUpgrade(), nil,
			forge.Status{State: forge.StateFailure, Description: "fail at UPGRADE: service app did not converge after the upgrade"}},
		{"capped-with-lift", run, capped, nil,
			forge.Status{State: forge.StateSuccess, Description: "level 1/5 · pass"}},
		{"unverified", run, unverified, nil,
			forge.Status{State: forge.StateError, Description: "CI error, not the recipe (!testme to retry): upgrade: docker daemon did not answer within 10m0s"}},
		{"quick-run", quickRun, level3(ModeQuick), nil,
			forge.Status{State: forge.StateSuccess, Description: "quick run, not a full verdict · level 3/5 · pass"}},
		{"quick-fell-back-to-cold", quickRun, fellBack, nil,
			forge.Status{State: forge.StateSuccess, Description: "level 3/5 · pass"}},
		{"regression", run, regressed, baseline,
			forge.Status{State: forge.StateFailure, Description: "fail at BACKUP: backupbot found no volume to back up"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body, st := Verdict(tt.run, tt.res, tt.base, links)
			golden(t, tt.name, body)
			tt.want.Context, tt.want.TargetURL = forge.StatusContext, run.BuildURL
			assert.Equal(t, tt.want, st)
			assert.True(t, IsSticky(body))
		})
	}

	t.Run("killed-build", func(t *testing.T) {
		t.Parallel()
		body, st := BuildError(run, "killed", "the build exceeded its 60m0s timeout")
		golden(t, "killed-build", body)
		assert.Equal(t, forge.Status{State: forge.StateError, TargetURL: run.BuildURL, Context: forge.StatusContext,
			Description: "CI error: build killed: the build exceeded its 60m0s timeout"}, st)
	})
	t.Run("queued", func(t *testing.T) {
		t.Parallel()
		golden(t, "queued", Queued(Run{Forge: "gitea", Repo: "coop-cloud/sample", PR: 7, SHA: sha, Mode: ModeCold, Recipe: "sample", Requester: "alice"}))
	})
	t.Run("started", func(t *testing.T) { t.Parallel(); golden(t, "started", Started(run)) })
	t.Run("started-quick", func(t *testing.T) { t.Parallel(); golden(t, "started-quick", Started(quickRun)) })
	t.Run("new-commits", func(t *testing.T) {
		t.Parallel()
		golden(t, "new-commits", NewCommits(run, "fedcba9876543210fedcba9876543210fedcba98"))
	})
	t.Run("already-running", func(t *testing.T) { t.Parallel(); golden(t, "already-running", AlreadyRunning(run)) })
}

func TestRegressionIsNewsOnlyWhenTheLevelDropped(t *testing.T) {
	t.Parallel()
	at := func(level int, mode, verdict string) *results.Results {
		// Only Level, Mode, Verdict and Recipe matter to the regression line.
		return &results.Results{RunID: "drone-1", Recipe: "sample", Ref: sha, Mode: mode, Level: level, Verdict: verdict}
	}
	tests := []struct {
		name     string
		res      *results.Results
		baseline *results.Results
		quick    bool
		want     bool
	}{
		{"a drop from 3 to 1 is news", at(1, ModeCold, results.VerdictFail), at(3, ModeCold, results.VerdictPass), false, true},
		{"a recipe always at level 1 is not news", at(1, ModeCold, results.VerdictPass), at(1, ModeCold, results.VerdictPass), false, false},
		{"a climb is not a regression", at(3, ModeCold, results.VerdictPass), at(1, ModeCold, results.VerdictPass), false, false},
		{"no baseline says nothing", at(0, ModeCold, results.VerdictFail), nil, false, false},
		{"a quick run never claims a regression", at(1, ModeQuick, results.VerdictPass), at(3, ModeCold, results.VerdictPass), true, false},
		{"a CI error never claims a regression", at(0, ModeCold, results.VerdictUnverified), at(3, ModeCold, results.VerdictPass), false, false},
		{"another recipe's baseline is ignored", at(1, ModeCold, results.VerdictFail), func() *results.Results {
			b := at(3, ModeCold, results.VerdictPass)
			b.Recipe = "other"
			return b
		}(), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			line := regression(tt.res, tt.baseline, tt.quick)
			assert.Equal(t, tt.want, line != "", "regression line: %q", line)
			if tt.want {
				assert.True(t, strings.HasPrefix(line, "**level 3 -> 1 since `0123456789ab`**"), line)
			}
		})
	}
}

func TestRegressionLineComesFirst(t *testing.T) {
	t.Parallel()
	res := finish("sample", ModeCold, "7", "drone-42", start, tier(results.TierInstall, results.Fail, 3, "boom"))
	base := finish("sample", ModeCold, "", "drone-30", start.Add(-time.Hour), level3(ModeCold).Tiers...)
	body, _ := Verdict(run, res, base, links)
	assert.True(t, strings.HasPrefix(body, Marker+"\n**level 3 -> 0 since `0123456789ab`**"), body)

	green := finish("sample", ModeCold, "7", "drone-42", start, tier(results.TierInstall, results.Pass, 3, ""))
	body, st := Verdict(run, green, base, links)
	assert.True(t, strings.HasPrefix(body, Marker+"\n**level 3 -> 1 since"), "a green run that lost levels is news too")
	assert.Equal(t, "level 1/5 · pass (was level 3)", st.Description)
}

func TestUnverifiedIsNeverARedRecipe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		res       *results.Results
		wantCause string
	}{
		{"an unverified tier names its reason", finish("sample", ModeCold, "7", "drone-42", start,
			tier(results.TierInstall, results.Unverified, 1, "docker: connection refused")), "install: docker: connection refused"},
		{"a run that left residue names it", func() *results.Results {
			r := &results.Results{RunID: "drone-42", Recipe: "sample", Ref: sha, Mode: ModeCold, Started: start, Deploys: 1,
				Apps:     []results.App{{Role: results.RoleFresh, AppNew: 1}},
				Teardown: results.Teardown{Residue: []string{"volume samp_data"}},
				Tiers:    []results.Tier{tier(results.TierInstall, results.Pass, 1, "")}}
			r.Finalize(start.Add(time.Minute))
			return r
		}(), "teardown left volume samp_data"},
		{"a run that verified nothing says so", finish("sample", ModeCold, "7", "drone-42", start,
			results.Tier{Name: results.TierInstall, Status: results.Skip}), "no tier was verified"},
		{"the deploy-count guard says so", func() *results.Results {
			r := level3(ModeCold)
			r.Deploys = 2
			r.Finalize(start)
			return r
		}(), "deploy-count guard failed: 2 app new for 1 apps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, results.VerdictUnverified, tt.res.Verdict)
			body, st := Verdict(run, tt.res, nil, links)
			assert.Equal(t, forge.StateError, st.State)
			assert.Contains(t, st.Description, tt.wantCause)
			assert.Contains(t, body, "The CI box failed, not the recipe; comment `!testme` to retry")
			assert.NotContains(t, body, "❌")
		})
	}
}

func TestNoResultsIsABuildError(t *testing.T) {
	t.Parallel()
	body, st := Verdict(run, nil, nil, links)
	assert.Equal(t, forge.StateError, st.State)
	assert.True(t, IsSticky(body))
	assert.Contains(t, st.Description, "the run left no results")
}

func TestStatusDescriptionFitsTheForgeCap(t *testing.T) {
	t.Parallel()
	res := finish("sample", ModeCold, "7", "drone-42", start, tier(results.TierInstall, results.Fail, 3, strings.Repeat("é long reason\n", 40)))
	_, st := Verdict(run, res, nil, links)
	assert.LessOrEqual(t, utf8.RuneCountInString(st.Description), 140)
	assert.NotContains(t, st.Description, "\n")
	assert.True(t, strings.HasPrefix(st.Description, "fail at INSTALL: é long reason é"), st.Description)
	_, st = BuildError(run, "error", strings.Repeat("x", 500))
	assert.LessOrEqual(t, utf8.RuneCountInString(st.Description), 140)
}

func TestIsSticky(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want bool
	}{
		{"a sticky body is sticky", Started(run), true},
		{"leading whitespace a forge may add is tolerated", "\r\n" + Queued(run), true},
		{"a reply is not the sticky comment", AlreadyRunning(run), false},
		{"the marker quoted inside someone's comment is not sticky", "look: " + Marker, false},
		{"a plain comment is not sticky", "!testme", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, IsSticky(tt.body))
		})
	}
}

func TestHeadMovedNamesTheNewHeadAndIsNoSticky(t *testing.T) {
	t.Parallel()
	body := HeadMoved(Run{SHA: "0123456789abcdef0123456789abcdef01234567"})
	assert.Contains(t, body, "`0123456789ab`")
	assert.Contains(t, body, "Comment `!testme` again")
	assert.False(t, IsSticky(body), "a reply must never be taken for the sticky comment")
}
