package swarm

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Swarm ignores depends_on, so an app that starts before its database exits once and is
// restarted. That restart is reported, not failed: CheckStable from Convergence.At passes. A task
// that fails after convergence still fails it, and the boot-time restart is not counted again.
func TestOneRestartBeforeConvergenceIsReportedNotFailed(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := newStack(t, c)
	since := time.Now()
	deployStack(t, stack, `version: "3.8"
services:
  app:
    image: `+testImage+`
    command: ["once", "/data/started"]
    volumes: ["data:/data"]
    deploy:
      restart_policy:
        condition: any
        delay: 1s
volumes:
  data:
`, nil)

	conv, err := c.WaitConvergedReport(t.Context(), stack, WaitOptions{Timeout: waitLimit, Since: since, Logger: testLogger(t)})
	require.NoError(t, err, "one restart is below the crash threshold")
	require.Len(t, conv.Restarts, 1, "the boot-time exit is reported")
	boot := conv.Restarts[0]
	assert.Equal(t, stack+"_app", boot.Service)
	assert.Equal(t, "failed", boot.State)
	assert.Equal(t, 1, boot.ExitCode)
	assert.Contains(t, boot.Err, "non-zero exit (1)")
	assert.Contains(t, strings.Join(boot.LastLogs, "\n"), "swarmtest: first start, database not ready yet (exit 1)")
	assert.True(t, boot.At.Before(conv.At), "At lies after every reported restart")
	assert.False(t, conv.At.Before(since), "At never lies before the deploy")
	require.Len(t, conv.Warnings(), 1)
	assert.Contains(t, conv.Warnings()[0], "service "+stack+"_app: task failed before the stack converged, swarm restarted it (exit 1 at ")

	require.NoError(t, c.CheckStable(t.Context(), stack, conv.At), "the boot-time restart is not a failure after convergence")
	var unstable *StabilityError
	require.ErrorAs(t, c.CheckStable(t.Context(), stack, since), &unstable,
		"from the deploy's start (what the ladder passed before) the boot-time restart counts")

	// Now the app fails once after convergence: its container is killed (SIGKILL, exit 137).
	id := strings.TrimSpace(docker(t, "", "", "ps", "-q", "--filter", "status=running",
		"--filter", "label=com.docker.swarm.service.name="+stack+"_app"))
	require.NotEmpty(t, id)
	docker(t, "", "", "kill", id)
	awaitFailures(t, c, stack, conv.At, 30*time.Second)
	err = c.CheckStable(t.Context(), stack, conv.At)
	require.ErrorAs(t, err, &unstable, "got %v", err)
	require.Len(t, unstable.Failures, 1, "only the failure after convergence: %v", err)
	after := unstable.Failures[0]
	assert.NotEqual(t, boot.TaskID, after.TaskID)
	assert.Equal(t, 137, after.ExitCode)
	assert.False(t, after.OOMKilled, "exit 137 from docker kill is a SIGKILL, not an OOM kill")
	assert.NotContains(t, after.Err, "OOM")
	assert.Contains(t, err.Error(), "service "+stack+"_app: task failed after converging (exit 137 at ")
}
