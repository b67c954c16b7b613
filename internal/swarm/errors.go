package swarm

import (
	"fmt"
	"strings"
	"time"
)

// RollbackError means a service's update failed: swarm started (or finished) rolling it back, or
// paused it. The deployment did not take; waiting longer cannot change that.
//
// State is what swarm showed when the wait looked: usually rollback_started, but swarm can start
// and complete a rollback within the same millisecond (seen here when the only new task failed at
// once), so rollback_completed means the same failure.
type RollbackError struct {
	Service  string   // full service name, <stack>_<service>
	State    string   // UpdateStatus.State: rollback_started, rollback_paused, paused or rollback_completed
	Message  string   // UpdateStatus.Message from swarm
	TaskErr  string   // swarm's error for the newest task that failed since the wait began, if any (an OOM kill says so)
	LastLogs []string // last log lines of that task, if any
	// OOMKilled and MemoryLimit are as in CrashLoopError, for that task.
	OOMKilled   bool
	MemoryLimit int64
	// EngineFault names the engine bug that task hit ("" when none is known): the update failed
	// for the host's engine, not for the recipe.
	EngineFault string
}

func (e *RollbackError) Error() string {
	msg := fmt.Sprintf("service %s: update failed, swarm state %q: %s", e.Service, e.State, e.Message)
	if e.TaskErr != "" {
		msg += " (failed task: " + e.TaskErr + ")"
	}
	return msg
}

// CrashLoopError means a service's current tasks keep failing: enough of them failed or exited
// since the wait began that waiting out the timeout would only repeat it.
type CrashLoopError struct {
	Service  string   // full service name, <stack>_<service>
	Failures int      // failed tasks of the current spec counted since the wait began
	ExitCode int      // exit code of the most recent failed task (0 when it never ran, e.g. rejected)
	Err      string   // why the most recent failed task ended, e.g. "task: non-zero exit (1)" or "OOM-killed at 512 MiB (its memory limit); ..."
	LastLogs []string // last log lines (stdout and stderr interleaved) of the most recent failed task
	// OOMKilled is true when the kernel killed the most recent failed task's container for memory
	// (its State.OOMKilled: exit code 137 alone is any SIGKILL); MemoryLimit is the limit it was
	// killed at, in bytes (0: the service had none).
	OOMKilled   bool
	MemoryLimit int64
	// EngineFault names the engine bug every counted task hit ("" unless all of them did): the
	// tasks never got to run the recipe's code.
	EngineFault string
}

func (e *CrashLoopError) Error() string {
	return fmt.Sprintf("service %s is crash-looping: %d tasks failed since the wait began (last: exit code %d, %s)",
		e.Service, e.Failures, e.ExitCode, e.Err)
}

// TimeoutError means the stack did not converge before the timeout or the context ended. It wraps
// the context's error, so errors.Is(err, context.DeadlineExceeded) and context.Canceled work.
type TimeoutError struct {
	Stack    string
	Waited   time.Duration
	Services []string // one state line per service, e.g. "app 0/1: task state 'starting'"
	Cause    error
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("stack %s did not converge after %s: %s",
		e.Stack, e.Waited.Round(time.Second), strings.Join(e.Services, "; "))
}

// Unwrap returns the context error that ended the wait.
func (e *TimeoutError) Unwrap() error { return e.Cause }

// StabilityError means tasks of a stack that had converged ended badly afterwards: the app came up
// and then crashed (or was rejected, or exited) while it should have kept running.
type StabilityError struct {
	Failures []TaskFailure // oldest first
}

// stabilityLogLines is how many of a failure's last log lines its one-line summary shows; the
// Failures keep all of them.
const stabilityLogLines = 3

func (e *StabilityError) Error() string {
	parts := make([]string, 0, len(e.Failures))
	for _, f := range e.Failures {
		parts = append(parts, f.describe("task failed after converging"))
	}
	return strings.Join(parts, "; ")
}

// describe is the one-line account of f: what happened (what), how it ended and when, why, and
// its last few log lines.
func (f TaskFailure) describe(what string) string {
	how := fmt.Sprintf("exit %d", f.ExitCode)
	if f.State == "rejected" {
		how = "rejected"
	}
	msg := fmt.Sprintf("service %s: %s (%s at %s): %s", f.Service, what, how, f.At.UTC().Format(time.TimeOnly), f.Err)
	if logs := f.LastLogs; len(logs) > 0 {
		msg += "; last logs: " + strings.Join(logs[max(0, len(logs)-stabilityLogLines):], " | ")
	}
	return msg
}

// ImageError means a service's image could not be had: the node does not have it and pulling it
// failed. Unreachable tells whose fault that is. False: the registry answered that the image is
// not there for us (no such repository or tag, access denied, no build for this platform), which
// the recipe controls. True: the registry could not be reached or did not answer usefully (DNS,
// TCP, TLS, timeouts, rate limits, server errors, or an answer not recognised), a fault of this
// host or the registry, never proven to be the recipe's.
type ImageError struct {
	Service     string // full service name, <stack>_<service>
	Image       string // the image as the service names it
	Reason      string // the daemon's words: the registry's answer, or why it could not be asked
	Unreachable bool
}

func (e *ImageError) Error() string {
	if e.Unreachable {
		return fmt.Sprintf("service %s: image %s could not be pulled, for no reason the recipe controls "+
			"(the registry could not be reached or did not serve it): %s", e.Service, e.Image, e.Reason)
	}
	return fmt.Sprintf("service %s: image %s could not be pulled: the registry answered: %s", e.Service, e.Image, e.Reason)
}
