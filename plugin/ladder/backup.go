package ladder

import (
	"context"
	"sort"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/internal/results"
)

// backupRestore seeds a datum, backs up, mutates (changes the datum and writes a new one),
// restores, and proves the seeded datum is back and the mutation gone.
func (l *Ladder) backupRestore(ctx context.Context) (*tier, *tier) {
	backup := l.newTier(results.TierBackup)
	declared, err := l.backupServices(ctx)
	switch {
	case err != nil:
		backup.unverified("read backupbot labels: %v", err)
		return backup, notReachedTier(results.TierRestore, "backup could not run")
	case len(declared) == 0:
		reason := "the recipe declares no backups (no service has the label backupbot.backup=true)"
		backup.skip(reason)
		restore := l.newTier(results.TierRestore)
		restore.skip(reason)
		return backup, restore
	}
	backup.pass("backups declared", "backupbot.backup=true on %s", strings.Join(declared, ", "))
	if !l.seed(ctx, backup, keyBackup) {
		return backup, notReachedTier(results.TierRestore, "backup did not pass")
	}
	l.banner("BACKUP", "abra app backup create %s", l.Domain)
	sctx, cancel := l.step(ctx)
	err = l.Abra.BackupCreate(sctx, l.Domain)
	cancel()
	if err != nil {
		backup.callFailed(ctx, "backup create", err)
		return backup, notReachedTier(results.TierRestore, "backup did not pass")
	}
	backup.pass("backup create", "abra app backup create succeeded")
	if !backup.ok() {
		return backup, notReachedTier(results.TierRestore, "backup did not pass")
	}
	return backup, l.restore(ctx)
}

func (l *Ladder) restore(ctx context.Context) *tier {
	t := l.newTier(results.TierRestore)
	if l.Data == nil {
		t.unverified("nothing can prove the restore brought data back: declare a data probe (hooks/data-write and hooks/data-read in recipes/%s/)", l.Recipe)
		return t
	}
	// Mutate: overwrite the seeded datum and add one that did not exist at backup time.
	if !l.mutate(ctx, t) {
		return t
	}
	l.banner("RESTORE", "abra app restore %s", l.Domain)
	sctx, cancel := l.step(ctx)
	err := l.Abra.Restore(sctx, l.Domain)
	cancel()
	if err != nil {
		t.callFailed(ctx, "restore", err)
		return t
	}
	t.pass("restore", "abra app restore succeeded")
	if !l.converged(ctx, t, "converged after restore") || !l.serving(ctx, t) {
		return t
	}
	if !l.verify(ctx, t, "seeded datum restored", keyBackup,
		"the datum seeded before the backup is not back after the restore: the backup is empty or truncated, or the restore does not load it") {
		return t
	}
	if l.absent(ctx, t, "mutation gone", keyMutation,
		"data written after the backup is still there after the restore: the restore left the live data in place") {
		l.stable(ctx, t)
	}
	return t
}

// backupServices lists the services that declare backupbot.backup=true.
func (l *Ladder) backupServices(ctx context.Context) ([]string, error) {
	labels, err := l.Swarm.ServiceLabels(ctx, l.Stack)
	if err != nil {
		return nil, err
	}
	var out []string
	for svc, ls := range labels {
		if ls["backupbot.backup"] == "true" {
			out = append(out, svc)
		}
	}
	sort.Strings(out)
	return out, nil
}

func notReachedTier(name, why string) *tier {
	return &tier{Tier: results.Tier{Name: name, Status: results.Unverified, Reason: "not reached: " + why, Checks: []results.Check{}}, started: time.Now()}
}
