package swarm

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

// failureCause is why a task ended: the sentence for messages, and whether the kernel killed its
// container for memory, with the memory limit it was killed at.
type failureCause struct {
	text        string
	oomKilled   bool
	memoryLimit int64 // bytes; 0 when the container had no memory limit
}

// failureCause says why a task ended. It inspects the task's container (swarm keeps the
// containers of recent tasks, up to the task history limit): an OOM kill is the cause worth naming
// first, then an unhealthy container (swarm stops one like any other, and the task may even end
// "complete", exit 0), then swarm's own error. Exit code 137 alone proves nothing: any SIGKILL
// (docker kill, a stop timeout) gives it; only the container's State.OOMKilled, which the daemon
// sets from the cgroup's OOM event, does.
func (c *Client) failureCause(ctx context.Context, t swarm.Task) failureCause {
	info := c.inspectEnded(ctx, containerID(t))
	if info != nil && info.State != nil && info.State.OOMKilled {
		limit := memoryLimit(info, t)
		return failureCause{text: oomText(limit) + "; " + swarmReason(t), oomKilled: true, memoryLimit: limit}
	}
	if info != nil && info.State != nil && info.State.Health != nil && info.State.Health.Status == "unhealthy" {
		msg := "container unhealthy"
		if l := info.State.Health.Log; len(l) > 0 {
			last := l[len(l)-1]
			msg += fmt.Sprintf("; last healthcheck exit %d: %s", last.ExitCode, strings.TrimSpace(last.Output))
		}
		return failureCause{text: msg}
	}
	return failureCause{text: swarmReason(t)}
}

// oomEventGrace is how long after a container died its OOM event may still be on its way. The
// daemon handles containerd's exit and OOM events one by one and sets State.OOMKilled only when it
// handles the OOM one, which was seen arriving 1.3 s after the die on a quiet box and more than
// 5 s after it on a loaded one (the kill was then reported as a plain exit 137). Only a SIGKILLed
// container not yet marked OOMKilled waits, so the wait costs nothing in the usual case.
const oomEventGrace = 20 * time.Second

// sigkillExit is the exit code of a process killed by SIGKILL, which is how the kernel's OOM
// killer ends it (and also how docker kill and a stop timeout do).
const sigkillExit = 137

// inspectEnded inspects the ended container id (nil when there is none or it is gone). A container
// killed by SIGKILL and not (yet) marked OOMKilled is inspected again once its OOM event has come,
// awaited until oomEventGrace after its death, so an OOM kill is not missed for being seen early.
func (c *Client) inspectEnded(ctx context.Context, id string) *container.InspectResponse {
	if id == "" {
		return nil
	}
	info, err := c.api.ContainerInspect(ctx, id)
	if err != nil || info.State == nil {
		return nil
	}
	if info.State.OOMKilled || info.State.ExitCode != sigkillExit {
		return &info
	}
	started, err1 := time.Parse(time.RFC3339Nano, info.State.StartedAt)
	died, err2 := time.Parse(time.RFC3339Nano, info.State.FinishedAt)
	if err1 != nil || err2 != nil || died.IsZero() {
		return &info
	}
	if !c.oomEvent(ctx, id, started, died.Add(oomEventGrace)) {
		return &info
	}
	if again, err := c.api.ContainerInspect(ctx, id); err == nil && again.State != nil {
		return &again
	}
	return &info
}

// oomEvent reports whether the daemon logged an OOM event for container id between from and
// until, waiting for until when it lies ahead. The daemon keeps its recent events, so an event
// that already happened is found at once.
func (c *Client) oomEvent(ctx context.Context, id string, from, until time.Time) bool {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := filters.NewArgs(filters.Arg("type", string(events.ContainerEventType)),
		filters.Arg("container", id), filters.Arg("event", string(events.ActionOOM)))
	msgs, errs := c.api.Events(ctx, events.ListOptions{Filters: f, Since: eventTime(from), Until: eventTime(until)})
	select {
	case <-msgs:
		return true
	case <-errs: // the stream ended at until (EOF) or failed: no OOM event seen
		return false
	case <-ctx.Done():
		return false
	}
}

// swarmReason is swarm's own account of how t ended.
func swarmReason(t swarm.Task) string {
	switch {
	case t.Status.Err != "":
		return t.Status.Err
	case t.Status.State == swarm.TaskStateComplete:
		return "task exited with code 0, but the service should keep running"
	}
	return fmt.Sprintf("task %s: %s", t.Status.State, t.Status.Message)
}

// memoryLimit is the memory limit the container ran under: what the daemon enforced, else what
// the task's spec asked for.
func memoryLimit(info *container.InspectResponse, t swarm.Task) int64 {
	if info.HostConfig != nil && info.HostConfig.Memory > 0 {
		return info.HostConfig.Memory
	}
	if r := t.Spec.Resources; r != nil && r.Limits != nil && r.Limits.MemoryBytes > 0 {
		return r.Limits.MemoryBytes
	}
	return 0
}

// oomText is the sentence for an OOM kill at limit bytes.
func oomText(limit int64) string {
	if limit <= 0 {
		return "OOM-killed: out of memory (the service has no memory limit)"
	}
	return "OOM-killed at " + FormatBytes(limit) + " (its memory limit)"
}

// FormatBytes writes a byte count the way a limit is read: whole GiB or MiB when it is one
// ("512 MiB", "2 GiB"), MiB with one decimal otherwise, plain bytes below 1 MiB.
func FormatBytes(n int64) string {
	const mib, gib = 1 << 20, 1 << 30
	switch {
	case n >= gib && n%gib == 0:
		return fmt.Sprintf("%d GiB", n/gib)
	case n >= mib && n%mib == 0:
		return fmt.Sprintf("%d MiB", n/mib)
	case n >= mib:
		return fmt.Sprintf("%.1f MiB", float64(n)/mib)
	}
	return fmt.Sprintf("%d bytes", n)
}
