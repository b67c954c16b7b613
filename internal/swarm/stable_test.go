package swarm

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A redeploy whose new task cannot be scheduled, with order start-first, leaves the old task
// running beside its pending replacement. The old task differs from the new spec only in its
// resources, so it must not be counted: the wait must time out naming the pending task.
func TestRedeployThatCannotStartDoesNotConverge(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := newStack(t, c)
	compose := `version: "3.8"
services:
  app:
    image: ` + testImage + `
    command: ["serve"]
    deploy:
      update_config:
        order: start-first
      resources:
        reservations:
          memory: %s
`
	deployStack(t, stack, strings.Replace(compose, "%s", "10M", 1), nil)
	require.NoError(t, c.WaitConverged(t.Context(), stack, setupWait))

	since := time.Now()
	deployStack(t, stack, strings.Replace(compose, "%s", "1000G", 1), nil)
	err := c.WaitConverged(t.Context(), stack, WaitOptions{Timeout: 30 * time.Second, Since: since, Logger: testLogger(t)}) // long enough for a loaded swarm to have scheduled (and parked) the new task

	var to *TimeoutError
	require.ErrorAs(t, err, &to, "got %v", err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded))
	require.Len(t, to.Services, 1)
	line := to.Services[0]
	assert.Contains(t, line, "app 0/1: task state 'pending'", "the old task is not counted")
	assert.Contains(t, line, "no suitable node")
	assert.Contains(t, line, "1 task(s) of an older spec not yet replaced")
}

// Swarm keeps a task whose placement constraints alone changed when its node still satisfies them:
// the task then carries its old placement for good. That must converge at once, not time out.
func TestRedeployChangingOnlyConstraintsConvergesOnTheKeptTask(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := newStack(t, c)
	compose := `version: "3.8"
services:
  app:
    image: ` + testImage + `
    command: ["serve"]
    deploy:
      placement:
        constraints: ["%s"]
`
	deployStack(t, stack, strings.Replace(compose, "%s", "node.role == manager", 1), nil)
	require.NoError(t, c.WaitConverged(t.Context(), stack, setupWait))
	running := func() string {
		return strings.TrimSpace(docker(t, "", "", "service", "ps", "-q", "--filter", "desired-state=running", stack+"_app"))
	}
	before := running()

	since := time.Now()
	deployStack(t, stack, strings.Replace(compose, "%s", "node.role != worker", 1), nil)
	require.NoError(t, c.WaitConverged(t.Context(), stack, WaitOptions{Timeout: waitLimit, Since: since, Logger: testLogger(t)}))
	assert.Equal(t, before, running(), "swarm kept the task, so the wait converged on it")
}

// A task that crashes after the stack converged is restarted by swarm and would go unseen; the
// stability check must report it, and only it.
func TestTaskCrashingAfterConvergenceFailsCheckStable(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := newStack(t, c)
	deployStack(t, stack, `version: "3.8"
services:
  app:
    image: `+testImage+`
    command: ["crash", "8s"]
  steady:
    image: `+testImage+`
    command: ["serve"]
`, nil)
	conv, err := c.WaitConvergedReport(t.Context(), stack, WaitOptions{Timeout: waitLimit, StableFor: 5 * time.Second})
	require.NoError(t, err, "the app is up for 8 s, longer than the stability window")
	assert.Empty(t, conv.Restarts)
	converged := conv.At
	require.NoError(t, c.CheckStable(t.Context(), stack, converged), "nothing failed yet")

	failures := awaitFailures(t, c, stack, converged, 30*time.Second)
	err = c.CheckStable(t.Context(), stack, converged)
	var unstable *StabilityError
	require.ErrorAs(t, err, &unstable, "got %v", err)
	require.NotEmpty(t, unstable.Failures)
	for _, f := range unstable.Failures {
		assert.Equal(t, stack+"_app", f.Service, "the steady service never failed")
	}
	f := unstable.Failures[0]
	assert.Equal(t, failures[0].TaskID, f.TaskID)
	assert.Equal(t, "failed", f.State)
	assert.Equal(t, 1, f.ExitCode)
	assert.Contains(t, f.Err, "non-zero exit (1)")
	assert.False(t, f.At.Before(converged))
	assert.Contains(t, strings.Join(f.LastLogs, "\n"), "swarmtest: crashing on purpose (exit 1)")
	assert.Contains(t, err.Error(), "service "+stack+"_app: task failed after converging (exit 1 at ")

	later, err := c.FailuresSince(t.Context(), stack, f.At.Add(time.Millisecond))
	require.NoError(t, err)
	assert.NotNil(t, later)
	assert.Empty(t, later, "a failure before since is not reported")
}

// setupWait waits for a first deployment that is only the setup of a test; a short stability
// window keeps the package's test time down.
var setupWait = WaitOptions{Timeout: waitLimit, StableFor: time.Second}

// awaitFailures waits, on the stack's container events with a safety re-check, until
// FailuresSince reports a failure, and returns the failures.
func awaitFailures(t *testing.T, c *Client, stack string, since time.Time, timeout time.Duration) []TaskFailure {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	f, keep := containerEvents(stack)
	changed := c.watch(ctx, f, keep, testLogger(t))
	recheck := time.NewTicker(time.Second) // the task's state follows its container's death
	defer recheck.Stop()
	for {
		failures, err := c.FailuresSince(ctx, stack, since)
		require.NoError(t, err)
		if len(failures) > 0 {
			return failures
		}
		select {
		case <-ctx.Done():
			require.FailNow(t, "no task failure reported", "within %s", timeout)
		case <-changed:
		case <-recheck.C:
		}
	}
}
