package swarm

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// TaskFailure is one task of the stack's current spec that ended badly.
type TaskFailure struct {
	Service  string    // full service name, <stack>_<service>
	TaskID   string    // swarm task ID
	State    string    // task state: failed, rejected, or complete (for a service that should keep running)
	ExitCode int       // exit code of the task's container (0 when it never ran, e.g. rejected)
	Err      string    // why it ended: an OOM kill, the last healthcheck result of an unhealthy container, or swarm's error
	At       time.Time // when the task reached that state
	LastLogs []string  // last log lines of the task (stdout and stderr interleaved)
	// OOMKilled is true when the kernel killed the task's container for memory (the container's
	// State.OOMKilled, not a guess from exit code 137); MemoryLimit is the limit it was killed
	// at, in bytes (0: no limit).
	OOMKilled   bool
	MemoryLimit int64
	// EngineFault names the engine bug that kept the task from starting ("" when none is known):
	// such a task never ran the recipe's code.
	EngineFault string
}

// FailuresSince returns the tasks of the current spec of every service of stack that failed, were
// rejected, or exited (with a non-zero code, or at all for a service that is not a job) at or after
// since, oldest first; an empty slice when there are none. "At or after" is judged by the time the
// task reached that state (its status timestamp, which stays put once a task has ended), not by
// when the task was created: a task started before since that fails after it counts. Call it with
// Convergence.At to learn whether the app stayed up: a task that crashes after convergence is
// restarted by swarm and would otherwise go unseen, and a restart before convergence (reported in
// Convergence.Restarts) is not counted again. Swarm keeps only the last few tasks of each replica
// (task history retention), so the answer covers recent failures, not an unbounded past.
func (c *Client) FailuresSince(ctx context.Context, stack string, since time.Time) ([]TaskFailure, error) {
	if err := validStack(stack); err != nil {
		return nil, fmt.Errorf("failures of stack: %w", err)
	}
	snap, err := c.snapshot(ctx, stack)
	if err != nil {
		return nil, fmt.Errorf("failures of stack %s: %w", stack, err)
	}
	failures := []TaskFailure{}
	for _, svc := range snap.services {
		for _, t := range snap.tasks[svc.ID] {
			if failedSince(svc, t, since, snap.nodes) {
				failures = append(failures, c.taskFailure(ctx, svc, t))
			}
		}
	}
	slices.SortFunc(failures, func(a, b TaskFailure) int { return a.At.Compare(b.At) })
	return failures, nil
}

// CheckStable returns a *StabilityError when FailuresSince finds failures, nil when it finds none,
// and the error of FailuresSince when the stack cannot be read.
func (c *Client) CheckStable(ctx context.Context, stack string, since time.Time) error {
	failures, err := c.FailuresSince(ctx, stack, since)
	if err != nil {
		return err
	}
	if len(failures) > 0 {
		return &StabilityError{Failures: failures}
	}
	return nil
}

func (c *Client) taskFailure(ctx context.Context, svc swarm.Service, t swarm.Task) TaskFailure {
	cause := c.failureCause(ctx, t)
	f := TaskFailure{Service: svc.Spec.Name, TaskID: t.ID, State: string(t.Status.State), At: t.Status.Timestamp,
		Err: cause.text, OOMKilled: cause.oomKilled, MemoryLimit: cause.memoryLimit, LastLogs: c.lastLogs(ctx, t, logLines),
		EngineFault: engineFault(t.Status.Err)}
	if cs := t.Status.ContainerStatus; cs != nil {
		f.ExitCode = cs.ExitCode
	}
	return f
}
