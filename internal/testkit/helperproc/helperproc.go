// Package helperproc runs helper processes for the real-kernel test suites: re-executions of the
// test binary (its TestMain switches on an env var) that hold real locks or install real guards.
// Each runs in its own process group, its stdout arrives line by line, its stdin stays open until
// the test closes it, and cleanup kills the whole group and reaps the helper.
package helperproc

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Command returns a command that re-executes the test binary with env added (the helper's mode
// and inputs), in its own process group, with stderr passed through.
func Command(t testing.TB, ctx context.Context, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(),
		// Under -race a binary sleeps 1s at exit by default; helpers need not.
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	// Own process group, so cleanup can kill the helper and its grandchildren at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// Proc is a started helper.
type Proc struct {
	Cmd *exec.Cmd
	// Stdin is open until cleanup unless the test closes it: a helper may hold until EOF.
	Stdin io.WriteCloser
	lines chan string

	waitOnce sync.Once
	waitErr  error
}

// Start starts cmd and registers killing its process group and reaping it.
func Start(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	// Our own pipe rather than StdoutPipe, so Wait never races the reader.
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stdout = pw
	require.NoError(t, cmd.Start())
	require.NoError(t, pw.Close())
	p := &Proc{Cmd: cmd, Stdin: stdin, lines: make(chan string, 64)}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		p.Stop()
		_ = pr.Close()
	})
	return p
}

// Next returns the helper's next stdout line, failing the test if it exits or stays silent for
// timeout.
func (p *Proc) Next(t testing.TB, timeout time.Duration) string {
	t.Helper()
	select {
	case line, ok := <-p.lines:
		if !ok {
			require.FailNow(t, "helper exited before printing the expected line", "exit: %v", p.Wait())
		}
		return line
	case <-time.After(timeout):
		require.FailNow(t, "timed out waiting for a line from the helper")
		return ""
	}
}

// Pid is the helper's pid (and process group id).
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Wait reaps the helper once and returns its exit error every time.
func (p *Proc) Wait() error {
	p.waitOnce.Do(func() { p.waitErr = p.Cmd.Wait() })
	return p.waitErr
}

// Kill SIGKILLs only the helper (not its group: a run killed by Drone), reaps it, and requires
// that it died of SIGKILL.
func (p *Proc) Kill(t testing.TB) {
	t.Helper()
	require.NoError(t, unix.Kill(p.Pid(), unix.SIGKILL))
	var exitErr *exec.ExitError
	require.True(t, errors.As(p.Wait(), &exitErr), "helper was killed")
	ws, ok := exitErr.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	require.Equal(t, syscall.SIGKILL, ws.Signal(), "helper died of SIGKILL")
}

// Stop kills the helper's whole process group and reaps the helper; safe to call again.
func (p *Proc) Stop() {
	_ = unix.Kill(-p.Pid(), unix.SIGKILL) // ESRCH: already gone
	_ = p.Wait()                          // an error is expected: it was killed
}
