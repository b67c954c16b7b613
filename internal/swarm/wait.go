package swarm

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// DefaultCrashThreshold is how many failed tasks of a service's current spec make it a crash loop.
const DefaultCrashThreshold = 3

// DefaultStableFor is how long a task must have been running (and healthy) to count, as the
// Docker CLI does before it reports a service converged.
const DefaultStableFor = 5 * time.Second

const (
	// recheckInterval is the safety net under the event stream: some changes (a task rejected
	// before it has a container, an update state flip) raise no event this package listens to.
	recheckInterval = 2 * time.Second
	// maxAPIErrors consecutive failed evaluations end the wait: one hiccup of the daemon should
	// not fail a run, a daemon that is gone should not make it wait out its whole timeout.
	maxAPIErrors = 5
)

// WaitOptions tunes WaitConvergedReport (and WaitConverged). The zero value is usable.
type WaitOptions struct {
	// Timeout bounds the wait on top of ctx; 0 means only ctx bounds it.
	Timeout time.Duration
	// CrashThreshold is how many failed tasks of a service's current spec since Since make a
	// crash loop; 0 means DefaultCrashThreshold.
	CrashThreshold int
	// Logger receives progress (a line whenever the stack's state changes); nil discards it.
	Logger *slog.Logger
	// StableFor is how long a task must have been running (and healthy) before it counts; 0 means
	// DefaultStableFor, a negative value counts tasks as soon as they run.
	StableFor time.Duration
	// Since is when the deployment began: task failures before it are not counted. Zero means the
	// moment the wait begins; pass the deploy's start to also count failures that happened
	// while the deploy command ran.
	Since time.Time
}

// reportLag is how long a task's failure may take to reach the manager's task list after it
// happened (the agent reports task states in batches). A failure that happened this long before
// the evaluation that found a stack converged, yet was not in it, must still count as after
// convergence: Convergence.At lies this far back (see there).
const reportLag = 2 * time.Second

// Convergence is what WaitConvergedReport learned on the way to a converged stack.
type Convergence struct {
	// At is the moment from which a task failure counts as one after convergence: pass it to
	// CheckStable. It is the start of the evaluation that found the stack converged, less
	// reportLag (a failure that happened just before may not have been visible yet), never before
	// WaitOptions.Since, and always after every failure in Restarts, so a restart reported here
	// is never counted again.
	At time.Time
	// Restarts are the failures of current-spec tasks since WaitOptions.Since that happened before
	// convergence, oldest first: fewer than the crash threshold per service, so they are reported,
	// not failed (swarm ignores depends_on, so an app that starts before its database exits once).
	Restarts []TaskFailure
}

// Warnings returns one line per restart, for the run's log and summary.
func (c Convergence) Warnings() []string {
	var out []string
	for _, f := range c.Restarts {
		out = append(out, f.describe("task failed before the stack converged, swarm restarted it"))
	}
	return out
}

// WaitConverged is WaitConvergedReport for callers that only need to know whether the stack
// converged.
func (c *Client) WaitConverged(ctx context.Context, stack string, opts WaitOptions) error {
	_, err := c.WaitConvergedReport(ctx, stack, opts)
	return err
}

// WaitConvergedReport returns once every service of stack runs its desired number of tasks of its
// current spec (running, and healthy where the container has a healthcheck, for opts.StableFor),
// no update is in progress, and no task of an older spec is left that swarm still means to run
// (see currentSpec for what makes a task current). It re-evaluates on every Docker event of the
// stack's services and containers, and every few seconds as a safety net. The Convergence it
// returns lists the tasks that failed on the way (see there).
//
// It fails at once with an *ImageError when a current task failed for want of its image, with a
// *RollbackError when an update is paused or rolled back, with a *CrashLoopError when a service's
// current tasks keep failing (counting failures since opts.Since only), and with a *TimeoutError
// (state per service) when opts.Timeout passes or ctx ends. Other errors (the daemon stopped
// answering) are returned wrapped. A task that fails after this returns is not its concern: see
// CheckStable, with Convergence.At.
func (c *Client) WaitConvergedReport(ctx context.Context, stack string, opts WaitOptions) (Convergence, error) {
	if err := validStack(stack); err != nil {
		return Convergence{}, fmt.Errorf("wait for stack: %w", err)
	}
	w := newWaiter(c, stack, opts)
	if w.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.opts.Timeout)
		defer cancel()
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	f, keep := stackEvents(stack)
	changed := c.watch(watchCtx, f, keep, w.log)
	ticker := time.NewTicker(recheckInterval)
	defer ticker.Stop()
	for {
		done, err := w.check(ctx)
		if err != nil {
			return Convergence{}, err
		}
		if done {
			return w.convergence(ctx), nil
		}
		select {
		case <-ctx.Done():
			return Convergence{}, w.timeout(ctx.Err())
		case <-changed:
		case <-ticker.C:
		case <-w.settled():
		}
	}
}

// waiter holds what one WaitConverged call has learned so far.
type waiter struct {
	c       *Client
	stack   string
	opts    WaitOptions
	log     *slog.Logger
	start   time.Time
	failed  map[string]map[string]swarm.Task // service ID -> task ID -> failed task, kept across evaluations
	states  []serviceState                   // of the last evaluation, for the timeout summary
	summary string
	apiErrs int
	// evalStart and restarts belong to the last evaluation: when it began, and the current-spec
	// failures it counted.
	evalStart time.Time
	restarts  []serviceTask
}

// serviceTask is a task with the service it belongs to.
type serviceTask struct {
	svc  swarm.Service
	task swarm.Task
}

func newWaiter(c *Client, stack string, opts WaitOptions) *waiter {
	start := time.Now()
	if opts.CrashThreshold <= 0 {
		opts.CrashThreshold = DefaultCrashThreshold
	}
	if opts.Since.IsZero() {
		opts.Since = start
	}
	switch {
	case opts.StableFor == 0:
		opts.StableFor = DefaultStableFor
	case opts.StableFor < 0:
		opts.StableFor = 0
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("stack", stack)
	opts.Logger = log
	return &waiter{c: c, stack: stack, opts: opts, log: log, start: start, failed: map[string]map[string]swarm.Task{}}
}

// check evaluates the stack once: done when converged, a typed error when it never will.
func (w *waiter) check(ctx context.Context) (bool, error) {
	w.evalStart = time.Now()
	w.restarts = w.restarts[:0]
	snap, err := w.c.snapshot(ctx, w.stack)
	if err != nil {
		if ctx.Err() != nil {
			return false, nil // the caller reports the timeout, with the last good state
		}
		w.apiErrs++
		w.log.Warn("reading stack state failed", "err", err, "consecutive", w.apiErrs)
		if w.apiErrs >= maxAPIErrors {
			return false, fmt.Errorf("wait for stack %s: %w", w.stack, err)
		}
		return false, nil
	}
	w.apiErrs = 0
	snap.health = w.c.runningHealth(ctx, snap.tasks)
	w.log.Debug("evaluating", "services", len(snap.services))
	w.states = w.states[:0]
	converged := len(snap.services) > 0
	for _, svc := range snap.services {
		st := assess(svc, snap, time.Now(), w.opts.StableFor)
		w.states = append(w.states, st)
		if updateFailed(svc.UpdateStatus) {
			return false, w.rollback(ctx, svc, snap.tasks[svc.ID])
		}
		failures := w.recordFailures(svc, snap)
		if t, ok := newestImageFailure(failures); ok {
			return false, w.c.imageError(ctx, svc, t)
		}
		if len(failures) >= w.opts.CrashThreshold {
			return false, w.crashLoop(ctx, svc, failures)
		}
		for _, t := range failures {
			w.restarts = append(w.restarts, serviceTask{svc, t})
		}
		converged = converged && st.converged()
	}
	w.report(converged)
	return converged, nil
}

// recordFailures remembers every failure of svc seen so far (swarm prunes old tasks, so a count
// from the current task list alone could go down) and returns those of its current spec, oldest
// first.
func (w *waiter) recordFailures(svc swarm.Service, snap snapshot) []swarm.Task {
	seen := w.failed[svc.ID]
	if seen == nil {
		seen = map[string]swarm.Task{}
		w.failed[svc.ID] = seen
	}
	for _, t := range snap.tasks[svc.ID] {
		if failedSince(svc, t, w.opts.Since, snap.nodes) {
			seen[t.ID] = t
		}
	}
	var current []swarm.Task
	for _, t := range seen {
		if currentSpec(svc, t, snap.nodes) {
			current = append(current, t)
		}
	}
	slices.SortFunc(current, func(a, b swarm.Task) int { return a.Status.Timestamp.Compare(b.Status.Timestamp) })
	return current
}

func (w *waiter) crashLoop(ctx context.Context, svc swarm.Service, failures []swarm.Task) error {
	last := failures[len(failures)-1]
	cause := w.c.failureCause(ctx, last)
	e := &CrashLoopError{Service: svc.Spec.Name, Failures: len(failures), Err: cause.text,
		OOMKilled: cause.oomKilled, MemoryLimit: cause.memoryLimit, LastLogs: w.c.lastLogs(ctx, last, logLines)}
	if cs := last.Status.ContainerStatus; cs != nil {
		e.ExitCode = cs.ExitCode
	}
	e.EngineFault = sharedEngineFault(failures)
	return e
}

// settled fires when the next task leaves its stability window, or never when none is settling.
func (w *waiter) settled() <-chan time.Time {
	var next time.Time
	for _, s := range w.states {
		if !s.settleAt.IsZero() && (next.IsZero() || s.settleAt.Before(next)) {
			next = s.settleAt
		}
	}
	if next.IsZero() {
		return nil
	}
	return time.After(time.Until(next))
}

// convergence describes the converged stack from the last evaluation (see Convergence).
func (w *waiter) convergence(ctx context.Context) Convergence {
	conv := Convergence{At: w.evalStart.Add(-reportLag)}
	if conv.At.Before(w.opts.Since) {
		conv.At = w.opts.Since
	}
	for _, r := range w.restarts {
		f := w.c.taskFailure(ctx, r.svc, r.task)
		w.log.Warn("a task failed before the stack converged", "service", f.Service, "exit_code", f.ExitCode,
			"err", f.Err, "at", f.At)
		conv.Restarts = append(conv.Restarts, f)
		if !f.At.Before(conv.At) {
			conv.At = f.At.Add(time.Nanosecond)
		}
	}
	slices.SortFunc(conv.Restarts, func(a, b TaskFailure) int { return a.At.Compare(b.At) })
	return conv
}

// rollback reports a failed update, with the newest task failure since the wait began as the
// likely reason (of any spec: after a rollback the failed spec is no longer the current one). When
// that task failed for want of its image, the image is the error: swarm pauses or rolls back an
// update whose new image cannot be pulled, and "update paused" would hide why.
func (w *waiter) rollback(ctx context.Context, svc swarm.Service, tasks []swarm.Task) error {
	u := svc.UpdateStatus
	e := &RollbackError{Service: svc.Spec.Name, State: string(u.State), Message: u.Message}
	var newest *swarm.Task
	for i, t := range tasks {
		failed := t.Status.State == swarm.TaskStateFailed || t.Status.State == swarm.TaskStateRejected
		if failed && !t.Status.Timestamp.Before(w.opts.Since) &&
			(newest == nil || t.Status.Timestamp.After(newest.Status.Timestamp)) {
			newest = &tasks[i]
		}
	}
	if newest != nil && imageFailure(newest.Status.Err) {
		return w.c.imageError(ctx, svc, *newest)
	}
	if newest != nil {
		e.TaskErr = newest.Status.Err
		e.EngineFault = engineFault(newest.Status.Err)
		if cause := w.c.failureCause(ctx, *newest); cause.oomKilled {
			e.TaskErr, e.OOMKilled, e.MemoryLimit = cause.text, true, cause.memoryLimit
		}
		e.LastLogs = w.c.lastLogs(ctx, *newest, logLines)
	}
	return e
}

// report logs the stack's state whenever it changed since the last evaluation.
func (w *waiter) report(converged bool) {
	summary := w.lines()
	if summary == w.summary {
		return
	}
	w.summary = summary
	w.log.Info("stack state", "converged", converged, "services", summary,
		"waited", time.Since(w.start).Round(time.Second).String())
}

func (w *waiter) lines() string {
	if len(w.states) == 0 {
		return "no services of the stack yet"
	}
	var l []string
	for _, s := range w.states {
		l = append(l, s.line(w.stack))
	}
	return strings.Join(l, "; ")
}

func (w *waiter) timeout(cause error) error {
	e := &TimeoutError{Stack: w.stack, Waited: time.Since(w.start), Cause: cause}
	for _, s := range w.states {
		e.Services = append(e.Services, s.line(w.stack))
	}
	if len(e.Services) == 0 {
		e.Services = []string{"no services of the stack found"}
	}
	return e
}
