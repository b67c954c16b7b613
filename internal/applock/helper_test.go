package applock_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"coopcloud.tech/cc-ci/internal/applock"
	"coopcloud.tech/cc-ci/internal/testkit/helperproc"
)

// Helper processes are re-executions of this test binary, selected by
// envHelper, so every lock in these tests is a real flock held by a real
// process. Nothing about flock is mocked.
const (
	envHelper     = "CCCI_APPLOCK_HELPER"     // "hold" or "probe"
	envDomain     = "CCCI_APPLOCK_DOMAIN"     // app domain to lock
	envGrandchild = "CCCI_APPLOCK_GRANDCHILD" // "1": holder starts `sleep 300` after locking

	domain = "demo-0a1b2c.ci.example.org"

	// waitTimeout bounds every wait for an event, so a broken lock fails the
	// test with a message instead of hanging until go test's own timeout.
	waitTimeout = 30 * time.Second
)

func TestMain(m *testing.M) {
	switch mode := os.Getenv(envHelper); mode {
	case "":
		// Become a subreaper so the grandchildren of killed holders are
		// reparented to this process and t.Cleanup can reap them.
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			fmt.Fprintln(os.Stderr, "set child subreaper:", err)
			os.Exit(1)
		}
		os.Exit(m.Run())
	case "hold":
		os.Exit(runHolder())
	case "probe":
		os.Exit(runProbe())
	default:
		fmt.Fprintf(os.Stderr, "unknown %s=%q\n", envHelper, mode)
		os.Exit(2)
	}
}

// runHolder acquires the lock, optionally starts a grandchild that outlives
// it, prints "locked" and holds until stdin closes or it is killed.
func runHolder() int {
	lock, err := applock.Acquire(context.Background(), applock.DirFromEnv(), os.Getenv(envDomain), applock.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "holder:", err)
		return 1
	}
	if os.Getenv(envGrandchild) == "1" {
		// Stdio stays nil (/dev/null): the only descriptor the grandchild
		// could inherit from us is the lock's, if it lacked O_CLOEXEC.
		gc := exec.Command("sleep", "300")
		if err := gc.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "holder: start grandchild:", err)
			return 1
		}
		fmt.Printf("grandchild %d\n", gc.Process.Pid)
	}
	fmt.Println("locked")
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "holder: read stdin:", err)
	}
	if err := lock.Release(); err != nil {
		fmt.Fprintln(os.Stderr, "holder:", err)
		return 1
	}
	return 0
}

// runProbe tries the lock once from a separate process and reports.
func runProbe() int {
	lock, err := applock.TryAcquire(applock.DirFromEnv(), os.Getenv(envDomain))
	switch {
	case errors.Is(err, applock.ErrHeld):
		fmt.Println("held")
		return 0
	case err != nil:
		fmt.Fprintln(os.Stderr, "probe:", err)
		return 1
	}
	fmt.Println("acquired")
	if err := lock.Release(); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return 1
	}
	return 0
}

func helperCmd(t *testing.T, ctx context.Context, dir, mode string, env ...string) *exec.Cmd {
	t.Helper()
	return helperproc.Command(t, ctx, append([]string{envHelper + "=" + mode, applock.EnvDir + "=" + dir, envDomain + "=" + domain}, env...)...)
}

// probe runs TryAcquire in a separate process: "held" or "acquired".
func probe(t *testing.T, dir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	out, err := helperCmd(t, ctx, dir, "probe").Output()
	require.NoError(t, err, "probe process")
	return strings.TrimSpace(string(out))
}

// holder is a running "hold" helper process.
type holder struct{ *helperproc.Proc }

// startHolder starts a holder in dir and registers its kill and reap.
func startHolder(t *testing.T, dir string, env ...string) *holder {
	t.Helper()
	return &holder{helperproc.Start(t, helperCmd(t, context.Background(), dir, "hold", env...))}
}

// next returns the holder's next stdout line.
func (h *holder) next(t *testing.T) string {
	t.Helper()
	return h.Next(t, waitTimeout)
}

// expectLocked waits until the holder reports that it holds the lock.
func (h *holder) expectLocked(t *testing.T) {
	t.Helper()
	require.Equal(t, "locked", h.next(t))
}

// reapGrandchild registers killing and reaping a grandchild of h. The
// holder goes first, so the grandchild is reparented to us (subreaper).
func reapGrandchild(t *testing.T, h *holder, pid int) {
	t.Cleanup(func() {
		h.Stop()
		_ = unix.Kill(pid, unix.SIGKILL)
		var ws unix.WaitStatus
		_, _ = unix.Wait4(pid, &ws, 0, nil) // ECHILD if someone else reaped it
	})
}

// logRecorder is a slog.Handler that hands every record to the test, so a
// test can wait for "waiting for app lock" instead of sleeping.
type logRecorder struct{ records chan slog.Record }

func newLogRecorder() *logRecorder {
	return &logRecorder{records: make(chan slog.Record, 64)}
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	select {
	case r.records <- rec.Clone():
	default: // a test that stopped reading must not block Acquire
	}
	return nil
}

func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

func (r *logRecorder) logger() *slog.Logger { return slog.New(r) }

// waitFor consumes records until one with msg arrives and returns its attrs.
func (r *logRecorder) waitFor(t *testing.T, msg string) map[string]string {
	t.Helper()
	return r.waitWhileBlocked(t, msg, nil)
}

// waitWhileBlocked is waitFor that also fails at once if the background
// Acquire res returns before msg is logged.
func (r *logRecorder) waitWhileBlocked(t *testing.T, msg string, res <-chan acquireResult) map[string]string {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case got := <-res:
			if got.lock != nil {
				_ = got.lock.Release()
			}
			require.FailNow(t, "Acquire returned while the lock was held elsewhere",
				"returned before %q was logged; err: %v", msg, got.err)
		case rec := <-r.records:
			if rec.Message != msg {
				continue
			}
			attrs := map[string]string{}
			rec.Attrs(func(a slog.Attr) bool {
				attrs[a.Key] = a.Value.String()
				return true
			})
			return attrs
		case <-deadline:
			require.FailNow(t, "timed out waiting for log line", msg)
			return nil
		}
	}
}

// acquireResult is what a background Acquire returned.
type acquireResult struct {
	lock *applock.Lock
	err  error
}

// acquireInBackground runs Acquire on a goroutine; its context ends with
// the test, so a still-blocked Acquire never outlives it.
func acquireInBackground(t *testing.T, ctx context.Context, dir string, opts applock.Options) <-chan acquireResult {
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	res := make(chan acquireResult, 1)
	go func() {
		lock, err := applock.Acquire(ctx, dir, domain, opts)
		res <- acquireResult{lock, err}
	}()
	return res
}

// receive waits for the background Acquire to return.
func receive(t *testing.T, res <-chan acquireResult) acquireResult {
	t.Helper()
	select {
	case r := <-res:
		if r.lock != nil {
			t.Cleanup(func() { _ = r.lock.Release() })
		}
		return r
	case <-time.After(waitTimeout):
		require.FailNow(t, "Acquire did not return")
		return acquireResult{}
	}
}

// requireStillBlocked fails if the background Acquire has returned.
func requireStillBlocked(t *testing.T, res <-chan acquireResult) {
	t.Helper()
	select {
	case r := <-res:
		if r.lock != nil {
			_ = r.lock.Release()
		}
		require.FailNow(t, "Acquire returned while the lock was held elsewhere", "err: %v", r.err)
	default:
	}
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(t *testing.T, pid int) bool {
	t.Helper()
	if err := unix.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	require.NoError(t, err)
	// Format: "pid (comm) S ..."; comm may hold spaces, so cut after ')'.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
	fields := strings.Fields(rest)
	require.NotEmpty(t, fields)
	return fields[0] != "Z"
}
