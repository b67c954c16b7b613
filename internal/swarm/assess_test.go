package swarm

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/swarm"
	"github.com/stretchr/testify/assert"
)

func TestOwns(t *testing.T) {
	t.Parallel()
	const stack = "samp-1a2b3c_ci_local"
	ns := func(s string) map[string]string { return map[string]string{NamespaceLabel: s} }
	tests := []struct {
		name   string
		object string
		labels map[string]string
		want   bool
	}{
		{"an object labelled with the stack is the stack's", "anything", ns(stack), true},
		{"an unlabelled abra secret named <stack>_<name>_<version> is the stack's", stack + "_db_password_v1", nil, true},
		{"a stack whose name is this one plus letters is another stack", stack + "b_db_password_v1", nil, false},
		{"the bare stack name without separator is not an object of it", stack, nil, false},
		{"an object labelled for another stack is not ours even when named like ours", stack + "_x", ns(stack + "b"), false},
		{"an object labelled for a stack that is a prefix of ours is not ours", stack + "_x", ns("samp-1a2b3c"), false},
		{"other labels do not matter", stack + "_data", map[string]string{"foo": "bar"}, true},
		{"a name that merely contains the stack is not ours", "x" + stack + "_data", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, owns(stack, tt.object, tt.labels))
		})
	}
	assert.False(t, owns("", "_x", nil), "an empty stack owns nothing")
}

func TestValidStack(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"samp-1a2b3c_ci_local", "warm-gitea_ci_local", "a"} {
		assert.NoError(t, validStack(ok), ok)
	}
	for _, bad := range []string{"", "_x", "-x", "a b", "a/b", "a*"} {
		assert.Error(t, validStack(bad), bad)
	}
}

// Fixtures for assess: one replicated service and tasks made from its spec or an older one.
var (
	t0      = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	oneRep  = uint64(1)
	newSpec = swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "app:2", Args: []string{"serve"}}}
	oldSpec = swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "app:1", Args: []string{"serve"}}}
)

func service(update *swarm.UpdateStatus) swarm.Service {
	return swarm.Service{ID: "svc", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "st_app"},
		TaskTemplate: newSpec, Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &oneRep}}},
		UpdateStatus: update, ServiceStatus: &swarm.ServiceStatus{DesiredTasks: 1}}
}

func task(id string, spec swarm.TaskSpec, state swarm.TaskState, at time.Time) swarm.Task {
	return swarm.Task{ID: id, ServiceID: "svc", Spec: spec, DesiredState: swarm.TaskStateRunning,
		Status: swarm.TaskStatus{State: state, Timestamp: at, ContainerStatus: &swarm.ContainerStatus{ContainerID: "c-" + id}}}
}

func TestAssess(t *testing.T) {
	t.Parallel()
	now := t0.Add(time.Minute)
	stable := 5 * time.Second
	tests := []struct {
		name      string
		svc       swarm.Service
		tasks     []swarm.Task
		health    map[string]string
		converged bool
		line      string
	}{
		{"a task of the current spec running long enough converges", service(nil),
			[]swarm.Task{task("a", newSpec, swarm.TaskStateRunning, t0)}, nil, true,
			"app 1/1: task state 'running'"},
		{"a task that just started is still settling", service(nil),
			[]swarm.Task{task("a", newSpec, swarm.TaskStateRunning, now.Add(-time.Second))}, nil, false,
			"app 0/1: task state 'running', settling"},
		{"a running task of the old spec does not count", service(nil),
			[]swarm.Task{task("a", oldSpec, swarm.TaskStateRunning, t0)}, nil, false,
			"app 0/1: task state 'running'"},
		{"a running task whose container is still starting its healthcheck does not count", service(nil),
			[]swarm.Task{task("a", newSpec, swarm.TaskStateRunning, t0)}, map[string]string{"c-a": "starting"}, false,
			"app 0/1: task state 'running', health 'starting'"},
		{"a healthy container counts", service(nil),
			[]swarm.Task{task("a", newSpec, swarm.TaskStateRunning, t0)}, map[string]string{"c-a": "healthy"}, true,
			"app 1/1: task state 'running'"},
		{"an update in progress is not converged even with the tasks running",
			service(&swarm.UpdateStatus{State: swarm.UpdateStateUpdating}),
			[]swarm.Task{task("a", newSpec, swarm.TaskStateRunning, t0)}, nil, false,
			"app 1/1: task state 'running', update 'updating'"},
		{"a completed update is converged", service(&swarm.UpdateStatus{State: swarm.UpdateStateCompleted}),
			[]swarm.Task{task("a", newSpec, swarm.TaskStateRunning, t0)}, nil, true,
			"app 1/1: task state 'running'"},
		{"a failed task shows its error", service(nil),
			[]swarm.Task{func() swarm.Task {
				tk := task("a", newSpec, swarm.TaskStateFailed, t0)
				tk.Status.Err = "task: non-zero exit (1)"
				return tk
			}()}, nil, false, `app 0/1: task state 'failed' error "task: non-zero exit (1)"`},
		{"no tasks at all", service(nil), nil, nil, false, "app 0/1: no tasks yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := assess(tt.svc, tt.tasks, tt.health, now, stable)
			assert.Equal(t, tt.converged, st.converged())
			assert.Equal(t, tt.line, st.line("st"))
		})
	}
}

func TestFailedSince(t *testing.T) {
	t.Parallel()
	since := t0
	job := service(nil)
	job.Spec.Mode = swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{}}
	tests := []struct {
		name string
		svc  swarm.Service
		task swarm.Task
		want bool
	}{
		{"a failed task of the current spec counts", service(nil), task("a", newSpec, swarm.TaskStateFailed, since), true},
		{"a rejected task (image missing) counts", service(nil), task("a", newSpec, swarm.TaskStateRejected, since.Add(time.Second)), true},
		{"a replicated service's task that completed counts: it should not exit", service(nil), task("a", newSpec, swarm.TaskStateComplete, since), true},
		{"a job's task that completed is its success", job, task("a", newSpec, swarm.TaskStateComplete, since), false},
		{"a failure before the wait began does not count", service(nil), task("a", newSpec, swarm.TaskStateFailed, since.Add(-time.Second)), false},
		{"a failure of the old spec does not count", service(nil), task("a", oldSpec, swarm.TaskStateFailed, since), false},
		{"a task shut down by the orchestrator does not count", service(nil), task("a", newSpec, swarm.TaskStateShutdown, since), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, failedSince(tt.svc, tt.task, since))
		})
	}
}

func TestStackEventsKeepsOnlyThisStacksChanges(t *testing.T) {
	t.Parallel()
	const stack = "st_ci"
	_, keep := stackEvents(stack)
	ev := func(typ events.Type, action string, attrs map[string]string) events.Message {
		return events.Message{Type: typ, Action: events.Action(action), Actor: events.Actor{Attributes: attrs}}
	}
	tests := []struct {
		name string
		msg  events.Message
		want bool
	}{
		{"an update of one of its services", ev(events.ServiceEventType, "update", map[string]string{"name": "st_ci_app"}), true},
		{"an update of a similarly named stack's service", ev(events.ServiceEventType, "update", map[string]string{"name": "st_cib_app"}), false},
		{"one of its containers dying", ev(events.ContainerEventType, "die", map[string]string{NamespaceLabel: stack}), true},
		{"a health status change of its container", ev(events.ContainerEventType, "health_status: healthy", map[string]string{NamespaceLabel: stack}), true},
		{"a healthcheck exec, which fires every interval", ev(events.ContainerEventType, "exec_start: /swarmtest probe", map[string]string{NamespaceLabel: stack}), false},
		{"another stack's container", ev(events.ContainerEventType, "die", map[string]string{NamespaceLabel: "st_cib"}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, keep(tt.msg))
		})
	}
}

func TestTail(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"c", "d"}, tail("a\nb\r\n\nc\nd\n", 2))
	assert.Equal(t, []string{"only"}, tail("only", 20))
	assert.Empty(t, tail("", 20))
}

func TestTeardownReportEmpty(t *testing.T) {
	t.Parallel()
	assert.True(t, TeardownReport{}.Empty())
	assert.False(t, TeardownReport{EnvRemoved: true}.Empty())
	assert.False(t, TeardownReport{Networks: []string{"x"}}.Empty())
	assert.False(t, TeardownReport{Containers: []string{"x"}}.Empty())
}
