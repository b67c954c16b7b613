// Package reap is the janitor's pass (DESIGN.md 7): it finds what killed CI runs left on the
// swarm and tears it down, without ever touching a live run.
//
// The app lock (internal/applock) is the whole safety argument. A candidate is reaped only while
// the janitor holds its lock, taken with a non-blocking flock: a live run holds it, so it is left
// alone however old it is; a new run for that domain blocks in its own Acquire until the reap is
// over; and of two janitors at once exactly one gets it. Age is only ever logged, never acted on.
package reap

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"coopcloud.tech/cc-ci/internal/applock"
	"coopcloud.tech/cc-ci/internal/swarm"
)

// Decisions, as logged in the "decision" attribute of each candidate's line.
const (
	// Reap: the lock was free (an orphan, or no lockfile at all); the app was torn down while the
	// lock was held, then the lockfile was unlinked.
	Reap = "reap"
	// WouldReap: a dry run found an orphan; nothing was changed.
	WouldReap = "would-reap"
	// Leave: a run holds the lock; nothing is touched (a possible leaked run is logged at WARN).
	Leave = "leave"
	// Skip: the candidate could not be probed safely (directory or non-regular file in the
	// lockfile's place) or was already gone; nothing is touched.
	Skip = "skip"
	// Fail: a teardown or unlink failed; the lockfile is kept so the next pass retries.
	Fail = "fail"
	// Ignore: warm-* and canonical names; never probed, logged at DEBUG only.
	Ignore = "ignore"
)

// LineMsg is the message of the one log line per candidate.
const LineMsg = "candidate"

// stackReaper is what a pass needs of the swarm: one listing per pass (plus a confirmation for a
// stack that had no lockfile) and the shared, idempotent teardown. *swarm.Client implements it.
type stackReaper interface {
	Stacks(ctx context.Context) ([]string, error)
	Teardown(ctx context.Context, stack, envPath string) (swarm.TeardownReport, error)
}

// Janitor runs passes with fixed settings.
type Janitor struct {
	s     Settings
	swarm stackReaper
	log   *slog.Logger
}

// New returns a janitor for validated settings, tearing apps down through sw and logging one line
// per candidate to log.
func New(s Settings, sw stackReaper, log *slog.Logger) *Janitor {
	return &Janitor{s: s, swarm: sw, log: log}
}

// Summary counts a pass's decisions.
type Summary struct {
	Reaped, WouldReap, Left, Skipped, Failed, Ignored int
	// Leaked counts held locks older than twice the deadline (they are in Left too).
	Leaked int
	// Duration is the pass's wall time.
	Duration time.Duration
}

func (s *Summary) add(o outcome) {
	switch o.decision {
	case Reap:
		s.Reaped++
	case WouldReap:
		s.WouldReap++
	case Leave:
		s.Left++
		if o.leaked {
			s.Leaked++
		}
	case Skip:
		s.Skipped++
	case Fail:
		s.Failed++
	}
}

// ExitCode maps a pass's result to the janitor's exit code: 0 when the pass ran (skips and held
// locks included), 1 when it could not run or a reap failed.
func ExitCode(sum Summary, err error) int {
	if err != nil || sum.Failed > 0 {
		return 1
	}
	return 0
}

// Pass does one janitor pass: scan the lock dir, then list the stacks once, then visit every
// candidate domain in order. It returns an error only when the pass could not run at all (the
// swarm could not be listed, or ctx ended); every per-candidate problem is logged and counted.
//
// Exactly one of two concurrent janitors tears each app down. For an app with a lockfile, flock
// decides, and the loser finds the lockfile gone. The lock dir is read BEFORE the stacks are
// listed: a janitor unlinks a lockfile only after its teardown finished, so a concurrent reap
// rarely looks to us like a stack without a lockfile; and when it does (or after a reboot, when
// two janitors both see no lockfile), reap confirms under the fresh lock that the app is still
// there before tearing it down.
func (j *Janitor) Pass(ctx context.Context) (Summary, error) {
	start := time.Now()
	var sum Summary
	cands := candidates{}
	sum.Ignored += j.scanLockDir(ctx, cands)
	stacks, err := j.swarm.Stacks(ctx)
	if err != nil {
		return sum, fmt.Errorf("list stacks: %w", err)
	}
	sum.Ignored += j.addStacks(ctx, cands, stacks)
	sum.Ignored += j.scanEnvDir(ctx, cands)
	for _, domain := range cands.sorted() {
		if err := ctx.Err(); err != nil {
			return sum, fmt.Errorf("pass interrupted before %s: %w", domain, err)
		}
		o := j.visit(ctx, cands[domain])
		sum.add(o)
		j.logOutcome(ctx, o)
	}
	sum.Duration = time.Since(start)
	j.log.LogAttrs(ctx, slog.LevelInfo, "pass done", slog.Bool("dry_run", j.s.DryRun),
		slog.Int("reaped", sum.Reaped), slog.Int("would_reap", sum.WouldReap), slog.Int("left", sum.Left),
		slog.Int("leaked", sum.Leaked), slog.Int("skipped", sum.Skipped), slog.Int("failed", sum.Failed),
		slog.Duration("duration", sum.Duration))
	return sum, nil
}

// outcome is what happened to one candidate.
type outcome struct {
	domain   string
	decision string
	reason   string
	level    slog.Level
	heldFor  time.Duration // > 0 when the lock was held
	leaked   bool
	duration time.Duration
}

func (j *Janitor) logOutcome(ctx context.Context, o outcome) {
	attrs := []slog.Attr{
		slog.String("domain", o.domain), slog.String("decision", o.decision),
		slog.String("reason", o.reason), slog.Duration("duration", o.duration),
	}
	if o.heldFor > 0 {
		attrs = append(attrs, slog.Duration("held_for", o.heldFor.Round(time.Second)))
	}
	if j.s.DryRun {
		attrs = append(attrs, slog.Bool("dry_run", true))
	}
	j.log.LogAttrs(ctx, o.level, LineMsg, attrs...)
}

// lockPath and envPath locate a domain's lockfile and its app .env in the canonical abra dir.
func (j *Janitor) lockPath(domain string) string { return applock.Path(j.s.LockDir, domain) }

func (j *Janitor) envPath(domain string) string {
	return filepath.Join(j.envDir(), domain+".env")
}

func (j *Janitor) envDir() string { return filepath.Join(j.s.AbraDir, "servers", j.s.Server) }

// candidate is one CI domain and where the scan saw it.
type candidate struct {
	domain   string
	lockfile bool // app-<domain>.lock was in the lock dir
	stack    bool // the stack was on the swarm
	env      bool // the app's .env was in the abra server dir
}

// candidates maps a domain to what the scan saw of it.
type candidates map[string]*candidate

func (cs candidates) get(domain string) *candidate {
	c, ok := cs[domain]
	if !ok {
		c = &candidate{domain: domain}
		cs[domain] = c
	}
	return c
}

func (cs candidates) sorted() []string {
	out := make([]string, 0, len(cs))
	for d := range cs {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}
