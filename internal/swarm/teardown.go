package swarm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

const (
	// containersGoneWithin bounds the wait for swarm to stop and remove the task containers of
	// removed services; what is left after it is force-removed.
	containersGoneWithin = 60 * time.Second
	// containersRecheck is the safety net under the container event stream.
	containersRecheck = time.Second
	// busyRetryFor and busyRetryEvery: a network keeps its endpoints for a moment after its last
	// container is gone, and no event says when they are released, so removal is retried briefly.
	busyRetryFor   = 20 * time.Second
	busyRetryEvery = 250 * time.Millisecond
)

// TeardownReport names objects of one stack, by kind: what Teardown removed, or what Residue found.
type TeardownReport struct {
	Services   []string
	Containers []string // Teardown: force-removed leftovers; Residue: containers still present
	Volumes    []string
	Secrets    []string
	Configs    []string
	Networks   []string
	EnvRemoved bool // Teardown removed the app's .env file
}

// Empty reports whether the report names nothing at all.
func (r TeardownReport) Empty() bool {
	return len(r.Services) == 0 && len(r.Containers) == 0 && len(r.Volumes) == 0 &&
		len(r.Secrets) == 0 && len(r.Configs) == 0 && len(r.Networks) == 0 && !r.EnvRemoved
}

// Teardown removes one app: its services, then (once swarm has removed their containers) its
// secrets, configs, volumes and networks (see the package doc for which objects are the stack's),
// and the app's .env file at envPath when envPath is not empty (a missing file is fine). Images are
// never removed. It goes on past failures, returning every one joined, each naming its object.
// Idempotent: on a stack with nothing left it removes nothing and returns an Empty report and nil.
//
// Secrets go before volumes and networks because abra's secrets may carry no namespace label:
// should a teardown be cut short, what remains is then more likely labelled, so Stacks (and the
// janitor) still find the stack.
func (c *Client) Teardown(ctx context.Context, stack, envPath string) (TeardownReport, error) {
	if err := validStack(stack); err != nil {
		return TeardownReport{}, fmt.Errorf("teardown: %w", err)
	}
	var r TeardownReport
	var errs []error
	keep := func(removed []string, err error) []string {
		if err != nil {
			errs = append(errs, err)
		}
		return removed
	}
	svcs, err := c.services(ctx, stack)
	keep(nil, err)
	r.Services = keep(c.removeAll(ctx, stack, "service", c.services, c.api.ServiceRemove))
	if len(svcs) > 0 {
		// A task swarm was still starting when its service was removed creates its container
		// after the removal (seen with several teardowns at once): wait for the removed
		// services' tasks to be gone before judging the containers, or a late one holds the
		// volumes.
		keep(nil, c.awaitTasksGone(ctx, svcs))
	}
	r.Containers = keep(c.clearContainers(ctx, stack, len(r.Services) > 0))
	r.Secrets = keep(c.removeAll(ctx, stack, "secret", c.secrets, c.api.SecretRemove))
	r.Configs = keep(c.removeAll(ctx, stack, "config", c.configs, c.api.ConfigRemove))
	r.Volumes = keep(c.removeAll(ctx, stack, "volume", c.volumes, func(ctx context.Context, id string) error {
		return c.api.VolumeRemove(ctx, id, false)
	}))
	r.Networks = keep(c.removeAll(ctx, stack, "network", c.networks, c.api.NetworkRemove))
	if len(r.Networks) > 0 {
		keep(nil, c.networksGone(ctx, stack))
	}
	if envPath != "" {
		switch err := os.Remove(envPath); {
		case err == nil:
			r.EnvRemoved = true
		case errors.Is(err, fs.ErrNotExist):
		default:
			errs = append(errs, fmt.Errorf("remove env file %s: %w", envPath, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return r, fmt.Errorf("teardown of stack %s: %w", stack, err)
	}
	return r, nil
}

// removeAll removes every object list finds, returning the names removed. An object that is gone
// by the time it is removed (another teardown got there first) is neither an error nor reported.
func (c *Client) removeAll(ctx context.Context, stack, kind string, list lister,
	remove func(context.Context, string) error) ([]string, error) {
	objs, err := list(ctx, stack)
	if err != nil {
		return nil, fmt.Errorf("%ss: %w", kind, err)
	}
	var removed []string
	var errs []error
	for _, o := range objs {
		switch err := removeBusy(ctx, remove, o.id); {
		case err == nil:
			removed = append(removed, o.name)
		case cerrdefs.IsNotFound(err):
		default:
			errs = append(errs, fmt.Errorf("remove %s %s: %w", kind, o.name, err))
		}
	}
	return removed, errors.Join(errs...)
}

// removeBusy retries a removal the daemon refuses because the object is still in use (409) or
// has active endpoints (403), for at most busyRetryFor.
func removeBusy(ctx context.Context, remove func(context.Context, string) error, id string) error {
	deadline := time.Now().Add(busyRetryFor)
	for {
		err := remove(ctx, id)
		if err == nil || !(cerrdefs.IsConflict(err) || cerrdefs.IsPermissionDenied(err)) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(busyRetryEvery):
		}
	}
}

// clearContainers waits (when services were just removed) for swarm to remove the stack's task
// containers, following container events, so their volumes are free; whatever is still there after
// containersGoneWithin is force-removed and returned.
func (c *Client) clearContainers(ctx context.Context, stack string, servicesRemoved bool) ([]string, error) {
	if servicesRemoved {
		if err := c.awaitContainersGone(ctx, stack); err != nil {
			return nil, err
		}
	}
	return c.removeAll(ctx, stack, "container", c.containers, func(ctx context.Context, id string) error {
		return c.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true})
	})
}

// awaitTasksGone waits (at most containersGoneWithin) until swarm has deleted every task of the
// removed services svcs. Tasks are listed unfiltered and matched by service ID: the API's service
// filter looks the service up, which fails once it is removed.
func (c *Client) awaitTasksGone(ctx context.Context, svcs []named) error {
	ids := make(map[string]bool, len(svcs))
	for _, s := range svcs {
		ids[s.id] = true
	}
	f := filters.NewArgs(filters.Arg("type", string(events.ContainerEventType)))
	return c.awaitNone(ctx, "tasks of removed services", containersGoneWithin, f, anyEvent, func(ctx context.Context) (int, error) {
		tasks, err := c.api.TaskList(ctx, swarm.TaskListOptions{})
		left := 0
		for _, t := range tasks {
			if ids[t.ServiceID] {
				left++
			}
		}
		return left, err
	})
}

// awaitContainersGone waits (at most containersGoneWithin) until the stack has no containers
// left; the caller then force-removes the rest.
func (c *Client) awaitContainersGone(ctx context.Context, stack string) error {
	f, keep := containerEvents(stack)
	return c.awaitNone(ctx, "containers of stack "+stack, containersGoneWithin, f, keep, c.counter(stack, c.containers))
}

// networksGone waits (at most busyRetryFor) until none of stack's networks is listed any more:
// swarm deletes an overlay network asynchronously after NetworkRemove has returned (seen here
// under load: both apps' networks were still listed right after a successful removal). What is
// still there afterwards is left for Residue to report.
func (c *Client) networksGone(ctx context.Context, stack string) error {
	f := filters.NewArgs(filters.Arg("type", string(events.NetworkEventType)))
	return c.awaitNone(ctx, "networks of stack "+stack, busyRetryFor, f, anyEvent, c.counter(stack, c.networks))
}

// awaitNone waits until count finds nothing left, re-evaluating on every event that f and keep
// select and every containersRecheck as a safety net. It returns nil when nothing is left or
// when within has passed (what is left is then the caller's to handle), and an error only when
// ctx ends or counting fails.
func (c *Client) awaitNone(ctx context.Context, what string, within time.Duration, f filters.Args,
	keep func(events.Message) bool, count func(context.Context) (int, error)) error {
	wctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	changed := c.watch(wctx, f, keep, slog.New(slog.DiscardHandler))
	ticker := time.NewTicker(containersRecheck)
	defer ticker.Stop()
	for {
		left, err := count(wctx)
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("wait for %s to go: %w", what, ctx.Err())
		case wctx.Err() != nil:
			return nil
		case err != nil:
			return fmt.Errorf("wait for %s to go: %w", what, err)
		case left == 0:
			return nil
		}
		select {
		case <-wctx.Done():
		case <-changed:
		case <-ticker.C:
		}
	}
}

// counter counts the stack's objects of one kind, for awaitNone.
func (c *Client) counter(stack string, list lister) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		objs, err := list(ctx, stack)
		return len(objs), err
	}
}

func anyEvent(events.Message) bool { return true }
