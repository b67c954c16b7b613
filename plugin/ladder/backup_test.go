package ladder

import (
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/abra"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/plugin/ladder/floor"
)

func TestRestoreFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		world      func(w *world)
		wantCheck  string
		wantReason []string
	}{
		{name: "a restore that leaves the mutated data in place fails restore",
			world:      func(w *world) { w.Abra.OnRestore = func(string, string) {} },
			wantCheck:  "seeded datum restored",
			wantReason: []string{"ccci-backup still holds the value written after the backup", "left the live (mutated) data in place"}},
		{name: "an empty backup fails restore: the seeded datum is absent afterwards",
			world: func(w *world) {
				w.Abra.OnBackup = func(_, snapshot string) { w.Snapshots[snapshot] = map[string]string{} }
			},
			wantCheck:  "seeded datum restored",
			wantReason: []string{"the backup is empty or truncated", "ccci-backup is absent"}},
		{name: "a restore that keeps data written after the backup fails restore",
			world: func(w *world) {
				// loads the dump over the live data
				w.Abra.OnRestore = func(domain, snapshot string) { maps.Copy(w.Data.Values[domain], w.Snapshots[snapshot]) }
			},
			wantCheck:  "mutation gone",
			wantReason: []string{"the restore left the live data in place", "ccci-after-backup is present"}},
		{name: "a restore that brings back another value fails restore naming it",
			world: func(w *world) {
				w.Abra.OnRestore = func(domain, _ string) { w.Data.Values[domain] = map[string]string{keyBackup: "truncated"} }
			},
			wantCheck:  "seeded datum restored",
			wantReason: []string{`reads "truncated"`, "want the seeded"}},
		{name: "a data probe that cannot read after the restore fails restore",
			world: func(w *world) {
				restore := w.Abra.OnRestore
				w.Abra.OnRestore = func(domain, snapshot string) {
					restore(domain, snapshot)
					w.Data.ReadErr = errors.New("data-read: connection reset")
				}
			},
			wantCheck:  "seeded datum restored",
			wantReason: []string{"read ccci-backup through the data probe", "connection reset"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tt.world(w)
			out := w.run(t.Context())

			tiers := climb(t, out)
			for _, name := range []string{results.TierInstall, results.TierUpgrade, results.TierBackup} {
				require.Equal(t, results.Pass, tiers[name].Status, "%s: %s", name, tiers[name].Reason)
			}
			restore := tiers[results.TierRestore]
			assert.Equal(t, results.Fail, restore.Status)
			for _, want := range tt.wantReason {
				assert.Contains(t, restore.Reason, want)
			}
			assert.Equal(t, results.Fail, checkOf(t, restore, tt.wantCheck).Status)
			assert.Equal(t, goodLog, w.Abra.Log())
			assert.Equal(t, 2, out.Deploys)
			assert.Equal(t, results.VerdictFail, results.Verdict(out.Tiers))
			assert.Equal(t, 2, results.Level(out.Tiers))
		})
	}
}

// TestRestoreUsesTheRunsSnapshot: the restore restores the snapshot this run's backup made, by
// the id backup create returned, never "the latest" of whatever the repository holds.
func TestRestoreUsesTheRunsSnapshot(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	out := w.run(t.Context())

	tiers := climb(t, out)
	require.Equal(t, results.Pass, tiers[results.TierRestore].Status, tiers[results.TierRestore].Reason)
	backups, restores := w.Abra.Calls(abra.CmdBackupCreate), w.Abra.Calls(abra.CmdRestore)
	require.Len(t, backups, 1)
	require.Len(t, restores, 1)
	assert.Equal(t, "5a7e0001", restores[0].Snapshot, "the id backup create returned")
	assert.Equal(t, upgradeDomain, restores[0].Domain)
	assert.Contains(t, checkOf(t, tiers[results.TierBackup], "backup create").Detail, "snapshot 5a7e0001")
	assert.Contains(t, checkOf(t, tiers[results.TierRestore], "restore").Detail, "snapshot 5a7e0001")
}

// TestBackupDeclared: any service's backupbot.backup=true declares backups; the services are
// named in the check.
func TestBackupDeclared(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		labels   map[string]map[string]string // service -> labels, on both apps
		want     results.Status
		wantLine string // the "backups declared" detail, or the reason of the gap
	}{
		{name: "backupbot.backup=true on two services names both, in order",
			labels: map[string]map[string]string{"app": {"backupbot.backup": "true"}, "db": {"backupbot.backup": "true", "backupbot.backup.pre-hook": "pg_dump"}},
			want:   results.Pass, wantLine: "backupbot.backup=true on app, db"},
		{name: "backupbot.backup=true on the database alone declares backups",
			labels: map[string]map[string]string{"app": {}, "db": {"backupbot.backup": "true"}},
			want:   results.Pass, wantLine: "backupbot.backup=true on db"},
		{name: "backupbot.backup=false declares no backups: a gap",
			labels: map[string]map[string]string{"app": {"backupbot.backup": "false"}, "db": {}},
			want:   results.Skip, wantLine: "the recipe declares no backups"},
		{name: "a backupbot path label without backupbot.backup=true declares no backups: a gap",
			labels: map[string]map[string]string{"app": {"backupbot.backup.volumes.data.path": "gitea.db"}, "db": {}},
			want:   results.Skip, wantLine: "the recipe declares no backups"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			for _, stack := range []string{freshStack, upgradeStack} {
				for svc, ls := range tt.labels {
					w.Swarm.Labels[stack][svc] = maps.Clone(ls)
				}
			}
			out := w.run(t.Context())

			backup := climb(t, out)[results.TierBackup]
			assert.Equal(t, tt.want, backup.Status, backup.Reason)
			if tt.want == results.Pass {
				assert.Equal(t, tt.wantLine, checkOf(t, backup, "backups declared").Detail)
				return
			}
			assert.Contains(t, backup.Reason, tt.wantLine)
			assert.True(t, backup.Gap())
			assert.Equal(t, upgradeLog, w.Abra.Log(), "nothing is backed up")
			assert.NotContains(t, w.Data.Calls, "write upgrade "+keyBackup)
		})
	}
}

func TestBackupLabelsUnreadable(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Swarm.LabelsErr = errors.New("list services: Cannot connect to the Docker daemon")
	l := w.ladder()
	a := l.newApp(results.RoleUpgrade, upgradeDomain)
	backup, restore := l.backupRestore(t.Context(), a)

	assert.Equal(t, results.Unverified, backup.Status)
	assert.Contains(t, backup.Reason, "read backupbot labels: list services: Cannot connect")
	assert.Equal(t, results.Unverified, restore.Status)
	assert.Equal(t, "not reached: backup could not run", restore.Reason)
	assert.Empty(t, w.Abra.Got)
	assert.Equal(t, []string{upgradeStack}, w.Swarm.LabelReads)
}

// TestBackupFloor: the generic data floor marks every path the backup labels cover before the
// backup, changes the markers after it, and proves them back after the restore. Lost data is the
// recipe's failure; the floor failing to look is unverified.
func TestBackupFloor(t *testing.T) {
	t.Parallel()
	lost := &lostErr{what: "path " + upgradeStack + "_data:/gitea.db: holds the marker written after the backup"}
	infra := errors.New("copy to container: no running task of " + upgradeStack + "_app")
	tests := []struct {
		name       string
		errs       map[string]error
		paths      int
		tier       string // the tier the floor decides
		want       results.Status
		wantCheck  string
		wantReason []string
		wantLog    []string
		wantCalls  []string
	}{
		{name: "a backed-up path not back to its backup-time marker after the restore fails restore",
			errs: map[string]error{floorCheckPaths: lost}, paths: 1, tier: results.TierRestore, want: results.Fail,
			wantCheck:  "backed-up paths restored",
			wantReason: []string{"the backup is empty or truncated, or the restore does not put it back", "gitea.db: holds the marker written after the backup"},
			wantLog:    goodLog, wantCalls: []string{floorMarkVolumes, floorCheckVolumes, floorMarkPaths, floorMutatePaths, floorCheckPaths}},
		{name: "the floor failing to read the paths after the restore leaves restore unverified",
			errs: map[string]error{floorCheckPaths: infra}, paths: 1, tier: results.TierRestore, want: results.Unverified,
			wantCheck: "infrastructure", wantReason: []string{"backed-up paths restored: copy to container: no running task"},
			wantLog: goodLog, wantCalls: []string{floorMarkVolumes, floorCheckVolumes, floorMarkPaths, floorMutatePaths, floorCheckPaths}},
		{name: "the floor failing to change the markers after the backup leaves restore unverified, and nothing is restored",
			errs: map[string]error{floorMutatePaths: infra}, paths: 1, tier: results.TierRestore, want: results.Unverified,
			wantCheck: "infrastructure", wantReason: []string{"mutate backup paths: copy to container"},
			wantLog: goodLog[:6], wantCalls: []string{floorMarkVolumes, floorCheckVolumes, floorMarkPaths, floorMutatePaths}},
		{name: "the floor failing to mark the backed-up paths leaves backup unverified, and nothing is backed up",
			errs: map[string]error{floorMarkPaths: infra}, paths: 1, tier: results.TierBackup, want: results.Unverified,
			wantCheck: "infrastructure", wantReason: []string{"mark backup paths: copy to container"},
			wantLog: upgradeLog, wantCalls: []string{floorMarkVolumes, floorCheckVolumes, floorMarkPaths}},
		{name: "labels covering no path the floor can mark: the mark is skipped and the data probe alone proves the restore",
			paths: 0, tier: results.TierBackup, want: results.Pass, wantCheck: "mark backup paths",
			wantLog: goodLog, wantCalls: []string{floorMarkVolumes, floorCheckVolumes, floorMarkPaths}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			f := w.Floors[upgradeStack]
			f.Paths = tt.paths
			if tt.errs != nil {
				f.Errs = tt.errs
			}
			out := w.run(t.Context())

			tiers := climb(t, out)
			got := tiers[tt.tier]
			assert.Equal(t, tt.want, got.Status, got.Reason)
			for _, want := range tt.wantReason {
				assert.Contains(t, got.Reason, want)
			}
			assert.Equal(t, tt.wantLog, w.Abra.Log())
			assert.Equal(t, tt.wantCalls, f.Calls)
			switch {
			case tt.want == results.Pass:
				assert.Equal(t, results.Skip, checkOf(t, got, tt.wantCheck).Status)
				assert.Equal(t, results.Pass, tiers[results.TierRestore].Status, tiers[results.TierRestore].Reason)
				assert.Equal(t, results.Pass, checkOf(t, tiers[results.TierRestore], "seeded datum restored").Status)
			case tt.tier == results.TierBackup:
				assert.Equal(t, tt.want, checkOf(t, got, tt.wantCheck).Status)
				assert.Equal(t, "not reached: backup did not pass", tiers[results.TierRestore].Reason)
			default:
				assert.Equal(t, tt.want, checkOf(t, got, tt.wantCheck).Status)
			}
		})
	}
}

// TestBackupRewroteEveryMarker: when the backup itself rewrote or removed every marked path
// (a pre-hook that regenerates its dump), the floor has nothing left to prove the restore with.
// The data probe alone may then prove it; without one the restore is a gap, never a pass.
func TestBackupRewroteEveryMarker(t *testing.T) {
	t.Parallel()
	nothing := fmt.Errorf("mutate backup paths: every marked path changed during the backup: %w", floor.ErrNothingMarked)
	tests := []struct {
		name      string
		probe     bool
		want      results.Status
		wantLog   []string
		wantCalls []string
	}{
		{name: "with a data probe, the probe alone proves the restore",
			probe: true, want: results.Pass, wantLog: goodLog,
			wantCalls: []string{floorMarkVolumes, floorCheckVolumes, floorMarkPaths, floorMutatePaths}},
		{name: "without a data probe, the restore is a gap and nothing is restored",
			probe: false, want: results.Skip, wantLog: goodLog[:6],
			wantCalls: []string{floorMarkVolumes, floorCheckVolumes, floorMarkPaths, floorMutatePaths}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			if !tt.probe {
				w.Data = nil
			}
			f := w.Floors[upgradeStack]
			f.Errs = map[string]error{floorMutatePaths: nothing}
			out := w.run(t.Context())

			tiers := climb(t, out)
			restore := tiers[results.TierRestore]
			assert.Equal(t, tt.want, restore.Status, restore.Reason)
			assert.Equal(t, results.Skip, checkOf(t, restore, "mutate backup paths").Status)
			assert.Equal(t, tt.wantLog, w.Abra.Log())
			assert.Equal(t, tt.wantCalls, f.Calls, "the paths are never checked: nothing is left to check")
			if tt.probe {
				assert.Equal(t, results.Pass, checkOf(t, restore, "seeded datum restored").Status)
				assert.Equal(t, 3, results.Level(out.Tiers))
				return
			}
			assert.True(t, restore.Gap())
			assert.Contains(t, restore.Reason, "nothing can prove the restore brought data back")
			assert.Contains(t, restore.Lift, "hooks/data-write and hooks/data-read in recipes/gitea/")
			assert.Equal(t, 2, results.Level(out.Tiers))
			assert.Equal(t, results.VerdictPass, results.Verdict(out.Tiers))
		})
	}
}

// TestNoDataProbe: without an overlay's data probe the generic floor alone proves the upgrade,
// the backup and the restore; the probe's checks are recorded as skipped, never as passed.
func TestNoDataProbe(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Data = nil
	out := w.run(t.Context())

	tiers := climb(t, out)
	for _, name := range genericTiers {
		assert.Equal(t, results.Pass, tiers[name].Status, "%s: %s", name, tiers[name].Reason)
	}
	assertGenericTop(t, tiers)
	assert.Equal(t, results.Pass, checkOf(t, tiers[results.TierUpgrade], "volumes survive upgrade").Status)
	assert.Equal(t, results.Skip, checkOf(t, tiers[results.TierUpgrade], "seed "+keyInstall).Status)
	assert.Equal(t, results.Skip, checkOf(t, tiers[results.TierUpgrade], "data survives upgrade").Status)
	assert.Equal(t, results.Skip, checkOf(t, tiers[results.TierBackup], "seed "+keyBackup).Status)
	assert.Equal(t, results.Pass, checkOf(t, tiers[results.TierRestore], "backed-up paths restored").Status)
	assert.Equal(t, results.Skip, checkOf(t, tiers[results.TierRestore], "seeded datum restored").Status)
	assert.Equal(t, goodLog, w.Abra.Log())
	assert.Equal(t, 3, results.Level(out.Tiers))
	assert.Equal(t, results.VerdictPass, results.Verdict(out.Tiers))
}
