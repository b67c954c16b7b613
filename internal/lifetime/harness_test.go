package lifetime_test

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"coopcloud.tech/cc-ci/internal/lifetime"
)

// eventTimeout bounds every wait for an event; events normally arrive within milliseconds.
const eventTimeout = 15 * time.Second

// proc is a helper process (wrapper or child) with its combined output as lines.
type proc struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin *os.File
	lines chan string

	mu  sync.Mutex
	all []string

	waitOnce sync.Once
	waited   chan struct{}
	waitErr  error
}

// startHelper re-executes the test binary in a helper role. Output goes through an os.Pipe, not
// StdoutPipe: a grandchild keeps writing to it after its wrapper has been killed and reaped.
func startHelper(t *testing.T, role string, env ...string) *proc {
	t.Helper()
	outR, outW, err := os.Pipe()
	require.NoError(t, err)
	inR, inW, err := os.Pipe()
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{envHelper + "=" + role, noRaceExitSleep()}, env...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, outW
	require.NoError(t, cmd.Start())
	outW.Close()
	inR.Close()
	p := &proc{t: t, cmd: cmd, stdin: inW, lines: make(chan string, 256), waited: make(chan struct{})}
	go p.read(outR)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		p.wait()
		inW.Close()
		if t.Failed() {
			t.Logf("%s output:\n%s", role, strings.Join(p.output(), "\n"))
		}
	})
	return p
}

// noRaceExitSleep stops a -race helper from sleeping 1s when it exits 0 (the race runtime's
// atexit_sleep_ms); the wrapper inherits it and passes it on to the child.
func noRaceExitSleep() string {
	return "GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")
}

func (p *proc) read(r *os.File) {
	defer r.Close()
	defer close(p.lines)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		p.mu.Lock()
		p.all = append(p.all, sc.Text())
		p.mu.Unlock()
		p.lines <- sc.Text()
	}
}

func (p *proc) output() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.all...)
}

// saw reports whether any output line so far contains s.
func (p *proc) saw(s string) bool {
	for _, line := range p.output() {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// await consumes lines until one contains want and returns it.
func (p *proc) await(want string) string {
	p.t.Helper()
	timeout := time.After(eventTimeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("output ended before a line containing %q", want)
			}
			if strings.Contains(line, want) {
				return line
			}
		case <-timeout:
			p.t.Fatalf("no line containing %q within %s", want, eventTimeout)
		}
	}
}

// awaitChildPid reads the child's "child-pid N" line and tracks that process: it is killed and,
// if it was reparented to the test process, reaped at cleanup.
func (p *proc) awaitChildPid() *os.Process {
	p.t.Helper()
	pid, err := strconv.Atoi(strings.TrimPrefix(p.await("child-pid "), "child-pid "))
	require.NoError(p.t, err)
	child, err := os.FindProcess(pid) // a pidfd on Linux: never signals a recycled pid
	require.NoError(p.t, err)
	p.t.Cleanup(func() {
		_ = child.Kill()
		_, _ = child.Wait() // ECHILD unless the test process adopted it
	})
	return child
}

func (p *proc) wait() error {
	p.waitOnce.Do(func() {
		go func() {
			p.waitErr = p.cmd.Wait()
			close(p.waited)
		}()
	})
	select {
	case <-p.waited:
		return p.waitErr
	case <-time.After(eventTimeout):
		return errors.New("helper did not exit in time")
	}
}

// exitCode waits for the helper and returns its shell-style exit code (128+signo on a signal).
func (p *proc) exitCode() int {
	p.t.Helper()
	err := p.wait()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		p.t.Fatalf("wait for helper: %v", err)
	}
	return shellCode(p.cmd.ProcessState)
}

func shellCode(state *os.ProcessState) int {
	if ws := state.Sys().(syscall.WaitStatus); ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return state.ExitCode()
}

// lockFree probes the app lock from the test process without blocking.
func lockFree(t *testing.T, dir string) bool {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|syscall.O_CLOEXEC, 0)
	require.NoError(t, err)
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return false
	}
	require.NoError(t, err)
	require.NoError(t, unix.Flock(int(f.Fd()), unix.LOCK_UN))
	return true
}

// teardownRuns counts the teardown marker's lines.
func teardownRuns(t *testing.T, marker string) int {
	t.Helper()
	b, err := os.ReadFile(marker)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	require.NoError(t, err)
	return strings.Count(string(b), "teardown\n")
}

// runFiles are one test's own lock dir and teardown marker.
type runFiles struct {
	lockDir string
	marker  string
}

func newRunFiles(t *testing.T) runFiles {
	return runFiles{lockDir: t.TempDir(), marker: filepath.Join(t.TempDir(), "teardown.marker")}
}

// env is the helper environment pointing at these files, plus extra.
func (r runFiles) env(extra ...string) []string {
	return append([]string{envLockDir + "=" + r.lockDir, envMarker + "=" + r.marker}, extra...)
}

// asDirectChild names the test process as the child's wrapper, so a child started directly by a
// test passes Enter's parent check.
func asDirectChild() string {
	return lifetime.EnvChild + "=" + strconv.Itoa(os.Getpid())
}
