package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

// pollInterval paces the fake's status polls; the engine offers no event for "converged".
const pollInterval = 500 * time.Millisecond

// crashThreshold failed tasks since the deploy mean a crash loop: fail at once rather than wait
// out the timeout.
const crashThreshold = 3

const namespaceLabel = "com.docker.stack.namespace"

func stackFilter(stack string) filters.Args {
	return filters.NewArgs(filters.Arg("label", namespaceLabel+"="+stack))
}

// snapshot records each existing service's task template before a deploy, so waitConverged can
// tell which services the deploy changed (and must see updated) from those it left alone.
func (f *fake) snapshot(ctx context.Context, stack string) (map[string]string, error) {
	cli, err := f.docker()
	if err != nil {
		return nil, err
	}
	svcs, err := cli.ServiceList(ctx, swarm.ServiceListOptions{Filters: stackFilter(stack)})
	if err != nil {
		return nil, fmt.Errorf("list services of %s: %w", stack, err)
	}
	out := map[string]string{}
	for _, s := range svcs {
		b, err := json.Marshal(s.Spec.TaskTemplate)
		if err != nil {
			return nil, fmt.Errorf("encode task template of %s: %w", s.Spec.Name, err)
		}
		out[s.ID] = string(b)
	}
	return out, nil
}

// waitConverged polls until every service of stack runs all its replicas and every service whose
// task template the deploy changed has finished its update. A rollback, a paused update or a
// crash loop fails at once.
func (f *fake) waitConverged(ctx context.Context, stack string, before map[string]string, started time.Time, timeout time.Duration) error {
	last := ""
	err := f.poll(ctx, timeout, func() (string, error) {
		waiting, err := f.convergeStep(ctx, stack, before, started)
		if waiting != "" && waiting != last {
			fmt.Fprintf(f.stdout, "waiting for %s: %s\n", stack, waiting)
			last = waiting
		}
		return waiting, err
	})
	if err != nil {
		return fmt.Errorf("stack %s did not converge: %w", stack, err)
	}
	return nil
}

// convergeStep returns what is still awaited ("" when converged) or a fatal error.
func (f *fake) convergeStep(ctx context.Context, stack string, before map[string]string, started time.Time) (string, error) {
	cli, err := f.docker()
	if err != nil {
		return "", err
	}
	svcs, err := cli.ServiceList(ctx, swarm.ServiceListOptions{Filters: stackFilter(stack), Status: true})
	if err != nil {
		return "", fmt.Errorf("list services of %s: %w", stack, err)
	}
	if len(svcs) == 0 {
		return "no services yet", nil
	}
	sort.Slice(svcs, func(i, j int) bool { return svcs[i].Spec.Name < svcs[j].Spec.Name })
	var waiting []string
	for _, s := range svcs {
		if err := f.checkCrashLoop(ctx, s, started); err != nil {
			return "", err
		}
		w, err := serviceWaiting(s, before, started)
		if err != nil {
			return "", err
		}
		if w != "" {
			waiting = append(waiting, s.Spec.Name+" "+w)
		}
	}
	return strings.Join(waiting, "; "), nil
}

// serviceWaiting judges one service: "" when converged, a reason when not yet, an error when the
// update failed.
func serviceWaiting(s swarm.Service, before map[string]string, started time.Time) (string, error) {
	if us := s.UpdateStatus; us != nil && us.StartedAt != nil && !us.StartedAt.Before(started.Add(-time.Second)) {
		switch us.State {
		case swarm.UpdateStateRollbackStarted, swarm.UpdateStateRollbackPaused,
			swarm.UpdateStateRollbackCompleted, swarm.UpdateStatePaused:
			return "", fmt.Errorf("service %s update failed: %s: %s", s.Spec.Name, us.State, us.Message)
		case swarm.UpdateStateUpdating:
			return "updating", nil
		}
	} else if prev, existed := before[s.ID]; existed {
		now, err := json.Marshal(s.Spec.TaskTemplate)
		if err != nil {
			return "", fmt.Errorf("encode task template of %s: %w", s.Spec.Name, err)
		}
		if string(now) != prev {
			return "update not started", nil
		}
	}
	if s.Spec.Mode.Replicated == nil || s.Spec.Mode.Replicated.Replicas == nil || s.ServiceStatus == nil {
		return "", nil // global and job services: the fake does not wait for them
	}
	want, running := *s.Spec.Mode.Replicated.Replicas, s.ServiceStatus.RunningTasks
	if running < want {
		return fmt.Sprintf("%d/%d replicas running", running, want), nil
	}
	return "", nil
}

// checkCrashLoop fails when crashThreshold of the service's tasks failed since the deploy.
func (f *fake) checkCrashLoop(ctx context.Context, s swarm.Service, started time.Time) error {
	cli, err := f.docker()
	if err != nil {
		return err
	}
	tasks, err := cli.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", s.ID))})
	if err != nil {
		return fmt.Errorf("list tasks of %s: %w", s.Spec.Name, err)
	}
	failed, last := 0, ""
	for _, t := range tasks {
		if t.CreatedAt.Before(started) {
			continue
		}
		if t.Status.State == swarm.TaskStateFailed || t.Status.State == swarm.TaskStateRejected {
			failed++
			last = fmt.Sprintf("%s: %s", t.Status.State, strings.TrimSpace(t.Status.Err))
		}
	}
	if failed >= crashThreshold {
		return fmt.Errorf("service %s is crash-looping: %d tasks failed since the deploy, last %s", s.Spec.Name, failed, last)
	}
	return nil
}
