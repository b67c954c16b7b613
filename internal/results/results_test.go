package results

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// declaredSkip stands for a skip a maintainer declared in the overlay (expected_na).
const declaredSkip Status = "skip(declared)"

func tiers(statuses ...Status) []Tier {
	names := []string{TierInstall, TierUpgrade, TierBackup, TierRestore, TierFunctional, TierLint}
	var out []Tier
	for i, s := range statuses {
		t := Tier{Name: names[i], Status: s}
		if s == declaredSkip {
			t.Status, t.Declared = Skip, true
		}
		out = append(out, t)
	}
	return out
}

// oneApp is a run that created one app exactly once.
var oneApp = []App{{Role: RoleFresh, Domain: "samp-000000.ci.local", AppNew: 1}}

func TestLevelAndVerdict(t *testing.T) {
	tests := []struct {
		name        string
		tiers       []Tier
		wantLevel   int
		wantVerdict string
	}{
		{"everything passing reaches level 5", tiers(Pass, Pass, Pass, Pass, Pass, Pass), 5, VerdictPass},
		{"install, upgrade, backup and restore passing is level 3", tiers(Pass, Pass, Pass, Pass), 3, VerdictPass},
		{"a declared skip of upgrade still climbs", tiers(Pass, declaredSkip, Pass, Pass), 3, VerdictPass},
		{"a gap (a skip nobody declared) stops the level below it, verdict still pass", tiers(Pass, Skip, Pass, Pass), 1, VerdictPass},
		{"a gap at backup caps at 2 even when restore passed", tiers(Pass, Pass, Skip, Pass), 2, VerdictPass},
		{"an unverified rung never counts, even with everything above it passing", tiers(Pass, Unverified, Pass, Pass), 1, VerdictUnverified},
		{"an unverified install is level 0", tiers(Unverified, Pass, Pass, Pass), 0, VerdictUnverified},
		{"a failed upgrade caps the level at 1 and fails", tiers(Pass, Fail, Pass, Pass), 1, VerdictFail},
		{"backup passing but restore failing caps at 2", tiers(Pass, Pass, Pass, Fail), 2, VerdictFail},
		{"an unverified tier is never green", tiers(Pass, Pass, Unverified), 2, VerdictUnverified},
		{"a failed install is level 0", tiers(Fail, Unverified, Unverified, Unverified), 0, VerdictFail},
		{"all skipped verifies nothing", tiers(Skip, Skip), 0, VerdictUnverified},
		{"all declared-skipped verifies nothing either", tiers(declaredSkip, declaredSkip), 2, VerdictUnverified},
		{"no tiers at all verifies nothing", nil, 0, VerdictUnverified},
		{"an unknown status is never green", []Tier{{Name: TierInstall, Status: "passed"}}, 0, VerdictUnverified},
		{"a fail above a pass still fails the verdict", tiers(Pass, Pass, Pass, Pass, Fail), 3, VerdictFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.wantLevel, Level(tt.tiers))
			assert.Equal(t, tt.wantVerdict, Verdict(tt.tiers))
		})
	}
}

func TestFinalizeWithResidueIsNotGreen(t *testing.T) {
	r := &Results{Started: time.Now(), Tiers: tiers(Pass, Pass, Pass, Pass), Apps: oneApp, Deploys: 1}
	r.Teardown = Teardown{Clean: false, Residue: []string{"volume x"}}
	r.Finalize(time.Now())
	assert.Equal(t, VerdictUnverified, r.Verdict)
	assert.Equal(t, 3, ExitCode(r.Verdict))
}

func TestFinalizeDeployCountGuard(t *testing.T) {
	fresh := App{Role: RoleFresh, Domain: "samp-000000.ci.local", AppNew: 1}
	upgrade := App{Role: RoleUpgrade, Domain: "samp-111111.ci.local", AppNew: 1}
	twice := upgrade
	twice.AppNew = 2
	never := upgrade
	never.AppNew = 0
	tests := []struct {
		name    string
		apps    []App
		deploys int
		want    string
	}{
		{"two apps, each created once, is green", []App{fresh, upgrade}, 2, VerdictPass},
		{"one app created once is green", []App{fresh}, 1, VerdictPass},
		{"no app recorded is not green", nil, 0, VerdictUnverified},
		{"an app created twice is not green", []App{fresh, twice}, 3, VerdictUnverified},
		{"an app never created is not green", []App{fresh, never}, 1, VerdictUnverified},
		{"an app new beyond the recorded apps is not green", []App{fresh, upgrade}, 3, VerdictUnverified},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Results{Started: time.Now(), Tiers: tiers(Pass, Pass, Pass, Pass), Apps: tt.apps, Deploys: tt.deploys, Teardown: Teardown{Clean: true}}
			r.Finalize(time.Now())
			assert.Equal(t, tt.want, r.Verdict)
		})
	}
}

func TestSummarySaysWhatWouldLiftAGap(t *testing.T) {
	r := &Results{Recipe: "sample", Started: time.Now(), Apps: oneApp, Deploys: 1, Teardown: Teardown{Clean: true},
		Tiers: []Tier{{Name: TierInstall, Status: Pass},
			{Name: TierUpgrade, Status: Skip, Reason: "no published release", Lift: "publish a release"},
			{Name: TierBackup, Status: Pass, Warnings: []string{"app restarted once before converging"}}},
		UpgradeBase: UpgradeBase{Reason: "no release", Needs: []string{"new secret db_password"}}}
	r.Finalize(time.Now())
	s := Summary(r)
	assert.Equal(t, 1, r.Level)
	assert.Contains(t, s, "skip (gap)")
	assert.Contains(t, s, "capped by a gap at upgrade: no published release. To lift it: publish a release.")
	assert.Contains(t, s, "app restarted once before converging")
	assert.Contains(t, s, "This upgrade needs: new secret db_password")
	assert.Nil(t, CappedBy(tiers(Pass, Fail)), "a failure is not a gap")
}

func TestExitCodes(t *testing.T) {
	assert.Equal(t, 0, ExitCode(VerdictPass))
	assert.Equal(t, 1, ExitCode(VerdictFail))
	assert.Equal(t, 3, ExitCode(VerdictUnverified))
}

func TestWriteFileIsAtomicAndRoundTrips(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "results.json")
	r := &Results{RunID: "drone-1", Recipe: "sample", Started: time.Now().Add(-time.Minute), Tiers: tiers(Pass, declaredSkip, Pass, Pass), Deploys: 1, Apps: oneApp,
		Teardown: Teardown{Clean: true}, Manifest: map[string]string{}, Artifacts: map[string]string{}}
	r.Finalize(time.Now())
	require.NoError(t, WriteFile(path, r))
	got, err := ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, 3, got.Level)
	assert.Equal(t, VerdictPass, got.Verdict)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temp file may be left beside results.json")
}

func TestReadFileRefusesUnknownSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"schema": 2}`), 0o644))
	_, err := ReadFile(path)
	assert.ErrorContains(t, err, "schema 2")
}

func TestSummaryShowsEveryTierAndTheExcerpt(t *testing.T) {
	r := &Results{Recipe: "sample", Ref: "0123456789abcdef", Started: time.Now(),
		Tiers:          []Tier{{Name: TierInstall, Status: Pass}, {Name: TierUpgrade, Status: Fail, Reason: "data | gone"}},
		FailureExcerpt: "boom", Teardown: Teardown{Clean: true}}
	r.Finalize(time.Now())
	s := Summary(r)
	assert.Contains(t, s, "verdict **FAIL**, level 1/5")
	assert.Contains(t, s, "| upgrade | ❌ fail | data \\| gone |")
	assert.Contains(t, s, "boom")
	assert.Contains(t, s, "ref `0123456789ab`")
}

func TestRedactMasksEveryFreeTextField(t *testing.T) {
	secret := "hunter2hunter2"
	r := &Results{FailureExcerpt: "log " + secret, UpgradeBase: UpgradeBase{Reason: secret, Needs: []string{"env " + secret}},
		Teardown: Teardown{Residue: []string{"secret " + secret}},
		Tiers: []Tier{{Name: TierInstall, Reason: "bad " + secret, Lift: secret, Warnings: []string{secret},
			Checks: []Check{{Name: "c", Detail: secret}}}}}
	r.Redact(func(s string) string { return strings.ReplaceAll(s, secret, "****") })
	data, err := json.Marshal(r)
	require.NoError(t, err)
	assert.NotContains(t, string(data), secret)
	assert.Contains(t, string(data), "****")
}

func TestSummaryExcerptCannotCloseItsCodeBlock(t *testing.T) {
	r := &Results{Recipe: "x", Started: time.Now(), FailureExcerpt: "```\n# injected heading\n````"}
	r.Finalize(time.Now())
	s := Summary(r)
	assert.Contains(t, s, "`````\n```\n# injected heading", "the fence must be longer than any backtick run in the excerpt")
}

func TestTheDeployCountGuardKnowsTheWarmApp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		apps    []App
		deploys int
		want    bool
	}{
		{"a quick run reuses the warm app: no app new at all", []App{{Role: RoleWarm, AppNew: 0}}, 0, true},
		{"a cold run that creates the warm app: three apps, each once", []App{{Role: RoleFresh, AppNew: 1}, {Role: RoleUpgrade, AppNew: 1}, {Role: RoleWarm, AppNew: 1}}, 3, true},
		{"the warm app created twice is not once", []App{{Role: RoleWarm, AppNew: 2}}, 2, false},
		{"a run's own app never reused", []App{{Role: RoleFresh, AppNew: 0}}, 0, false},
		{"an app new beyond the apps", []App{{Role: RoleWarm, AppNew: 0}}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, onceEach(tt.apps, tt.deploys))
		})
	}
}
