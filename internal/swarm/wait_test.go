package swarm

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewFailsClearlyWithoutDaemon(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	c, err := New(t.Context())
	require.Error(t, err)
	assert.Nil(t, c)
	assert.Contains(t, err.Error(), "is dockerd running? run make docker-up")
}

func TestWaitConvergedHealthyStack(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := newStack(t, c)
	createUnlabelledSecret(t, stack+"_db_password_v1")
	start := time.Now()
	deployStack(t, stack, fullCompose, fullFiles)

	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(io.MultiWriter(&logs, t.Output()), nil))
	err := c.WaitConverged(t.Context(), stack, WaitOptions{Timeout: waitLimit, Logger: log})
	require.NoError(t, err, "progress:\n%s", logs.String())

	// Converged must mean running and healthy, not merely started.
	list, err := c.api.ContainerList(t.Context(), container.ListOptions{
		Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name="+stack+"_app"))})
	require.NoError(t, err)
	require.Len(t, list, 1)
	info, err := c.api.ContainerInspect(t.Context(), list[0].ID)
	require.NoError(t, err)
	require.NotNil(t, info.State.Health)
	assert.Equal(t, container.Healthy, info.State.Health.Status)
	assert.Contains(t, logs.String(), "converged=true")
	assert.NoError(t, c.CheckStable(t.Context(), stack, start), "no task of the healthy stack failed")

	residue, err := c.Residue(t.Context(), stack)
	require.NoError(t, err)
	residue.Containers = nil
	assert.Equal(t, fullObjects(stack), residue)
}

func TestCrashLoopFailsFast(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := newStack(t, c)
	deployStack(t, stack, `version: "3.8"
services:
  app:
    image: `+testImage+`
    command: ["crash"]
    deploy:
      restart_policy:
        condition: any
        delay: 1s
`, nil)

	start := time.Now()
	err := c.WaitConverged(t.Context(), stack, WaitOptions{Timeout: waitLimit})
	took := time.Since(start)
	t.Logf("crash loop detected after %s", took.Round(time.Millisecond))

	var crash *CrashLoopError
	require.ErrorAs(t, err, &crash)
	assert.Equal(t, stack+"_app", crash.Service)
	assert.GreaterOrEqual(t, crash.Failures, DefaultCrashThreshold)
	assert.Equal(t, 1, crash.ExitCode)
	assert.Contains(t, crash.Err, "non-zero exit (1)")
	logs := strings.Join(crash.LastLogs, "\n")
	assert.Contains(t, logs, "swarmtest: starting, about to crash", "stdout line")
	assert.Contains(t, logs, "swarmtest: crashing on purpose (exit 1)", "stderr line")
	assert.Contains(t, err.Error(), "crash-looping")
}

// A failed update with failure_action rollback must be reported as soon as swarm starts the
// rollback. Why RollbackError and not CrashLoopError: swarm's default restart delay is 5 s, and
// the updater reacts to the FIRST failed task of the new spec (within the monitor window) by
// starting the rollback, which also makes the failing spec non-current. So one new-spec failure
// exists when the rollback shows, fewer than the threshold of 3. Which rollback state is seen is
// swarm's timing, not ours: here it often emits rollback_started and rollback_completed 1 ms apart
// (the only new task had already failed, so there is nothing to wait for), and both mean failure.
// The monitor window is long (60 s) because swarm counts a failure only within it, measured from
// when the updater started the task: on a loaded box the container can take longer than a short
// window just to start, and swarm then calls the update completed and leaves a crash loop.
func TestUpdateRollbackFailsAtRollbackStarted(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := newStack(t, c)
	compose := `version: "3.8"
services:
  app:
    image: ` + testImage + `
    command: ["%s"]
    deploy:
      update_config:
        failure_action: rollback
        monitor: 60s
      restart_policy:
        condition: any
`
	deployStack(t, stack, strings.Replace(compose, "%s", "serve", 1), nil)
	require.NoError(t, c.WaitConverged(t.Context(), stack, WaitOptions{Timeout: waitLimit}))

	since := time.Now()
	deployStack(t, stack, strings.Replace(compose, "%s", "crash", 1), nil)
	start := time.Now()
	err := c.WaitConverged(t.Context(), stack, WaitOptions{Timeout: waitLimit, Since: since, Logger: testLogger(t)})
	t.Logf("rollback detected after %s", time.Since(start).Round(time.Millisecond))

	var rb *RollbackError
	require.ErrorAs(t, err, &rb, "got %v", err)
	assert.Equal(t, stack+"_app", rb.Service)
	assert.Contains(t, []string{"rollback_started", "rollback_completed"}, rb.State)
	assert.NotEmpty(t, rb.Message)
	assert.Contains(t, rb.TaskErr, "non-zero exit (1)", "the failed task of the new spec is the reason")
	assert.Contains(t, strings.Join(rb.LastLogs, "\n"), "crashing on purpose")
}

func TestUnschedulableServiceTimesOutWithStateSummary(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := newStack(t, c)
	deployStack(t, stack, `version: "3.8"
services:
  app:
    image: `+testImage+`
    command: ["serve"]
    deploy:
      placement:
        constraints: ["node.labels.ccci-never == true"]
`, nil)

	err := c.WaitConverged(t.Context(), stack, WaitOptions{Timeout: 20 * time.Second}) // long enough for a loaded swarm to have scheduled (and parked) the task
	var to *TimeoutError
	require.ErrorAs(t, err, &to)
	assert.True(t, errors.Is(err, context.DeadlineExceeded))
	require.Len(t, to.Services, 1)
	assert.Contains(t, to.Services[0], "app 0/1: task state 'pending'")
	assert.Contains(t, err.Error(), "did not converge")
}

func TestWaitConvergedOnMissingStackTimesOut(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := c.WaitConverged(ctx, "swt-000000_ci_absent", WaitOptions{})
	var to *TimeoutError
	require.ErrorAs(t, err, &to)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []string{"no services of the stack found"}, to.Services)
}

// A task that runs for a moment before it crashes is "running" in between; converging on such a
// moment would be a false green. The stability window must hold the wait until the crash loop
// shows.
func TestBrieflyRunningServiceIsACrashLoopNotConverged(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := newStack(t, c)
	deployStack(t, stack, `version: "3.8"
services:
  app:
    image: `+testImage+`
    command: ["crash", "1500ms"]
    deploy:
      restart_policy:
        condition: any
        delay: 1s
`, nil)

	err := c.WaitConverged(t.Context(), stack, WaitOptions{Timeout: waitLimit})
	var crash *CrashLoopError
	require.ErrorAs(t, err, &crash, "got %v", err)
	assert.Equal(t, 1, crash.ExitCode)
}

// testLogger shows the wait's debug log (evaluations, events) with the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// A container that never becomes healthy is killed by swarm and restarted; that is a crash loop
// too, and it must never count as converged while it runs.
func TestUnhealthyServiceFailsAsCrashLoop(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := newStack(t, c)
	deployStack(t, stack, `version: "3.8"
services:
  app:
    image: `+testImage+`
    command: ["serve"]
    environment:
      SWARMTEST_HEALTH: bad
    healthcheck:
      test: ["CMD", "/swarmtest", "probe"]
      interval: 1s
      timeout: 30s
      retries: 1
    deploy:
      restart_policy:
        condition: any
        delay: 1s
`, nil)

	err := c.WaitConverged(t.Context(), stack, WaitOptions{Timeout: waitLimit, Logger: testLogger(t)})
	var crash *CrashLoopError
	require.ErrorAs(t, err, &crash, "got %v", err)
	assert.Contains(t, crash.Err, "container unhealthy")
	assert.Contains(t, crash.Err, "probe: status 500", "the healthcheck's own output is the reason")
}
