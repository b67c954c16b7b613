package swarm

import (
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The ladder answers an update that failed for the engine (a container it never started) by
// deploying the same files once more. This proves what that relies on, on the real swarm: a
// redeploy of an unchanged compose file starts the failed update again, whether swarm paused it
// (failure_action pause, the default) or rolled it back. The new spec here fails its first start
// only ("once": its marker is on a volume), as a task the engine could not start would.
func TestARedeployOfTheSameFilesRetriesAFailedUpdate(t *testing.T) {
	t.Parallel()
	for _, action := range []string{"pause", "rollback"} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			c := newClient(t)
			stack := newStack(t, c)
			compose := `version: "3.8"
services:
  app:
    image: ` + testImage + `
    command: %s
    volumes: ["data:/data"]
    deploy:
      update_config:
        failure_action: ` + action + `
        monitor: 60s
      restart_policy:
        condition: any
        delay: 1s
volumes:
  data:
`
			deployStack(t, stack, strings.Replace(compose, "%s", `["serve"]`, 1), nil)
			require.NoError(t, c.WaitConverged(t.Context(), stack, WaitOptions{Timeout: waitLimit}))

			head := strings.Replace(compose, "%s", `["once", "/data/started"]`, 1)
			since := time.Now()
			deployStack(t, stack, head, nil)
			err := c.WaitConverged(t.Context(), stack, WaitOptions{Timeout: waitLimit, Since: since, Logger: testLogger(t)})
			var rb *RollbackError
			require.ErrorAs(t, err, &rb, "the first start of the new spec fails the update: got %v", err)

			since = time.Now()
			deployStack(t, stack, head, nil)
			require.NoError(t, c.WaitConverged(t.Context(), stack, WaitOptions{Timeout: waitLimit, Since: since, Logger: testLogger(t)}),
				"the same files deployed again converge: swarm retried the update")
			list, err := c.api.ServiceList(t.Context(), swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("name", stack+"_app"))})
			require.NoError(t, err)
			require.Len(t, list, 1)
			assert.Equal(t, []string{"once", "/data/started"}, list[0].Spec.TaskTemplate.ContainerSpec.Args, "the head's spec is the one running")
		})
	}
}
