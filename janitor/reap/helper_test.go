package reap_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"coopcloud.tech/cc-ci/internal/applock"
	"coopcloud.tech/cc-ci/internal/testkit/helperproc"
)

// Helper processes are re-executions of this test binary, selected by envHelper, so every lock a
// "run" holds in these tests is a real flock held by another real process.
const (
	envHelper  = "CCCI_JANITOR_TEST_HELPER"  // hold, hold-all, acquire or janitor-pass
	envDomains = "CCCI_JANITOR_TEST_DOMAINS" // comma-separated app domains

	// waitTimeout bounds every wait for an event, so a broken rule fails with a message instead of
	// hanging until go test's own timeout.
	waitTimeout = 30 * time.Second
)

func TestMain(m *testing.M) {
	switch mode := os.Getenv(envHelper); mode {
	case "":
		os.Exit(m.Run())
	case "hold":
		os.Exit(runHold(strings.Split(os.Getenv(envDomains), ",")))
	case "hold-all":
		os.Exit(runHoldAll())
	case "acquire":
		os.Exit(runAcquire(os.Getenv(envDomains)))
	case "janitor-pass":
		os.Exit(runJanitorPass())
	default:
		fmt.Fprintf(os.Stderr, "unknown %s=%q\n", envHelper, mode)
		os.Exit(2)
	}
}

// runHold is a live run: it acquires the lock of every domain, prints "locked" and holds them
// until stdin closes or it is killed.
func runHold(domains []string) int {
	for _, d := range domains {
		if _, err := applock.Acquire(context.Background(), applock.DirFromEnv(), d, applock.Options{}); err != nil {
			fmt.Fprintln(os.Stderr, "hold:", err)
			return 1
		}
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0 // exiting releases every lock
}

// runHoldAll holds every lockfile already in the lock dir (the benchmark's 10,000 live runs in one
// process), so it first raises its open-file limit.
func runHoldAll() int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, "hold-all: getrlimit:", err)
		return 1
	}
	lim.Cur = lim.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, "hold-all: setrlimit:", err)
		return 1
	}
	dir := applock.DirFromEnv()
	entries, err := os.ReadDir(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hold-all:", err)
		return 1
	}
	for _, e := range entries {
		if _, err := applock.TryAcquireExisting(dir + "/" + e.Name()); err != nil {
			fmt.Fprintf(os.Stderr, "hold-all: %v (open-file limit %d)\n", err, lim.Cur)
			return 1
		}
	}
	fmt.Printf("locked %d\n", len(entries))
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// runAcquire is a new run starting for domain: a blocking Acquire whose "waiting for app lock"
// line goes to stdout, then "acquired" once it holds a lock on the file now at the path.
func runAcquire(domain string) int {
	log := slog.New(slog.NewTextHandler(os.Stdout, nil))
	lock, err := applock.Acquire(context.Background(), applock.DirFromEnv(), domain, applock.Options{Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "acquire:", err)
		return 1
	}
	if err := lock.Verify(); err != nil {
		fmt.Fprintln(os.Stderr, "acquire:", err)
		return 1
	}
	fmt.Println("acquired")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// helper is a running helper process.
type helper struct{ *helperproc.Proc }

// startHelper starts a helper in mode for domains with lockDir as its lock dir, and registers
// killing (its whole process group) and reaping it.
func startHelper(t testing.TB, lockDir, mode string, domains ...string) *helper {
	t.Helper()
	return startHelperEnv(t, nil, lockDir, mode, domains...)
}

// startHelperEnv is startHelper with extra environment variables (KEY=value) for the helper.
func startHelperEnv(t testing.TB, env []string, lockDir, mode string, domains ...string) *helper {
	t.Helper()
	cmd := helperproc.Command(t, context.Background(), append([]string{envHelper + "=" + mode,
		applock.EnvDir + "=" + lockDir, envDomains + "=" + strings.Join(domains, ",")}, env...)...)
	return &helper{helperproc.Start(t, cmd)}
}

// next returns the helper's next stdout line.
func (h *helper) next(t testing.TB) string {
	t.Helper()
	return h.Next(t, waitTimeout)
}

// expect waits for the helper's next line and requires it to start with want.
func (h *helper) expect(t testing.TB, want string) {
	t.Helper()
	line := h.next(t)
	require.True(t, strings.HasPrefix(line, want), "helper said %q, want %q", line, want)
}
