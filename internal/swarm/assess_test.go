package swarm

import (
	"slices"
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
			"app 0/1: task state 'running', 1 task(s) of an older spec not yet replaced"},
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
		{"an old-spec task swarm still runs holds convergence even before the updater sets a status", service(nil),
			[]swarm.Task{task("a", newSpec, swarm.TaskStateRunning, t0), task("b", oldSpec, swarm.TaskStateRunning, t0)}, nil, false,
			"app 1/1: task state 'running', 1 task(s) of an older spec not yet replaced"},
		{"an old-spec task being shut down does not hold convergence", service(nil),
			[]swarm.Task{task("a", newSpec, swarm.TaskStateRunning, t0), func() swarm.Task {
				tk := task("b", oldSpec, swarm.TaskStateRunning, t0)
				tk.DesiredState = swarm.TaskStateShutdown
				return tk
			}()}, nil, true, "app 1/1: task state 'running'"},
		{"an old task still running beside its pending replacement (start-first, no room) is not converged",
			service(&swarm.UpdateStatus{State: swarm.UpdateStateCompleted}),
			[]swarm.Task{task("old", oldSpec, swarm.TaskStateRunning, t0), func() swarm.Task {
				tk := task("new", newSpec, swarm.TaskStatePending, t0.Add(time.Second))
				tk.Status.Err = "no suitable node (insufficient resources on 1 node)"
				return tk
			}()}, nil, false,
			`app 0/1: task state 'pending' error "no suitable node (insufficient resources on 1 node)", 1 task(s) of an older spec not yet replaced`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := snapshot{tasks: map[string][]swarm.Task{"svc": tt.tasks}, health: tt.health}
			st := assess(tt.svc, snap, now, stable)
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
			assert.Equal(t, tt.want, failedSince(tt.svc, tt.task, since, nil))
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

// template is a task template with every field a task carries set; a fresh one per call, so cases
// can change it freely.
func template() swarm.TaskSpec {
	return swarm.TaskSpec{
		ContainerSpec: &swarm.ContainerSpec{Image: "app:2", Args: []string{"serve"}},
		Resources:     &swarm.ResourceRequirements{Reservations: &swarm.Resources{MemoryBytes: 10 << 20}},
		RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny},
		Placement:     &swarm.Placement{Constraints: []string{"node.role == manager"}},
		Networks:      []swarm.NetworkAttachmentConfig{{Target: "id-internal", Aliases: []string{"app", "web"}}, {Target: "id-proxy"}},
		LogDriver:     &swarm.Driver{Name: "json-file", Options: map[string]string{"max-size": "1m"}},
		ForceUpdate:   1,
		Runtime:       swarm.RuntimeContainer,
	}
}

func TestCurrentSpec(t *testing.T) {
	t.Parallel()
	node := swarm.Node{ID: "node-1", Spec: swarm.NodeSpec{Role: swarm.NodeRoleManager}}
	nodes := map[string]swarm.Node{node.ID: node}
	attached := func(id, name string) swarm.NetworkAttachment {
		return swarm.NetworkAttachment{Network: swarm.Network{ID: id, Spec: swarm.NetworkSpec{Annotations: swarm.Annotations{Name: name}}}}
	}
	tests := []struct {
		name    string
		service func(*swarm.TaskSpec) // changes the service's template
		task    func(*swarm.Task)     // changes the task (its spec starts as the template, less Runtime)
		want    bool
	}{
		{"a task made from the template is current although the daemon drops Runtime from it", nil, nil, true},
		{"a changed memory reservation makes the task old", func(s *swarm.TaskSpec) { s.Resources.Reservations.MemoryBytes = 1000 << 30 }, nil, false},
		{"a new memory limit makes the task old", func(s *swarm.TaskSpec) { s.Resources.Limits = &swarm.Limit{MemoryBytes: 1 << 30} }, nil, false},
		{"absent and empty resources are alike", func(s *swarm.TaskSpec) { s.Resources = &swarm.ResourceRequirements{} },
			func(tk *swarm.Task) { tk.Spec.Resources = nil }, true},
		{"a changed restart policy makes the task old", func(s *swarm.TaskSpec) { s.RestartPolicy.Condition = swarm.RestartPolicyConditionOnFailure }, nil, false},
		{"changed log options make the task old", func(s *swarm.TaskSpec) { s.LogDriver.Options = map[string]string{"max-size": "2m"} }, nil, false},
		{"absent and empty log drivers are alike", func(s *swarm.TaskSpec) { s.LogDriver = nil },
			func(tk *swarm.Task) { tk.Spec.LogDriver = &swarm.Driver{} }, true},
		{"the order of networks does not matter", func(s *swarm.TaskSpec) { slices.Reverse(s.Networks) }, nil, true},
		{"the order of aliases does not matter", func(s *swarm.TaskSpec) { slices.Reverse(s.Networks[0].Aliases) }, nil, true},
		{"a network the spec names is the network the task has by ID", func(s *swarm.TaskSpec) { s.Networks[1].Target = "proxy" }, nil, true},
		{"an added network makes the task old",
			func(s *swarm.TaskSpec) {
				s.Networks = append(s.Networks, swarm.NetworkAttachmentConfig{Target: "id-other"})
			}, nil, false},
		{"a changed alias makes the task old", func(s *swarm.TaskSpec) { s.Networks[0].Aliases = []string{"app"} }, nil, false},
		{"a forced update makes the task old", func(s *swarm.TaskSpec) { s.ForceUpdate++ }, nil, false},
		{"a new image makes the task old", func(s *swarm.TaskSpec) {
			s.ContainerSpec = &swarm.ContainerSpec{Image: "app:3", Args: []string{"serve"}}
		}, nil, false},
		{"absent and empty placements are alike", func(s *swarm.TaskSpec) { s.Placement = &swarm.Placement{Constraints: []string{}} },
			func(tk *swarm.Task) { tk.Spec.Placement = nil }, true},
		{"new constraints its node satisfies leave the task current, as swarm keeps it",
			func(s *swarm.TaskSpec) { s.Placement.Constraints = []string{"node.role != worker"} }, nil, true},
		{"new constraints its node does not satisfy make the task old",
			func(s *swarm.TaskSpec) { s.Placement.Constraints = []string{"node.labels.ccci == never"} }, nil, false},
		{"new constraints make a task that has no node yet old",
			func(s *swarm.TaskSpec) { s.Placement.Constraints = []string{"node.role != worker"} }, func(tk *swarm.Task) { tk.NodeID = "" }, false},
		{"new constraints with a new reservation make the task old even on a matching node",
			func(s *swarm.TaskSpec) {
				s.Placement.Constraints = []string{"node.role != worker"}
				s.Resources.Reservations.MemoryBytes = 1000 << 30
			}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := swarm.Service{Spec: swarm.ServiceSpec{TaskTemplate: template()}}
			if tt.service != nil {
				tt.service(&svc.Spec.TaskTemplate)
			}
			tk := swarm.Task{Spec: template(), NodeID: node.ID,
				NetworksAttachments: []swarm.NetworkAttachment{attached("id-internal", "internal"), attached("id-proxy", "proxy")}}
			tk.Spec.Runtime = ""
			if tt.task != nil {
				tt.task(&tk)
			}
			assert.Equal(t, tt.want, currentSpec(svc, tk, nodes))
		})
	}
}

func TestNodeMatches(t *testing.T) {
	t.Parallel()
	node := swarm.Node{ID: "node-1",
		Spec: swarm.NodeSpec{Role: swarm.NodeRoleManager, Annotations: swarm.Annotations{Labels: map[string]string{"ccci": "yes"}}},
		Description: swarm.NodeDescription{Hostname: "ci-host", Platform: swarm.Platform{OS: "linux", Architecture: "x86_64"},
			Engine: swarm.EngineDescription{Labels: map[string]string{"zone": "a"}}},
		Status: swarm.NodeStatus{Addr: "10.0.0.5"}}
	tests := []struct {
		name        string
		constraints []string
		want        bool
	}{
		{"no constraints match any node", nil, true},
		{"its role", []string{"node.role == manager"}, true},
		{"another role", []string{"node.role == worker"}, false},
		{"a negated role it does not have", []string{"node.role != worker"}, true},
		{"keys and values compare case-insensitively", []string{"NODE.ROLE==Manager"}, true},
		{"its node label", []string{"node.labels.ccci == yes"}, true},
		{"label names are case-sensitive", []string{"node.labels.CCCI == yes"}, false},
		{"a missing label is empty, so != matches", []string{"node.labels.absent != x"}, true},
		{"a missing label is empty, so == does not match", []string{"node.labels.absent == x"}, false},
		{"its engine label", []string{"engine.labels.zone == a"}, true},
		{"its hostname, id and platform", []string{"node.hostname == ci-host", "node.id == node-1", "node.platform.os == linux", "node.platform.arch == x86_64"}, true},
		{"its address", []string{"node.ip == 10.0.0.5"}, true},
		{"its subnet", []string{"node.ip == 10.0.0.0/24"}, true},
		{"another subnet negated", []string{"node.ip != 10.0.1.0/24"}, true},
		{"a malformed address never matches", []string{"node.ip != not-an-ip"}, false},
		{"a key swarm does not know never matches", []string{"node.colour != red"}, false},
		{"a constraint without an operator never matches", []string{"node.role"}, false},
		{"every constraint must hold", []string{"node.role == manager", "node.labels.ccci == no"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, nodeMatches(tt.constraints, node))
		})
	}
}

func TestStabilityErrorNamesServiceExitAndLogs(t *testing.T) {
	t.Parallel()
	e := &StabilityError{Failures: []TaskFailure{{Service: "st_app", State: "failed", ExitCode: 1,
		Err: "task: non-zero exit (1)", At: time.Date(2026, 1, 1, 12, 0, 3, 0, time.UTC),
		LastLogs: []string{"one", "two", "three", "four"}}}}
	assert.Equal(t, "service st_app: task failed after converging (exit 1 at 12:00:03): task: non-zero exit (1); "+
		"last logs: two | three | four", e.Error())
}

func TestEngineFaultIsToldFromTheRecipesOwnFailures(t *testing.T) {
	t.Parallel()
	seen := "starting container failed: unable to remount dir as readonly: mount tmpfs:/var/lib/docker/containers/7a60/mounts/secrets, flags: 0x21, data: uid=0,gid=0: device or resource busy"
	assert.Contains(t, engineFault(seen), "moby/moby#48783")
	for _, recipes := range []string{
		"task: non-zero exit (1)",
		"starting container failed: error gathering device information while adding custom device \"/dev/x\": no such file or directory",
		`starting container failed: failed to create task for container: failed to create shim task: OCI runtime create failed: exec: "/app": permission denied`,
		"",
	} {
		assert.Empty(t, engineFault(recipes), "%q is the recipe's", recipes)
	}
}
