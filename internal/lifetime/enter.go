package lifetime

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultTeardownTimeout is the context budget given to the teardown body when
// Options.TeardownTimeout is zero.
const DefaultTeardownTimeout = 5 * time.Minute

// Options configures the guards Enter installs in the guarded child.
type Options struct {
	// Deadline ends the run with teardown and ExitDeadline after this long; 0 means none.
	Deadline time.Duration
	// Teardown is the one teardown funnel body (app teardown, then lock release). It runs at
	// most once, whichever path ends the run. It gets a fresh context, not the run's
	// (which is already cancelled when a signal or the deadline ends the run).
	Teardown func(ctx context.Context)
	// TeardownTimeout is the budget of Teardown's context (default DefaultTeardownTimeout).
	TeardownTimeout time.Duration
	// Logger receives the guards' events (default slog.Default()).
	Logger *slog.Logger
	// Exit ends the process (default os.Exit). Tests inject one that returns.
	Exit func(code int)
}

// Enter installs the lifetime guards; the guarded child calls it before anything else.
//
// It re-applies PR_SET_PDEATHSIG=SIGTERM (Wrap already set it at fork), then checks that its
// parent is still the wrapper named in EnvChild. The check comes after the parent-death signal
// is armed, so a wrapper that died before the prctl cannot slip through: either the signal
// comes, or getppid shows the child was reparented and Enter returns ErrOrphaned.
//
// From then on SIGTERM/SIGINT cancel the returned context, run the teardown funnel and exit
// ExitSignal; the deadline does the same with ExitDeadline. Signals that arrive while an exit
// path is already tearing down are logged and ignored. EnvChild is removed from the
// environment so that processes the run starts are not mistaken for guarded children.
func Enter(opts Options) (*Guard, context.Context, error) {
	want, err := wrapperPid()
	if err != nil {
		return nil, nil, err
	}
	// Notify before arming the parent-death signal: a SIGTERM from here on is held in the
	// channel for the funnel instead of killing the child mid-way.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	// The kernel keeps the parent-death signal per thread; the main thread has carried it since
	// the fork, this arms the current one too in case the child was not forked by Wrap.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGTERM), 0, 0, 0); err != nil {
		signal.Stop(sigs)
		return nil, nil, fmt.Errorf("set parent-death signal: %w", err)
	}
	if ppid := os.Getppid(); orphaned(want, ppid, initIsSameBinary) {
		signal.Stop(sigs)
		return nil, nil, fmt.Errorf("%w: parent pid is %d, wrapper pid was %d", ErrOrphaned, ppid, want)
	}
	if err := os.Unsetenv(EnvChild); err != nil {
		signal.Stop(sigs)
		return nil, nil, fmt.Errorf("unset %s: %w", EnvChild, err)
	}
	g, ctx := start(opts, sigs, func() { signal.Stop(sigs) })
	return g, ctx, nil
}

func wrapperPid() (int, error) {
	v, ok := os.LookupEnv(EnvChild)
	if !ok {
		return 0, fmt.Errorf("%s is not set: not started by the lifetime wrapper", EnvChild)
	}
	pid, err := strconv.Atoi(v)
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s=%q is not a pid", EnvChild, v)
	}
	return pid, nil
}

// orphaned reports whether the child must refuse to run. Its parent must be the wrapper. Pid 1
// is accepted only when the wrapper itself is pid 1, as when Drone runs the plugin as a
// container's entrypoint, and pid 1 runs this same binary: an orphan reparented to a real init
// has a different executable. (Inside a pid namespace, the death of pid 1 kills every process in
// it, so a child of a pid-1 wrapper cannot outlive it.)
func orphaned(wrapperPid, ppid int, initIsWrapper func() bool) bool {
	if ppid != wrapperPid {
		return true
	}
	return ppid == 1 && !initIsWrapper()
}

// initIsSameBinary reports whether pid 1 runs the same executable file as this process.
func initIsSameBinary() bool {
	initExe, err := os.Stat("/proc/1/exe")
	if err != nil {
		return false
	}
	self, err := os.Stat("/proc/self/exe")
	if err != nil {
		return false
	}
	return os.SameFile(initExe, self)
}
