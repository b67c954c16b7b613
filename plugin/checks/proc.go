package checks

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Defaults for an executable's run.
const (
	// DefaultExecTimeout bounds an executable whose Timeout is zero.
	DefaultExecTimeout = 5 * time.Minute
	// DefaultKillGrace is how long a stopped executable has between SIGTERM and SIGKILL.
	DefaultKillGrace = 5 * time.Second
	// drainDelay bounds how long output pipes may stay open after the process group is gone (a
	// process that left the group, with setsid, may hold them).
	drainDelay = 10 * time.Second
	// maxLine caps one output line; the rest of a longer line is dropped and the cut marked.
	maxLine = 16 << 10
	// lineSlack is read past maxLine before masking, so a secret straddling the cut is still
	// matched whole (and then cut), never half-shown.
	lineSlack = 4 << 10
	// tailLines and tailBytes bound the output tail kept for the failure excerpt.
	tailLines   = 40
	tailBytes   = 8 << 10
	tailLineLen = 500 // runes: one long line must not push the rest out of the excerpt
)

// procEnd is how a process ended.
type procEnd struct {
	waitErr error // from cmd.Wait: nil, or an *exec.ExitError
	stopped bool  // killed because ctx was done
}

// runProc starts cmd in its own process group and waits for it. When ctx is done first, the
// group gets SIGTERM, then SIGKILL after grace. Either way, once the lead process has exited,
// whatever is left in its group (background jobs, grandchildren) is SIGKILLed, before the lead
// is reaped: until then the group id cannot be reused, so the kill cannot reach a stranger.
func runProc(ctx context.Context, cmd *exec.Cmd, grace time.Duration) (procEnd, error) {
	// PDEATHSIG kills the child if cc-ci dies without a chance to stop it; it follows the thread
	// that forked the child, so that goroutine stays on its thread for the child's whole life.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	leadExited := make(chan struct{})
	reap := make(chan struct{})
	waited := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		waitExit(cmd.Process.Pid)
		close(leadExited)
		<-reap
		waited <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return procEnd{}, err
	}
	pgid := cmd.Process.Pid
	var end procEnd
	select {
	case <-leadExited:
	case <-ctx.Done():
		end.stopped = true
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		t := time.NewTimer(grace)
		select {
		case <-leadExited:
		case <-t.C:
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-leadExited
		}
		t.Stop()
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // ESRCH when nothing is left: fine
	close(reap)
	end.waitErr = <-waited
	return end, nil
}

// pPID is waitid's P_PID id type (<sys/wait.h>); the syscall package does not name it.
const pPID = 1

// waitExit blocks until pid has exited without reaping it (WNOWAIT), so its pid and process
// group id stay reserved until cmd.Wait. The syscall package has no Waitid; this is the raw call
// golang.org/x/sys/unix.Waitid makes.
func waitExit(pid int) {
	var info [128]byte // siginfo_t: filled by the kernel, not read
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid), uintptr(unsafe.Pointer(&info)),
			syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		if errno != syscall.EINTR {
			return
		}
	}
}

// exitDesc describes a process's end for a reason: "" for exit 0. waitFailed is true when the
// end is not known at all (cmd.Wait failed without an exit status).
func exitDesc(err error) (desc string, waitFailed bool) {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "", false
	case !errors.As(err, &ee):
		return "could not be waited for: " + err.Error(), true
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "was killed by signal " + ws.Signal().String(), false
	}
	return "exited with code " + strconv.Itoa(ee.ExitCode()), false
}

// logSink writes an executable's output lines to the Drone log, masked and prefixed, and keeps
// a masked tail for the failure excerpt. Both streams write through it, a whole line at a time.
type logSink struct {
	mu     sync.Mutex
	out    io.Writer
	outErr error
	mask   func(string) string
	tail   []string
	size   int
}

func (s *logSink) line(prefix, text string) {
	text = s.mask(text)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outErr == nil {
		// A failing log writer must not stall the executable: its output is still drained.
		_, s.outErr = io.WriteString(s.out, prefix+text+"\n")
	}
	text = clip(logText(text), tailLineLen)
	s.tail = append(s.tail, text)
	s.size += len(text) + 1
	for len(s.tail) > tailLines || (s.size > tailBytes && len(s.tail) > 1) {
		s.size -= len(s.tail[0]) + 1
		s.tail = s.tail[1:]
	}
}

func (s *logSink) excerpt() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := strings.Join(s.tail, "\n")
	if len(out) > tailBytes {
		out = clip(out[len(out)-tailBytes:], tailBytes)
	}
	return strings.ToValidUTF8(out, "\uFFFD")
}

// logText keeps a log line readable in an excerpt: terminal escapes dropped, control characters
// (but tabs) shown as spaces.
func logText(s string) string {
	s = ansi.ReplaceAllString(s, "")
	return strings.Map(func(r rune) rune {
		if r != '\t' && isControl(r) {
			return ' '
		}
		return r
	}, s)
}

// pump reads r line by line until EOF or a read error (the pipe closed under it), calling each
// with every line. A line longer than maxLine is cut: each gets its first maxLine+lineSlack bytes
// and cut=true, and the rest up to the newline is dropped.
func pump(r io.Reader, each func(line string, cut bool)) {
	br := bufio.NewReaderSize(r, maxLine+lineSlack)
	for {
		chunk, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			each(string(chunk), true)
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil {
				return
			}
		case err != nil:
			if len(chunk) > 0 {
				each(string(chunk), false)
			}
			return
		default:
			each(strings.TrimSuffix(string(chunk[:len(chunk)-1]), "\r"), false)
		}
	}
}

// cutLine is what the log shows of a line that was cut: its masked start, marked.
func cutLine(mask func(string) string, line string) string {
	masked := mask(line)
	if len(masked) > maxLine {
		masked = strings.ToValidUTF8(masked[:maxLine], "")
	}
	return masked + " …[line cut at " + strconv.Itoa(maxLine) + " bytes]"
}

// streams are an executable's stdout and stderr: our own pipes, not io.Writers, because cmd.Wait
// returns when the process exits while the pumps read until every holder of the pipes has closed
// them.
type streams struct {
	outR, outW, errR, errW *os.File
	done                   chan struct{} // closed when both pumps have ended
}

// openStreams makes the pipes, sets them as cmd's stdout and stderr, and starts a pump on each.
func openStreams(cmd *exec.Cmd, stdout, stderr func(line string, cut bool)) (*streams, error) {
	s := &streams{done: make(chan struct{})}
	var err error
	if s.outR, s.outW, err = os.Pipe(); err != nil {
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	if s.errR, s.errW, err = os.Pipe(); err != nil {
		_, _ = s.outR.Close(), s.outW.Close()
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	cmd.Stdout, cmd.Stderr = s.outW, s.errW
	go func() {
		defer close(s.done)
		errDone := make(chan struct{})
		go func() {
			defer close(errDone)
			pump(s.errR, stderr)
		}()
		pump(s.outR, stdout)
		<-errDone
	}()
	return s, nil
}

// started closes our copies of the write ends once the child holds its own (or never will).
func (s *streams) started() {
	_, _ = s.outW.Close(), s.errW.Close()
}

// drain waits for the pumps to finish; after drainDelay it closes the pipes under them.
func (s *streams) drain() {
	t := time.NewTimer(drainDelay)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		s.close()
		<-s.done
	}
}

// close closes the read ends (a second close is harmless).
func (s *streams) close() {
	_, _ = s.outR.Close(), s.errR.Close()
}
