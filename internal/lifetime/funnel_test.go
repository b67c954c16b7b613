package lifetime

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const unitTimeout = 10 * time.Second

// funnel is a Guard driven in-process: signals are pushed into its channel, Exit is recorded
// instead of ending the test binary, and the teardown body can be held until released.
type funnel struct {
	t       *testing.T
	g       *Guard
	ctx     context.Context
	sigs    chan os.Signal
	exits   chan int
	runs    atomic.Int32
	started chan struct{}   // closed when the teardown body starts
	release chan struct{}   // the body returns once this is closed
	logs    chan string     // every log message
	bodyCtx context.Context // the context the body got
}

func newFunnel(t *testing.T, deadline time.Duration) *funnel {
	f := &funnel{
		t: t, sigs: make(chan os.Signal, 4), exits: make(chan int, 4),
		started: make(chan struct{}), release: make(chan struct{}), logs: make(chan string, 256),
	}
	f.g, f.ctx = start(Options{
		Deadline: deadline,
		Teardown: func(ctx context.Context) {
			if f.runs.Add(1) == 1 {
				f.bodyCtx = ctx
				close(f.started)
			}
			<-f.release
		},
		Logger: slog.New(msgHandler{f.logs}),
		Exit:   func(code int) { f.exits <- code },
	}, f.sigs, func() {})
	return f
}

func (f *funnel) await(ch <-chan struct{}, what string) {
	f.t.Helper()
	select {
	case <-ch:
	case <-time.After(unitTimeout):
		f.t.Fatalf("timed out waiting for %s", what)
	}
}

func (f *funnel) awaitLog(msg string) {
	f.t.Helper()
	timeout := time.After(unitTimeout)
	for {
		select {
		case m := <-f.logs:
			if m == msg {
				return
			}
		case <-timeout:
			f.t.Fatalf("no log message %q", msg)
		}
	}
}

// exitCode waits for the one exit and checks that no second one follows it.
func (f *funnel) exitCode() int {
	f.t.Helper()
	f.await(f.g.exited, "exit")
	require.Len(f.t, f.exits, 1, "exactly one exit")
	return <-f.exits
}

func TestTeardownFunnelRunsOnce(t *testing.T) {
	t.Parallel()
	for range 50 {
		f := newFunnel(t, time.Millisecond)
		close(f.release)
		var wg sync.WaitGroup
		go0 := make(chan struct{})
		for range 8 {
			wg.Go(func() { <-go0; f.g.Teardown() })
		}
		wg.Go(func() { <-go0; f.g.Finish(0) })
		wg.Go(func() { <-go0; f.sigs <- syscall.SIGTERM; f.sigs <- syscall.SIGINT })
		close(go0)
		wg.Wait()

		code := f.exitCode()
		assert.Equal(t, int32(1), f.runs.Load(), "teardown body runs exactly once")
		want := map[int]error{0: ErrFinished, ExitSignal: ErrSignalled, ExitDeadline: ErrDeadline}
		require.Contains(t, want, code)
		assert.ErrorIs(t, context.Cause(f.ctx), want[code], "the run ends for the reason of the code")
	}
}

func TestSignalDuringFinishTeardownIsIgnored(t *testing.T) {
	t.Parallel()
	f := newFunnel(t, 0)
	go f.g.Finish(0)
	f.await(f.started, "teardown start")
	f.sigs <- syscall.SIGTERM
	f.awaitLog("ignored: teardown already in progress")
	close(f.release)

	assert.Equal(t, 0, f.exitCode())
	assert.ErrorIs(t, context.Cause(f.ctx), ErrFinished)
	assert.Equal(t, int32(1), f.runs.Load())
}

func TestFinishDuringSignalTeardownLetsSignalCodeWin(t *testing.T) {
	t.Parallel()
	f := newFunnel(t, 0)
	f.sigs <- syscall.SIGTERM
	f.await(f.started, "teardown start")
	assert.ErrorIs(t, context.Cause(f.ctx), ErrSignalled, "the run is cancelled before teardown starts")
	assert.NoError(t, f.bodyCtx.Err(), "teardown gets a live context of its own")

	finished := make(chan struct{})
	go func() { f.g.Finish(1); close(finished) }()
	f.awaitLog("run finished while already ending; that exit code wins")
	select {
	case <-finished:
		t.Fatal("Finish returned before the signal path exited")
	default:
	}
	close(f.release)

	assert.Equal(t, ExitSignal, f.exitCode())
	f.await(finished, "Finish to return after the exit")
	assert.Equal(t, int32(1), f.runs.Load())
}

func TestDeadlineEndsRunWith142(t *testing.T) {
	t.Parallel()
	f := newFunnel(t, 10*time.Millisecond)
	f.await(f.started, "teardown start")
	assert.ErrorIs(t, context.Cause(f.ctx), ErrDeadline)
	f.sigs <- syscall.SIGTERM
	f.awaitLog("ignored: teardown already in progress")
	close(f.release)

	assert.Equal(t, ExitDeadline, f.exitCode())
	assert.Equal(t, int32(1), f.runs.Load())
}

func TestPanickingTeardownStillExitsWithPathCode(t *testing.T) {
	t.Parallel()
	sigs, exits := make(chan os.Signal, 1), make(chan int, 2)
	logs := make(chan string, 64)
	g, _ := start(Options{
		Teardown: func(context.Context) { panic("teardown bug") },
		Logger:   slog.New(msgHandler{logs}),
		Exit:     func(code int) { exits <- code },
	}, sigs, func() {})
	sigs <- syscall.SIGTERM
	select {
	case code := <-exits:
		assert.Equal(t, ExitSignal, code)
	case <-time.After(unitTimeout):
		t.Fatal("no exit after a panicking teardown")
	}
	assert.Contains(t, drain(logs), "teardown panicked")
	g.Teardown() // already ran: must not run (or panic) again
}

func TestHungTeardownDoesNotKeepChildAlive(t *testing.T) {
	t.Parallel()
	sigs, exits, hang := make(chan os.Signal, 1), make(chan int, 2), make(chan struct{})
	t.Cleanup(func() { close(hang) })
	g, _ := start(Options{
		Teardown:        func(context.Context) { <-hang }, // ignores its context
		TeardownTimeout: 10 * time.Millisecond,
		Logger:          slog.New(msgHandler{make(chan string, 64)}),
		Exit:            func(code int) { exits <- code },
	}, sigs, func() {})
	g.grace = 10 * time.Millisecond
	sigs <- syscall.SIGTERM
	select {
	case code := <-exits:
		assert.Equal(t, ExitSignal, code)
	case <-time.After(unitTimeout):
		t.Fatal("a teardown that ignores its context kept the child from exiting")
	}
}

func TestOrphanedDecision(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		wrapperPid    int
		ppid          int
		initIsWrapper bool
		want          bool
	}{
		{name: "parent is the wrapper", wrapperPid: 4242, ppid: 4242, want: false},
		{name: "wrapper died and the child was reparented to init", wrapperPid: 4242, ppid: 1, want: true},
		{name: "wrapper died and the child was reparented to a subreaper", wrapperPid: 4242, ppid: 77, want: true},
		{name: "wrapper is a container's pid 1 running this binary", wrapperPid: 1, ppid: 1, initIsWrapper: true, want: false},
		{name: "spoofed wrapper pid 1 while init is another program", wrapperPid: 1, ppid: 1, initIsWrapper: false, want: true},
		{name: "spoofed wrapper pid 1 while the parent is alive", wrapperPid: 1, ppid: 4242, initIsWrapper: true, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := orphaned(tt.wrapperPid, tt.ppid, func() bool { return tt.initIsWrapper })
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestEnterRejectsMissingOrBadWrapperPid(t *testing.T) {
	tests := []struct {
		name  string
		value *string
	}{
		{name: "not started by a wrapper", value: nil},
		{name: "not a number", value: ptr("abc")},
		{name: "zero", value: ptr("0")},
		{name: "negative", value: ptr("-5")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvChild, "")
			if tt.value == nil {
				require.NoError(t, os.Unsetenv(EnvChild))
			} else {
				t.Setenv(EnvChild, *tt.value)
			}
			_, _, err := Enter(Options{})
			require.Error(t, err)
			assert.False(t, errors.Is(err, ErrOrphaned), "a bad value is a usage error, not an orphan")
			assert.Contains(t, err.Error(), EnvChild)
		})
	}
}

func ptr(s string) *string { return &s }

func drain(ch chan string) []string {
	var out []string
	for {
		select {
		case m := <-ch:
			out = append(out, m)
		default:
			return out
		}
	}
}

// msgHandler sends each log record's message to a channel, dropping when it is full.
type msgHandler struct{ msgs chan<- string }

func (h msgHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h msgHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case h.msgs <- r.Message:
	default:
	}
	return nil
}

func (h msgHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h msgHandler) WithGroup(string) slog.Handler      { return h }
