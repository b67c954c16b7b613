package ladder

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/plugin/ladder/floor"
)

// liftBackup says what would let backup and restore be proven.
const liftBackup = "declare backups as Co-op Cloud recipes do: the label backupbot.backup=true on the services that hold data " +
	"(with backupbot.backup.volumes.<volume>.path, or pre-/post-hooks that dump a database), or declare the tier not applicable " +
	"(expected_na with a reason) in the recipe's overlay"

// backupRestore seeds data (the floor's markers in every backed-up path, the overlay's datum),
// backs up, mutates it all, restores the run's own snapshot, and proves the seeded data is back
// and the mutation gone.
func (l *Ladder) backupRestore(ctx context.Context, a *app) (*tier, *tier) {
	backup := l.newTier(results.TierBackup)
	declared, err := l.backupServices(ctx, a)
	switch {
	case err != nil:
		backup.unverified("read backupbot labels: %v", err)
		return backup, notReachedTier(results.TierRestore, "backup could not run")
	case len(declared) == 0:
		reason := "the recipe declares no backups (no service has the label backupbot.backup=true)"
		l.gap(backup, reason, liftBackup)
		restore := l.newTier(results.TierRestore)
		l.gap(restore, reason, liftBackup)
		return backup, restore
	}
	backup.pass("backups declared", "backupbot.backup=true on %s", strings.Join(declared, ", "))
	paths := 0
	if a.floor != nil {
		n, err := a.floor.MarkBackupPaths(ctx)
		switch {
		case err != nil:
			floorFailed(ctx, backup, "mark backup paths", "the backed-up paths did not take a marker", err)
			return backup, notReachedTier(results.TierRestore, "backup did not pass")
		case n == 0:
			backup.skipCheck("mark backup paths", "the backup labels cover no path the floor can mark")
		default:
			backup.pass("mark backup paths", "marked %d backed-up path(s) with random content", n)
		}
		paths = n
	}
	if !l.seed(ctx, backup, a, keyBackup) {
		return backup, notReachedTier(results.TierRestore, "backup did not pass")
	}
	l.banner("BACKUP", "abra app backup create %s", a.Domain)
	sctx, cancel := l.step(ctx)
	snapshot, err := l.Abra.BackupCreate(sctx, a.Domain)
	cancel()
	if err != nil {
		backup.callFailed(ctx, "backup create", err)
		return backup, notReachedTier(results.TierRestore, "backup did not pass")
	}
	backup.pass("backup create", "abra app backup create made snapshot %s", snapshot)
	if !backup.ok() {
		return backup, notReachedTier(results.TierRestore, "backup did not pass")
	}
	return backup, l.restore(ctx, a, snapshot, paths)
}

func (l *Ladder) restore(ctx context.Context, a *app, snapshot string, paths int) *tier {
	t := l.newTier(results.TierRestore)
	if paths == 0 && l.Data == nil {
		l.gap(t, "nothing can prove the restore brought data back: the backup labels cover no path and no data probe is declared",
			"label the paths that hold data (backupbot.backup.volumes.<volume>.path), or declare a data probe (hooks/data-write and hooks/data-read in recipes/"+l.Recipe+"/)")
		return t
	}
	if paths > 0 {
		err := a.floor.MutateBackupPaths(ctx)
		switch {
		case errors.Is(err, floor.ErrNothingMarked):
			// The backup itself rewrote or removed every marked path: nothing left to prove with.
			paths = 0
			t.skipCheck("mutate backup paths", err.Error())
			if l.Data == nil {
				l.gap(t, "nothing can prove the restore brought data back: "+err.Error(),
					"label paths whose content the backup keeps as it is, or declare a data probe (hooks/data-write and hooks/data-read in recipes/"+l.Recipe+"/)")
				return t
			}
		case err != nil:
			floorFailed(ctx, t, "mutate backup paths", "the backed-up paths did not take a new marker", err)
			return t
		default:
			t.pass("mutate backup paths", "changed every marker after the backup")
		}
	}
	if !l.mutate(ctx, t, a) {
		return t
	}
	l.banner("RESTORE", "abra app restore %s (snapshot %s)", a.Domain, snapshot)
	sctx, cancel := l.step(ctx)
	a.deployedAt = time.Now() // a task failing from here on is the restore's doing
	err := l.Abra.Restore(sctx, a.Domain, snapshot)
	cancel()
	if err != nil {
		t.callFailed(ctx, "restore", err)
		return t
	}
	t.pass("restore", "abra app restore of snapshot %s succeeded", snapshot)
	if !l.converged(ctx, t, a, "converged after restore") || !l.serving(ctx, t, a) {
		return t
	}
	if paths > 0 {
		if err := a.floor.CheckBackupPaths(ctx); err != nil {
			floorFailed(ctx, t, "backed-up paths restored",
				"the backed-up paths do not hold what they held at backup time after the restore: the backup is empty or truncated, or the restore does not put it back", err)
			return t
		}
		t.pass("backed-up paths restored", "every marker is back to its value at backup time")
	}
	if !l.verify(ctx, t, a, "seeded datum restored", keyBackup,
		"the datum seeded before the backup is not back after the restore: the backup is empty or truncated, or the restore does not load it") {
		return t
	}
	if l.absent(ctx, t, a, "mutation gone", keyMutation,
		"data written after the backup is still there after the restore: the restore left the live data in place") {
		l.stable(ctx, t, a)
	}
	return t
}

// backupServices lists the services of a that declare backupbot.backup=true.
func (l *Ladder) backupServices(ctx context.Context, a *app) ([]string, error) {
	labels, err := l.Swarm.ServiceLabels(ctx, a.Stack)
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
