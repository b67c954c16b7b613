package ladder

import (
	"errors"
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
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
			world:      func(w *world) { w.Abra.OnRestore = func() {} },
			wantCheck:  "seeded datum restored",
			wantReason: []string{"ccci-backup still holds the value written after the backup", "left the live (mutated) data in place"}},
		{name: "an empty backup fails restore: the seeded datum is absent afterwards",
			world:      func(w *world) { w.Abra.OnBackup = func() { w.Backup = map[string]string{} } },
			wantCheck:  "seeded datum restored",
			wantReason: []string{"the backup is empty or truncated", "ccci-backup is absent"}},
		{name: "a restore that keeps data written after the backup fails restore",
			world: func(w *world) {
				w.Abra.OnRestore = func() { maps.Copy(w.Data.Values, w.Backup) } // loads the dump over the live data
			},
			wantCheck:  "mutation gone",
			wantReason: []string{"the restore left the live data in place", "ccci-after-backup is present"}},
		{name: "a restore that brings back another value fails restore naming it",
			world: func(w *world) {
				w.Abra.OnRestore = func() { w.Data.Values = map[string]string{keyBackup: "truncated"} }
			},
			wantCheck:  "seeded datum restored",
			wantReason: []string{`reads "truncated"`, "want the seeded"}},
		{name: "a data probe that cannot read after the restore fails restore",
			world: func(w *world) {
				restore := w.Abra.OnRestore
				w.Abra.OnRestore = func() { restore(); w.Data.ReadErr = errors.New("data-read: connection reset") }
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
			assert.Equal(t, []string{"app new " + testBase, "deploy " + testBase, "deploy chaos", "backup create", "restore"}, w.Abra.Log())
			assert.Equal(t, 1, out.Deploys)
			assert.Equal(t, results.VerdictFail, results.Verdict(out.Tiers))
			assert.Equal(t, 2, results.Level(out.Tiers))
		})
	}
}

func TestNoBackupsDeclared(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		labels map[string]string
	}{
		{name: "no backupbot.backup label skips backup and restore with the reason", labels: map[string]string{"traefik.enable": "true"}},
		{name: "backupbot.backup=false skips backup and restore with the reason", labels: map[string]string{"backupbot.backup": "false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.Swarm.Labels["app"] = tt.labels
			out := w.run(t.Context())

			tiers := climb(t, out)
			reason := "the recipe declares no backups (no service has the label backupbot.backup=true)"
			for _, name := range []string{results.TierBackup, results.TierRestore} {
				assert.Equal(t, results.Skip, tiers[name].Status, name)
				assert.Equal(t, reason, tiers[name].Reason, name)
			}
			assert.Equal(t, []string{"app new " + testBase, "deploy " + testBase, "deploy chaos"}, w.Abra.Log())
			assert.NotContains(t, w.Data.Calls, "write "+keyBackup)
			assert.Equal(t, 3, results.Level(out.Tiers), "an intentional skip holds the rung")
			assert.Equal(t, results.VerdictPass, results.Verdict(out.Tiers))
		})
	}
}

func TestBackupLabelsUnreadable(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Swarm.LabelsErr = errors.New("list services: Cannot connect to the Docker daemon")
	l := w.ladder()
	l.seeded = map[string]string{}
	backup, restore := l.backupRestore(t.Context())

	assert.Equal(t, results.Unverified, backup.Status)
	assert.Contains(t, backup.Reason, "read backupbot labels: list services: Cannot connect")
	assert.Equal(t, results.Unverified, restore.Status)
	assert.Equal(t, "not reached: backup could not run", restore.Reason)
	assert.Empty(t, w.Abra.Got)
	assert.Equal(t, []string{testStack}, w.Swarm.LabelReads)
}

func TestNoDataProbe(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Data = nil
	out := w.run(t.Context())

	tiers := climb(t, out)
	assert.Equal(t, results.Pass, tiers[results.TierInstall].Status, tiers[results.TierInstall].Reason)
	assert.Equal(t, results.Skip, checkOf(t, tiers[results.TierInstall], "seed "+keyInstall).Status)
	assert.Equal(t, results.Pass, tiers[results.TierUpgrade].Status, tiers[results.TierUpgrade].Reason)
	assert.Equal(t, results.Skip, checkOf(t, tiers[results.TierUpgrade], "data survives upgrade").Status)
	assert.Equal(t, results.Pass, tiers[results.TierBackup].Status, tiers[results.TierBackup].Reason)
	assert.Equal(t, results.Skip, checkOf(t, tiers[results.TierBackup], "seed "+keyBackup).Status)
	restore := tiers[results.TierRestore]
	assert.Equal(t, results.Unverified, restore.Status, "a restore nothing can prove never passes")
	assert.Contains(t, restore.Reason, "declare a data probe")
	assert.Contains(t, restore.Reason, "recipes/"+testRecipe+"/")
	assert.Equal(t, []string{"app new " + testBase, "deploy " + testBase, "deploy chaos", "backup create"}, w.Abra.Log(),
		"no restore is run when nothing could prove it")
	assert.Equal(t, results.VerdictUnverified, results.Verdict(out.Tiers))
	assert.Equal(t, 2, results.Level(out.Tiers))
}
