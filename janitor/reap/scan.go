package reap

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"coopcloud.tech/cc-ci/internal/applock"
	"coopcloud.tech/cc-ci/internal/naming"
)

// ciDomain reports whether domain is one the plugin makes under our suffix, using the shared
// naming code both ways: warm-* and canonical names never qualify, so they are never probed and no
// lockfile is ever created for them.
func (j *Janitor) ciDomain(domain string) bool {
	return naming.IsCIDomain(domain, j.s.DomainSuffix)
}

// scanLockDir marks every CI domain with a lockfile in the lock dir and returns how many other
// lockfiles it ignored. A missing or unreadable lock dir is logged and skipped: after a reboot
// /run is empty, which is exactly when stacks without lockfiles must still be reaped.
func (j *Janitor) scanLockDir(ctx context.Context, cands candidates) int {
	names, err := readNames(j.s.LockDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		j.log.LogAttrs(ctx, slog.LevelWarn, "lock dir", slog.String("path", j.s.LockDir),
			slog.String("decision", Skip),
			slog.String("reason", "lock dir is missing (normal after a reboot): no lockfiles to probe"))
		return 0
	case err != nil:
		j.log.LogAttrs(ctx, slog.LevelWarn, "lock dir", slog.String("path", j.s.LockDir),
			slog.String("decision", Skip),
			slog.String("reason", "cannot read the lock dir, no lockfiles probed: "+err.Error()))
		return 0
	}
	ignored := 0
	for _, name := range names {
		domain, ok := applock.DomainFromFileName(name)
		if !ok {
			continue // not a lockfile (e.g. the janitor's own pass lock)
		}
		if !j.ciDomain(domain) {
			ignored++
			j.ignore(ctx, domain, "lockfile of a warm-* or canonical app (or another domain suffix): never probed")
			continue
		}
		cands.get(domain).lockfile = true
	}
	return ignored
}

// addStacks marks every CI stack's domain and returns how many other stacks it ignored.
func (j *Janitor) addStacks(ctx context.Context, cands candidates, stacks []string) int {
	ignored := 0
	for _, stack := range stacks {
		domain, ok := naming.DomainOfStack(stack, j.s.DomainSuffix)
		if !ok {
			ignored++
			j.ignore(ctx, stack, "stack is warm-*, canonical or under another domain suffix: never touched")
			continue
		}
		cands.get(domain).stack = true
	}
	return ignored
}

// scanEnvDir marks every CI domain with an .env in the abra server dir. This finds the app a run
// left when it was killed after `abra app new` but before any deploy: its secrets carry no stack
// label, so neither the stack list nor (after a reboot) a lockfile would reveal it.
func (j *Janitor) scanEnvDir(ctx context.Context, cands candidates) int {
	names, err := readNames(j.envDir())
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			j.log.LogAttrs(ctx, slog.LevelWarn, "abra server dir", slog.String("path", j.envDir()),
				slog.String("decision", Skip), slog.String("reason", "cannot read it, .env files not scanned: "+err.Error()))
		}
		return 0
	}
	ignored := 0
	for _, name := range names {
		domain, ok := strings.CutSuffix(name, ".env")
		if !ok {
			continue
		}
		if !j.ciDomain(domain) {
			ignored++
			continue
		}
		cands.get(domain).env = true
	}
	return ignored
}

func (j *Janitor) ignore(ctx context.Context, name, reason string) {
	j.log.LogAttrs(ctx, slog.LevelDebug, LineMsg, slog.String("domain", name),
		slog.String("decision", Ignore), slog.String("reason", reason), slog.Duration("duration", 0))
}

// readNames lists a directory's entry names without stat-ing each one (10,000 lockfiles must
// scan in well under a millisecond per thousand).
func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
