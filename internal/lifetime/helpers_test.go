package lifetime_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"coopcloud.tech/cc-ci/internal/lifetime"
)

// The real-kernel tests re-execute this test binary as the wrapper and the guarded child; these
// variables select and steer the helper role.
const (
	envHelper        = "CCCI_LIFETIME_HELPER" // "wrapper" | "child" | "exit0"
	envLockDir       = "CCCI_APP_LOCK_DIR"
	envMarker        = "CCCI_TEST_MARKER"         // file the teardown appends "teardown\n" to
	envDeadline      = "CCCI_TEST_DEADLINE"       // child's Options.Deadline
	envBlockTeardown = "CCCI_TEST_BLOCK_TEARDOWN" // "1": teardown waits for a line on stdin
	envAction        = "CCCI_TEST_ACTION"         // child after "ready": wait | exit:N | sigkill | finish-on-stdin
	envChurn         = "CCCI_TEST_CHURN"          // "1": wrapper churns OS threads on SIGUSR1
	lockName         = "app-test.lock"
)

func TestMain(m *testing.M) {
	switch os.Getenv(envHelper) {
	case "":
		// Orphans of a SIGKILLed wrapper are reparented to the test process, which can then
		// reap them and read their real exit status.
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			fmt.Fprintln(os.Stderr, "set child subreaper:", err)
			os.Exit(1)
		}
		os.Exit(m.Run())
	case "wrapper":
		os.Exit(runWrapper())
	case "child":
		os.Exit(runChild())
	case "exit0":
		os.Exit(0)
	default:
		fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(envHelper))
		os.Exit(90)
	}
}

func helperLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

// runWrapper is the Drone step process: it calls the real Wrap on this binary as the child.
func runWrapper() int {
	if os.Getenv(envChurn) == "1" {
		usr1 := make(chan os.Signal, 1)
		signal.Notify(usr1, syscall.SIGUSR1)
		go func() {
			<-usr1
			churnThreads()
			fmt.Println("churn-done")
		}()
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 91
	}
	env := append(os.Environ(), envHelper+"=child")
	code, err := lifetime.Wrap(context.Background(), lifetime.WrapOptions{Path: exe, Env: env, Logger: helperLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "wrap:", err)
		return 92
	}
	fmt.Printf("wrap-returned %d\n", code)
	return code
}

// churnThreads destroys OS threads: a goroutine that ends while locked takes its thread with it.
// Any idle thread of the wrapper, the one that forked the child included if it were idle, is
// likely to be picked up and destroyed.
func churnThreads() {
	for range 8 {
		var wg sync.WaitGroup
		for range 4 * runtime.GOMAXPROCS(0) {
			wg.Go(func() { runtime.LockOSThread() })
		}
		wg.Wait()
	}
}

// appLock is the child's flock, shared between the run (main goroutine) and the teardown.
type appLock struct {
	mu sync.Mutex
	f  *os.File
}

func (l *appLock) acquire(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return err
	}
	l.mu.Lock()
	l.f = f
	l.mu.Unlock()
	return nil
}

func (l *appLock) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		_ = unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
		l.f.Close()
		l.f = nil
	}
}

// runChild is the guarded child: real guards, a real flock, a teardown that leaves a marker.
func runChild() int {
	var lock appLock
	stdin := bufio.NewReader(os.Stdin)
	opts := lifetime.Options{Logger: helperLogger(), Teardown: func(context.Context) {
		if os.Getenv(envBlockTeardown) == "1" {
			fmt.Println("teardown-started")
			_, _ = stdin.ReadString('\n')
		}
		appendMarker(os.Getenv(envMarker))
		lock.release()
		fmt.Println("teardown-done")
	}}
	if d := os.Getenv(envDeadline); d != "" {
		var err error
		if opts.Deadline, err = time.ParseDuration(d); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 93
		}
	}
	g, ctx, err := lifetime.Enter(opts)
	if errors.Is(err, lifetime.ErrOrphaned) {
		fmt.Fprintln(os.Stderr, err)
		return lifetime.ExitOrphaned
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 94
	}
	fmt.Printf("child-pid %d\n", os.Getpid())
	if err := lock.acquire(os.Getenv(envLockDir)); err != nil {
		fmt.Fprintln(os.Stderr, "lock:", err)
		g.Finish(95)
		return 95
	}
	fmt.Println("ready")
	childAct(g, ctx, stdin)
	return 96 // unreachable: Finish exits
}

func childAct(g *lifetime.Guard, ctx context.Context, stdin *bufio.Reader) {
	action := os.Getenv(envAction)
	switch {
	case strings.HasPrefix(action, "exit:"):
		code, _ := strconv.Atoi(strings.TrimPrefix(action, "exit:"))
		g.Finish(code)
	case action == "sigkill":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case action == "finish-on-stdin":
		_, _ = stdin.ReadString('\n')
		g.Finish(0)
	default:
		// A real run notices the cancellation and finishes with its own code; the signal's or
		// deadline's code must win.
		<-ctx.Done()
		g.Finish(1)
	}
}

func appendMarker(path string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "marker:", err)
		return
	}
	defer f.Close()
	_, _ = f.WriteString("teardown\n")
}
