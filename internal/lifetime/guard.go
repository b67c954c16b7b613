package lifetime

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"time"
)

// teardownGrace is how long past its context budget an exit path waits for a teardown body
// that ignores its context, before exiting anyway: a hung teardown must not keep the step
// alive forever (the janitor reaps what it leaves).
const teardownGrace = 30 * time.Second

// Guard is the guarded child's exit funnel: whichever of Finish, a signal or the deadline comes
// first runs the teardown once and decides the exit code; the others wait or are ignored.
type Guard struct {
	log      *slog.Logger
	teardown func(context.Context)
	budget   time.Duration
	grace    time.Duration // teardownGrace; shorter in tests
	exit     func(int)
	cancel   context.CancelCauseFunc

	once         sync.Once     // the teardown body runs at most once
	teardownDone chan struct{} // closed when the teardown body returned (or was absent)

	mu     sync.Mutex
	winner error         // cause of the exit path that claimed the exit; nil until claimed
	exited chan struct{} // closed after the winning path called exit (observable only in tests)
}

// start builds the Guard and its watcher over sigs; release undoes the signal registration once
// the process has exited (only reached when Exit returns, in tests).
func start(opts Options, sigs <-chan os.Signal, release func()) (*Guard, context.Context) {
	ctx, cancel := context.WithCancelCause(context.Background())
	g := &Guard{
		log:          opts.Logger,
		teardown:     opts.Teardown,
		budget:       opts.TeardownTimeout,
		grace:        teardownGrace,
		exit:         opts.Exit,
		cancel:       cancel,
		teardownDone: make(chan struct{}),
		exited:       make(chan struct{}),
	}
	if g.log == nil {
		g.log = slog.Default()
	}
	if g.budget <= 0 {
		g.budget = DefaultTeardownTimeout
	}
	if g.exit == nil {
		g.exit = os.Exit
	}
	var deadline <-chan time.Time
	if opts.Deadline > 0 {
		timer := time.NewTimer(opts.Deadline)
		deadline = timer.C
		prev := release
		release = func() { timer.Stop(); prev() }
	}
	go g.watch(sigs, deadline, release)
	return g, ctx
}

// watch turns signals and the deadline into exit paths. It keeps draining signals after the
// first one so that a repeat is logged and ignored, never left to the default action.
func (g *Guard) watch(sigs <-chan os.Signal, deadline <-chan time.Time, release func()) {
	defer release()
	for {
		select {
		case sig := <-sigs:
			g.trigger(ExitSignal, fmt.Errorf("%w: %s", ErrSignalled, sig))
		case <-deadline:
			deadline = nil
			g.trigger(ExitDeadline, ErrDeadline)
		case <-g.exited:
			return
		}
	}
}

// trigger starts an exit path unless one is already under way.
func (g *Guard) trigger(code int, cause error) {
	if won, winner := g.claim(cause); !won {
		g.log.Warn("ignored: teardown already in progress", "event", cause.Error(), "ending_because", winner.Error())
		return
	}
	g.log.Warn("ending run", "reason", cause.Error(), "exit_code", code)
	go g.end(code, cause)
}

// claim makes cause the winning exit path if none has won yet; it returns the winner's cause.
func (g *Guard) claim(cause error) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.winner != nil {
		return false, g.winner
	}
	g.winner = cause
	return true, cause
}

// end is the winning exit path: cancel the run, tear down once, exit.
func (g *Guard) end(code int, cause error) {
	g.cancel(cause)
	go g.Teardown()
	select {
	case <-g.teardownDone:
	case <-time.After(g.budget + g.grace):
		g.log.Error("teardown did not return within its budget; exiting anyway", "waited", g.budget+g.grace)
	}
	g.log.Info("exiting", "code", code, "reason", cause.Error())
	g.exit(code)
	close(g.exited)
}

// Teardown runs the teardown body unless it already ran; concurrent callers wait for the one
// run to finish. A panicking body is logged so that the exit path still exits with its code.
func (g *Guard) Teardown() {
	g.once.Do(func() {
		defer close(g.teardownDone)
		if g.teardown == nil {
			return
		}
		defer func() {
			if r := recover(); r != nil {
				g.log.Error("teardown panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), g.budget)
		defer cancel()
		began := time.Now()
		g.log.Info("teardown started")
		g.teardown(ctx)
		g.log.Info("teardown finished", "took", time.Since(began).Round(time.Millisecond))
	})
}

// Finish ends a run that completed on its own: teardown, then exit with code. When a signal or
// the deadline is already ending the run, Finish waits for that path, whose exit code wins.
func (g *Guard) Finish(code int) {
	if won, winner := g.claim(ErrFinished); !won {
		g.log.Info("run finished while already ending; that exit code wins", "ending_because", winner.Error(), "finish_code", code)
		<-g.exited
		return
	}
	g.end(code, ErrFinished)
}
