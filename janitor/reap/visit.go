package reap

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/internal/applock"
	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/internal/swarm"
)

// visit decides one candidate and times it.
func (j *Janitor) visit(ctx context.Context, c *candidate) outcome {
	start := time.Now()
	var o outcome
	if j.s.DryRun {
		o = j.dryRun(c)
	} else {
		o = j.probeAndReap(ctx, c)
	}
	o.domain = c.domain
	o.duration = time.Since(start)
	return o
}

// probeAndReap takes the candidate's lock without waiting and, when it got it, reaps.
func (j *Janitor) probeAndReap(ctx context.Context, c *candidate) outcome {
	path := j.lockPath(c.domain)
	var lock *applock.Lock
	var err error
	if c.lockfile {
		lock, err = applock.TryAcquireExisting(path)
	} else {
		// No lockfile (after a reboot /run is empty): take a fresh one, so that a run starting
		// for this domain right now waits in its Acquire until the reap is over.
		lock, err = applock.TryAcquire(j.s.LockDir, c.domain)
	}
	switch {
	case errors.Is(err, applock.ErrHeld):
		return j.held(path)
	case errors.Is(err, fs.ErrNotExist) && c.lockfile:
		return outcome{decision: Skip, level: slog.LevelInfo,
			reason: "lockfile vanished since the scan: another janitor reaped it"}
	case err != nil:
		return outcome{decision: Skip, level: slog.LevelWarn,
			reason: "cannot probe the lock, left untouched: " + err.Error()}
	}
	defer func() {
		if err := lock.Release(); err != nil {
			j.log.Warn("release app lock", "domain", c.domain, "err", err)
		}
	}()
	return j.reap(ctx, c, lock)
}

// held is the outcome for a lock someone holds: leave it. The lockfile's mtime is when the
// holder acquired it; beyond twice the deadline the run should long have ended, which is worth a
// warning, but a lock is never stolen.
func (j *Janitor) held(path string) outcome {
	o := outcome{decision: Leave, level: slog.LevelInfo, reason: "held by a live run (or another janitor reaping it)"}
	fi, err := os.Lstat(path)
	if err != nil {
		o.reason += " (lockfile age unknown: " + err.Error() + ")"
		return o
	}
	o.heldFor = time.Since(fi.ModTime())
	if o.heldFor > 2*j.s.Deadline {
		o.leaked = true
		o.level = slog.LevelWarn
		o.reason = fmt.Sprintf("possible leaked run: lock held for %s, over twice the run deadline %s; "+
			"never taken; find the holder with lslocks and stop it", o.heldFor.Round(time.Second), j.s.Deadline)
	}
	return o
}

// reap runs while the candidate's lock is held: tear the app down if anything of it may exist,
// then unlink the lockfile; the caller releases. A failed teardown keeps the lockfile, so the
// next pass finds the orphan again.
func (j *Janitor) reap(ctx context.Context, c *candidate, lock *applock.Lock) outcome {
	stack := naming.Stack(c.domain)
	envPath := j.envPath(c.domain)
	envNow := exists(envPath)
	present := c.stack
	if !c.lockfile && !envNow {
		// We made this lockfile. Another janitor may have reaped the stack between our listing
		// and our lock: look again, so that exactly one janitor tears each app down.
		stacks, err := j.swarm.Stacks(ctx)
		if err != nil {
			return outcome{decision: Fail, level: slog.LevelError, reason: "confirm the stack is still there: " + err.Error()}
		}
		present = slices.Contains(stacks, stack)
	}
	var reason string
	switch {
	case present || envNow:
		report, err := j.swarm.Teardown(ctx, stack, envPath)
		if err != nil {
			return outcome{decision: Fail, level: slog.LevelError,
				reason: fmt.Sprintf("teardown failed, lockfile kept for the next pass: %v", err)}
		}
		reason = "torn down under the lock: " + describe(report)
	case c.lockfile:
		reason = "nothing deployed"
	default:
		reason = "already gone (another janitor reaped it)"
	}
	if err := lock.Remove(); err != nil {
		return outcome{decision: Fail, level: slog.LevelError, reason: reason + "; unlink lockfile: " + err.Error()}
	}
	if c.lockfile {
		return outcome{decision: Reap, level: slog.LevelInfo, reason: "orphan (lock free): " + reason + "; lockfile unlinked"}
	}
	if !present && !envNow {
		return outcome{decision: Skip, level: slog.LevelInfo, reason: "no lockfile: " + reason + "; fresh lockfile unlinked"}
	}
	return outcome{decision: Reap, level: slog.LevelInfo, reason: "no lockfile (reboot?), reaped at once: " + reason}
}

// dryRun reports what probeAndReap would do without taking any lock, creating or touching any
// file, or calling the swarm.
func (j *Janitor) dryRun(c *candidate) outcome {
	path := j.lockPath(c.domain)
	held, err := applock.IsHeld(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && c.lockfile:
		return outcome{decision: Skip, level: slog.LevelInfo, reason: "lockfile vanished since the scan"}
	case errors.Is(err, fs.ErrNotExist):
		// No lockfile: the real pass takes a fresh lock and reaps at once.
	case err != nil:
		return outcome{decision: Skip, level: slog.LevelWarn, reason: "cannot probe the lock, would leave it untouched: " + err.Error()}
	case held:
		return j.held(path)
	}
	what := []string{}
	if c.stack {
		what = append(what, "stack "+naming.Stack(c.domain))
	}
	if exists(j.envPath(c.domain)) {
		what = append(what, ".env")
	}
	todo := "would unlink the lockfile (nothing deployed)"
	if len(what) > 0 {
		todo = "would tear down " + strings.Join(what, " and ") + " under the lock, then unlink the lockfile"
	}
	if !c.lockfile {
		return outcome{decision: WouldReap, level: slog.LevelInfo, reason: "no lockfile: would take a fresh lock at once; " + todo}
	}
	return outcome{decision: WouldReap, level: slog.LevelInfo, reason: "orphan (lock free): " + todo}
}

// exists reports whether path may exist: any error other than "not there" counts as there, so
// the teardown (which removes the file) gets to try and report it.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

func describe(r swarm.TeardownReport) string {
	if r.Empty() {
		return "nothing was left to remove"
	}
	return fmt.Sprintf("removed %d services, %d containers, %d volumes, %d secrets, %d configs, %d networks, .env %t",
		len(r.Services), len(r.Containers), len(r.Volumes), len(r.Secrets), len(r.Configs), len(r.Networks), r.EnvRemoved)
}
