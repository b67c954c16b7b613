package abra

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// drainTimeout bounds reading the terminal after abra's process group is gone. Only a process
// that left the group (setsid) can still hold the terminal open; its output is not waited for.
const drainTimeout = 2 * time.Second

// winsize is wide so abra's tables are not wrapped in the log.
var winsize = pty.Winsize{Rows: 50, Cols: 200}

// Run runs abra with args under a pseudo-terminal (abra wants a TTY even with --no-input). It
// streams the output, masked, to Out while capturing it, and on timeout or ctx cancel sends
// SIGTERM, then SIGKILL after KillGrace, to abra's whole process group. When abra fails, the
// error is an *Error, and Result still holds the output and duration.
func (c *Client) Run(ctx context.Context, args ...string) (Result, error) {
	return c.runTo(ctx, c.Out, args)
}

// runTo is Run with the output going to out instead of c.Out.
func (c *Client) runTo(ctx context.Context, out io.Writer, args []string) (Result, error) {
	bin, err := c.check(args)
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("abra %s: %w", c.Masker.Mask(strings.Join(args, " ")), err)
	}
	key := subcommand(args)
	ctx, cancel := context.WithTimeout(ctx, c.timeout(key))
	defer cancel()

	if out == nil {
		out = io.Discard
	}
	line := c.Masker.Mask("abra " + strings.Join(args, " "))
	// The echo goes to the log only: Output is what abra printed.
	_, _ = fmt.Fprintf(out, "+ %s\n", line)
	sink := &sink{out: out}
	masked := c.Masker.Writer(sink)

	// Not exec.CommandContext: it would SIGKILL abra alone and leave its children running.
	cmd := exec.Command(bin, args...)
	cmd.Env = c.Env
	cmd.Dir = c.Dir
	log := c.logger().With("cmd", line)
	log.Debug("abra starting")
	start := time.Now()
	runErr := c.execute(ctx, cmd, masked)
	elapsed := time.Since(start)
	_ = masked.Close() // sink never fails; a broken Out is reported below
	res := Result{Output: sink.captured.String(), Duration: elapsed}
	if !errors.Is(runErr, errNotStarted) {
		c.record(key, elapsed)
	}
	if sink.outErr != nil {
		log.Warn("abra output could not be streamed", "err", sink.outErr)
	}
	if runErr == nil {
		log.Info("abra done", "duration", elapsed)
		return res, nil
	}
	if errors.Is(runErr, errNotStarted) {
		return res, fmt.Errorf("abra %s: %w", line, runErr)
	}
	e := newError(c.Masker, args, runErr, res)
	log.Warn("abra failed", "duration", elapsed, "exit_code", e.ExitCode, "timeout", e.Timeout)
	return res, e
}

// newError describes a call that ran and failed.
func newError(m *Masker, args []string, runErr error, res Result) *Error {
	e := &Error{
		Args:     make([]string, len(args)),
		ExitCode: -1,
		Output:   tail(res.Output, tailLines),
		Timeout:  errors.Is(runErr, context.DeadlineExceeded),
		Err:      runErr,
		elapsed:  res.Duration,
	}
	for i, a := range args {
		e.Args[i] = m.Mask(a)
	}
	if ee, ok := errors.AsType[*exec.ExitError](runErr); ok {
		e.ExitCode = ee.ExitCode()
	}
	return e
}

// check refuses a call that cannot run, before anything starts.
func (c *Client) check(args []string) (string, error) {
	if len(args) == 0 {
		return "", errors.New("run abra: no arguments")
	}
	for i, a := range args {
		if a == "" {
			return "", fmt.Errorf("run abra %s: argument %d is empty",
				c.Masker.Mask(strings.Join(args, " ")), i+1)
		}
	}
	if dir, _ := envValue(c.Env, "ABRA_DIR"); dir == "" {
		return "", fmt.Errorf("run abra %s: %w in the client's environment: give each run its own "+
			"abra dir", subcommand(args), ErrNoAbraDir)
	}
	return c.binary()
}

var errNotStarted = errors.New("could not start")

// execute runs cmd to the end, copying its terminal to out. It returns nil, the
// *exec.ExitError, the context's error when abra was killed for it, or an errNotStarted error.
func (c *Client) execute(ctx context.Context, cmd *exec.Cmd, out io.Writer) error {
	term, err := startPTY(cmd)
	if err != nil {
		return fmt.Errorf("%w: %w", errNotStarted, err)
	}
	defer term.Close()
	pid := cmd.Process.Pid
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(out, term)
		copied <- err
	}()
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		waitExit(pid)
	}()

	var killed error
	select {
	case <-exited:
	case <-ctx.Done():
		killed = ctx.Err()
		c.stop(pid, exited)
	}
	// Abra is a zombie now, so its process-group id cannot have been reused: sweep whatever
	// it left behind before reaping it.
	_ = unix.Kill(-pid, unix.SIGKILL)
	waitErr := cmd.Wait()

	if err := term.SetReadDeadline(time.Now().Add(drainTimeout)); err != nil {
		_ = term.Close() // also ends a pending Read, as the descriptor is in the poller
	}
	switch err := <-copied; {
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, os.ErrClosed):
		c.logger().Warn("a process that left abra's process group kept its terminal open; " +
			"its later output is dropped")
	case err != nil && !errors.Is(err, syscall.EIO):
		// EIO is the normal end: every process holding the terminal has closed it.
		c.logger().Warn("abra's output was cut short", "err", err)
	}
	if killed != nil {
		return killed
	}
	return waitErr
}

// stop sends SIGTERM to the group, then SIGKILL once the grace is over.
func (c *Client) stop(pid int, exited <-chan struct{}) {
	_ = unix.Kill(-pid, unix.SIGTERM)
	grace := time.NewTimer(c.killGrace())
	defer grace.Stop()
	select {
	case <-exited:
	case <-grace.C:
		_ = unix.Kill(-pid, unix.SIGKILL)
		<-exited
	}
}

// startPTY starts cmd in its own session on a new terminal and returns the terminal's master.
// pty hands back a blocking descriptor, whose Read no deadline can interrupt; a non-blocking
// duplicate goes through Go's poller, so draining can always be bounded.
func startPTY(cmd *exec.Cmd) (*os.File, error) {
	master, err := pty.StartWithSize(cmd, &winsize)
	if err != nil {
		return nil, err
	}
	fd, err := unix.FcntlInt(master.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	_ = master.Close()
	if err != nil {
		_ = unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
		_ = cmd.Wait()
		return nil, fmt.Errorf("duplicate the terminal: %w", err)
	}
	return os.NewFile(uintptr(fd), master.Name()), nil
}

// waitExit blocks until pid has exited, without reaping it (WNOWAIT), so the pid and its
// process-group id stay reserved until cmd.Wait.
func waitExit(pid int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

// sink captures everything and streams to out, and keeps accepting output when out fails: a
// stalled reader would block abra on a full terminal.
type sink struct {
	out      io.Writer
	outErr   error
	captured bytes.Buffer
}

func (s *sink) Write(p []byte) (int, error) {
	s.captured.Write(p)
	if s.outErr == nil {
		if _, err := s.out.Write(p); err != nil {
			s.outErr = err
		}
	}
	return len(p), nil
}
