package abra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Defaults for a Client's zero fields.
const (
	DefaultTimeout   = 15 * time.Minute
	DefaultKillGrace = 5 * time.Second
	// tailLines is how much output an Error keeps for the summary; the full log is in Out.
	tailLines = 40
)

// ErrNotFound means the abra binary could not be found. The plugin reports it as an
// infrastructure failure (verdict unverified), not as a failing recipe.
var ErrNotFound = errors.New("abra not found")

// ErrNoAbraDir means the client's environment has no ABRA_DIR. Without it abra would use
// ~/.abra and runs would share recipe checkouts (DESIGN.md 4.2).
var ErrNoAbraDir = errors.New("ABRA_DIR is not set")

// Client runs abra. Set the fields before the first call and do not change them afterwards.
type Client struct {
	// Bin is the abra binary: a path, or a name looked up on Env's PATH. Default "abra".
	Bin string
	// Env is abra's whole environment. It must set ABRA_DIR.
	Env []string
	// Dir is abra's working directory; empty means the current one.
	Dir string
	// Out receives abra's output as it arrives (the Drone log), secrets masked. Nil discards.
	Out io.Writer
	// Masker holds the secret values to mask. Nil masks nothing.
	Masker *Masker
	// Timeout bounds each call (DefaultTimeout when zero); a shorter ctx deadline still wins.
	Timeout time.Duration
	// Timeouts overrides Timeout per subcommand, keyed like Calls (e.g. CmdAppDeploy).
	Timeouts map[string]time.Duration
	// KillGrace is how long abra gets between SIGTERM and SIGKILL (DefaultKillGrace when zero).
	KillGrace time.Duration
	// Logger receives one record per call. Nil discards.
	Logger *slog.Logger

	mu     sync.Mutex
	calls  map[string]int
	inside time.Duration
}

// Result is what a successful call produced.
type Result struct {
	// Output is everything abra printed, secrets masked, with "\n" line ends.
	Output string
	// Duration is the time from start until abra and its process group were gone.
	Duration time.Duration
}

// Error is a failed abra call.
type Error struct {
	// Args is the command line without the binary, secrets masked.
	Args []string
	// ExitCode is abra's exit status, or -1 when a signal ended it.
	ExitCode int
	// Output is the last lines abra printed, secrets masked.
	Output string
	// Timeout is true when the deadline ran out and abra was killed.
	Timeout bool
	// Err is the cause: the *exec.ExitError, or the context's error.
	Err error
	// elapsed is how long abra ran, for the message.
	elapsed time.Duration
}

func (e *Error) Error() string {
	cmd := "abra " + strings.Join(e.Args, " ")
	var msg string
	switch {
	case e.Timeout:
		msg = fmt.Sprintf("%s: timed out after %s", cmd, e.elapsed.Round(time.Millisecond))
	case errors.Is(e.Err, context.Canceled):
		msg = fmt.Sprintf("%s: %v", cmd, e.Err)
	case e.ExitCode >= 0:
		msg = fmt.Sprintf("%s: exit code %d", cmd, e.ExitCode)
	default:
		msg = fmt.Sprintf("%s: %v", cmd, e.Err)
	}
	if last := lastLine(e.Output); last != "" {
		msg += ": " + last
	}
	return msg
}

// Unwrap returns the cause, so errors.Is(err, context.DeadlineExceeded) works.
func (e *Error) Unwrap() error { return e.Err }

// Calls returns how many times each subcommand was started, keyed like CmdAppNew.
func (c *Client) Calls() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.calls))
	for k, n := range c.calls {
		out[k] = n
	}
	return out
}

// TimeInside returns the total time spent running abra, to tell abra's time from cc-ci's own.
func (c *Client) TimeInside() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inside
}

func (c *Client) record(key string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[key]++
	c.inside += d
}

func (c *Client) timeout(key string) time.Duration {
	if d := c.Timeouts[key]; d > 0 {
		return d
	}
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Client) killGrace() time.Duration {
	if c.KillGrace > 0 {
		return c.KillGrace
	}
	return DefaultKillGrace
}

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// binary resolves Bin on the PATH abra itself will get (Env's), not on ours.
func (c *Client) binary() (string, error) {
	name := c.Bin
	if name == "" {
		name = "abra"
	}
	if strings.ContainsRune(name, '/') {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("%w at %s: install abra there, or set the path to it: %w",
				ErrNotFound, name, err)
		}
		return p, nil
	}
	path, ok := envValue(c.Env, "PATH")
	if !ok {
		path = os.Getenv("PATH")
	}
	for _, dir := range filepath.SplitList(path) {
		// Relative PATH entries would resolve against Dir; never run a binary found that way.
		if !filepath.IsAbs(dir) {
			continue
		}
		if p, err := exec.LookPath(filepath.Join(dir, name)); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %q is not on PATH %q: install abra "+
		"(https://docs.coopcloud.tech/abra/install/), or put it on PATH", ErrNotFound, name, path)
}

// envValue returns the last value of key in env, as exec and the C library would see it.
func envValue(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
