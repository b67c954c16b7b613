package swarm

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
)

// resubscribeDelay spaces out resubscriptions when the daemon's event stream breaks; the periodic
// re-check of the callers covers the gap.
const resubscribeDelay = time.Second

// watch follows the daemon's event stream (filtered by f) and signals on the returned channel for
// each event keep accepts. Signals coalesce: the channel holds at most one, and a burst of events
// costs the caller one re-evaluation. The stream is resubscribed (from the last event seen, so
// nothing is lost) until ctx ends; the goroutine ends with ctx.
func (c *Client) watch(ctx context.Context, f filters.Args, keep func(events.Message) bool, log *slog.Logger) <-chan struct{} {
	out := make(chan struct{}, 1)
	notify := func() {
		select {
		case out <- struct{}{}:
		default:
		}
	}
	go func() {
		since := time.Now()
		for {
			msgs, errs := c.api.Events(ctx, events.ListOptions{Filters: f, Since: eventTime(since)})
			last, err := pump(ctx, msgs, errs, keep, func(m events.Message) {
				log.Debug("docker event", "type", m.Type, "action", m.Action, "actor", m.Actor.Attributes["name"])
				notify()
			})
			if ctx.Err() != nil {
				return
			}
			if !last.IsZero() {
				since = last
			}
			log.Debug("docker event stream ended; resubscribing", "err", err)
			notify()
			select {
			case <-ctx.Done():
				return
			case <-time.After(resubscribeDelay):
			}
		}
	}()
	return out
}

// pump forwards events until the stream or ctx ends, returning the time of the last event seen.
func pump(ctx context.Context, msgs <-chan events.Message, errs <-chan error,
	keep func(events.Message) bool, notify func(events.Message)) (time.Time, error) {
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case err := <-errs:
			return last, err
		case m := <-msgs:
			last = time.Unix(0, m.TimeNano)
			if keep(m) {
				notify(m)
			}
		}
	}
}

// eventTime formats t the way the events API's since parameter takes it (seconds.nanoseconds).
func eventTime(t time.Time) string {
	return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
}

// stackEvents selects the events that can change a stack's convergence: its services' events
// (which carry only the service name) and its containers' lifecycle and health events (which carry
// the container labels). Healthcheck exec events fire every interval and change nothing, so they
// are dropped.
func stackEvents(stack string) (filters.Args, func(events.Message) bool) {
	f := filters.NewArgs(
		filters.Arg("type", string(events.ServiceEventType)),
		filters.Arg("type", string(events.ContainerEventType)),
	)
	keep := func(m events.Message) bool {
		switch m.Type {
		case events.ServiceEventType:
			return strings.HasPrefix(m.Actor.Attributes["name"], stack+"_")
		case events.ContainerEventType:
			return m.Actor.Attributes[NamespaceLabel] == stack && !strings.HasPrefix(string(m.Action), "exec_")
		}
		return false
	}
	return f, keep
}

// containerEvents selects lifecycle events of the stack's containers, for waiting until they are
// gone.
func containerEvents(stack string) (filters.Args, func(events.Message) bool) {
	f := filters.NewArgs(
		filters.Arg("type", string(events.ContainerEventType)),
		filters.Arg("label", NamespaceLabel+"="+stack),
	)
	keep := func(m events.Message) bool {
		return !strings.HasPrefix(string(m.Action), "exec_")
	}
	return f, keep
}
