package swarm

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

// snapshot is one reading of a stack's state.
type snapshot struct {
	services []swarm.Service
	tasks    map[string][]swarm.Task // by service ID
	// health maps the container IDs of running tasks to their Docker health status ("" or absent:
	// no healthcheck); only filled where readiness is judged.
	health map[string]string
	// nodes by ID: a task whose placement alone is out of date is current when its node satisfies
	// the new constraints (see currentSpec).
	nodes map[string]swarm.Node
}

// snapshot reads the stack's services (with the daemon's task counts), their tasks grouped by
// service ID, and the swarm's nodes. A stack without services is an empty snapshot, not an error.
func (c *Client) snapshot(ctx context.Context, stack string) (snapshot, error) {
	all, err := c.api.ServiceList(ctx, swarm.ServiceListOptions{Status: true})
	if err != nil {
		return snapshot{}, fmt.Errorf("list services: %w", err)
	}
	var snap snapshot
	f := filters.NewArgs()
	for _, s := range all {
		if owns(stack, s.Spec.Name, s.Spec.Labels) {
			snap.services = append(snap.services, s)
			f.Add("service", s.ID)
		}
	}
	if len(snap.services) == 0 {
		return snap, nil
	}
	list, err := c.api.TaskList(ctx, swarm.TaskListOptions{Filters: f})
	if err != nil {
		return snapshot{}, fmt.Errorf("list tasks: %w", err)
	}
	snap.tasks = map[string][]swarm.Task{}
	for _, t := range list {
		snap.tasks[t.ServiceID] = append(snap.tasks[t.ServiceID], t)
	}
	nodes, err := c.api.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		return snapshot{}, fmt.Errorf("list nodes: %w", err)
	}
	snap.nodes = map[string]swarm.Node{}
	for _, n := range nodes {
		snap.nodes[n.ID] = n
	}
	return snap, nil
}

// runningHealth returns the health of the containers of the running tasks (see snapshot.health).
func (c *Client) runningHealth(ctx context.Context, tasks map[string][]swarm.Task) map[string]string {
	health := map[string]string{}
	for _, list := range tasks {
		for _, t := range list {
			if id := containerID(t); id != "" && t.Status.State == swarm.TaskStateRunning {
				health[id] = c.containerHealth(ctx, id)
			}
		}
	}
	return health
}

// containerHealth is the Docker health status of a container, "" when it has no healthcheck,
// "unknown" when it cannot be inspected, and "not running" when the container has already exited
// although its task still reads running (the node reports task states to the manager with a lag:
// under load a container that crashed after 1.5 s still read running past the stability window,
// seen here). Any of the last two is not counted as ready.
func (c *Client) containerHealth(ctx context.Context, id string) string {
	info, err := c.api.ContainerInspect(ctx, id)
	if err != nil {
		return "unknown"
	}
	if info.State != nil && !info.State.Running {
		return "not running"
	}
	if info.State == nil || info.State.Health == nil {
		return ""
	}
	return string(info.State.Health.Status)
}
