package lifetime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// WrapOptions says what Wrap starts. Zero values mean: this binary (os.Executable), this
// process's arguments (os.Args[1:]), its environment (os.Environ()), its stdio, slog.Default().
type WrapOptions struct {
	Path   string
	Args   []string
	Env    []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Logger *slog.Logger
}

// Wrap re-executes the binary as the guarded child and waits for it. The child gets
// PDEATHSIG=SIGTERM, so it is told to tear down even when the wrapper is SIGKILLed. SIGTERM and
// SIGINT received by the wrapper, and the cancellation of ctx, are forwarded to the child as
// signals; the wrapper keeps waiting so the child's teardown can finish. It returns the
// child's exit code (128+signo when the child died of a signal). The error is non-nil when the
// child could not be started or waited for; the code is then -1.
func Wrap(ctx context.Context, w WrapOptions) (int, error) {
	log := w.Logger
	if log == nil {
		log = slog.Default()
	}
	cmd, err := w.command(os.Getpid())
	if err != nil {
		return -1, err
	}
	// Registered before the fork: a signal that arrives while the child starts is held in the
	// channel and forwarded, instead of killing the wrapper with the default action.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	started := make(chan error, 1)
	done := make(chan error, 1)
	go forkOnLockedThread(cmd, started, done)
	if err := <-started; err != nil {
		return -1, fmt.Errorf("start guarded child %s: %w", cmd.Path, err)
	}
	log.Info("guarded child started", "pid", cmd.Process.Pid, "path", cmd.Path)

	ctxDone := ctx.Done()
	for {
		select {
		case sig := <-sigs:
			forward(log, cmd.Process, sig)
		case <-ctxDone:
			ctxDone = nil // forward once; the child's own guards ignore repeats anyway
			forward(log, cmd.Process, syscall.SIGTERM)
		case err := <-done:
			return childExit(cmd.Path, cmd.ProcessState, err)
		}
	}
}

// forkOnLockedThread starts cmd and waits for it from one goroutine that never leaves its OS
// thread. PDEATHSIG fires when the *thread* that forked the child exits, not the process; an
// unlocked goroutine's thread may be reused by a goroutine that locks it and exits, which would
// kill a healthy child. The goroutine returns without unlocking, so its thread is destroyed
// only after the child has been reaped.
func forkOnLockedThread(cmd *exec.Cmd, started, done chan<- error) {
	runtime.LockOSThread()
	if err := cmd.Start(); err != nil {
		started <- err
		return
	}
	started <- nil
	done <- cmd.Wait()
}

// command builds the child's command line; wrapperPid goes into EnvChild.
func (w WrapOptions) command(wrapperPid int) (*exec.Cmd, error) {
	path := w.Path
	if path == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find own executable: %w", err)
		}
		path = exe
	}
	args := w.Args
	if args == nil {
		args = os.Args[1:]
	}
	env := w.Env
	if env == nil {
		env = os.Environ()
	}
	cmd := exec.Command(path, args...)
	cmd.Env = childEnv(env, wrapperPid)
	// *os.File stdio is handed to the child as the same descriptors, so the child keeps
	// writing to the Drone log after the wrapper is gone.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if w.Stdin != nil {
		cmd.Stdin = w.Stdin
	}
	if w.Stdout != nil {
		cmd.Stdout = w.Stdout
	}
	if w.Stderr != nil {
		cmd.Stderr = w.Stderr
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	return cmd, nil
}

// childEnv replaces any inherited EnvChild (a wrapper started from inside a guarded child must
// name itself, not its own parent) with the wrapper's pid.
func childEnv(env []string, wrapperPid int) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, EnvChild+"=") {
			out = append(out, kv)
		}
	}
	return append(out, EnvChild+"="+strconv.Itoa(wrapperPid))
}

func forward(log *slog.Logger, p *os.Process, sig os.Signal) {
	if err := p.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		log.Warn("forward signal to guarded child", "signal", sig.String(), "pid", p.Pid, "err", err)
		return
	}
	log.Info("forwarded signal to guarded child", "signal", sig.String(), "pid", p.Pid)
}

// childExit turns the result of Wait into the wrapper's exit code.
func childExit(path string, state *os.ProcessState, waitErr error) (int, error) {
	if state == nil {
		return -1, fmt.Errorf("wait for guarded child %s: %w", path, waitErr)
	}
	code := exitCode(state)
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		// The child ran and exited, but copying its stdio failed: keep its code, report both.
		return code, fmt.Errorf("guarded child %s: %w", path, waitErr)
	}
	return code, nil
}

// exitCode maps a wait status to a shell-style exit code: 128+signo for a signal death.
func exitCode(state *os.ProcessState) int {
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return state.ExitCode()
}
