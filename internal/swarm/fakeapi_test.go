package swarm

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeEngine serves a frozen swarm over the Docker Engine API (v1.41, the daemon here): the
// services, tasks and nodes the wait reads, an event stream that stays open and silent, task b's
// container (running), and 404 for anything else (task logs, so the wait falls back to "logs
// unavailable"). The real docker client talks to it, so the client code is under test too. It
// records the paths it was asked for.
type fakeEngine struct {
	Services []swarm.Service
	Tasks    []swarm.Task

	mu    sync.Mutex
	paths []string
}

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.paths = append(f.paths, r.URL.Path)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch strings.TrimPrefix(r.URL.Path, "/v1.41") {
	case "/services":
		_ = json.NewEncoder(w).Encode(f.Services)
	case "/tasks":
		_ = json.NewEncoder(w).Encode(f.Tasks)
	case "/nodes":
		_ = json.NewEncoder(w).Encode([]swarm.Node{{ID: "node-1"}})
	case "/containers/c-b/json":
		// Task b's container: running, no healthcheck (ContainerInspect's State, Engine API 1.41).
		_ = json.NewEncoder(w).Encode(map[string]any{"Id": "c-b", "State": map[string]any{"Status": "running", "Running": true}})
	case "/events":
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	default:
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": "not served by the fake engine: " + r.URL.Path})
	}
}

func (f *fakeEngine) asked(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, p := range f.paths {
		if p == path {
			n++
		}
	}
	return n
}

// fakeEngineClient returns a Client talking to f.
func fakeEngineClient(t *testing.T, f *fakeEngine) *Client {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	api, err := client.NewClientWithOpts(client.WithHost("tcp://"+srv.Listener.Addr().String()), client.WithVersion("1.41"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = api.Close() })
	return &Client{api: api}
}

// An update that swarm has started to roll back (or paused) has failed: the wait must say so at
// once, not when the rollback completes (about 70 s later here, or never, when a rollback pauses).
// The fake engine holds each state for good, so a wait that does not recognise it times out. The
// real-swarm test of rollbacks cannot catch that: swarm here often completes the rollback within a
// millisecond of starting it.
func TestWaitFailsAtOnceOnAFailedUpdateState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		state    swarm.UpdateState
		wantFail bool
	}{
		{swarm.UpdateStateRollbackStarted, true},
		{swarm.UpdateStateRollbackPaused, true},
		{swarm.UpdateStatePaused, true},
		{swarm.UpdateStateRollbackCompleted, true},
		{swarm.UpdateStateUpdating, false}, // the control: an update in progress is waited for
	}
	for _, tt := range tests {
		t.Run(string(tt.state), func(t *testing.T) {
			t.Parallel()
			now := time.Now()
			svc := service(&swarm.UpdateStatus{State: tt.state, Message: "update rolled back due to failure or early termination of task x"})
			svc.Spec.Labels = map[string]string{NamespaceLabel: "st"}
			failed := task("new", newSpec, swarm.TaskStateFailed, now)
			failed.Status.Err = "task: non-zero exit (1)"
			failed.Status.ContainerStatus = nil
			f := &fakeEngine{Services: []swarm.Service{svc}, Tasks: []swarm.Task{failed}}
			c := fakeEngineClient(t, f)

			timeout := 3 * time.Second
			_, err := c.WaitConvergedReport(t.Context(), "st", WaitOptions{Timeout: timeout, Since: now.Add(-time.Second)})
			if !tt.wantFail {
				var to *TimeoutError
				require.ErrorAs(t, err, &to, "got %v", err)
				assert.GreaterOrEqual(t, f.asked("/v1.41/services"), 2, "the wait re-evaluated while it waited")
				return
			}
			var rb *RollbackError
			require.ErrorAs(t, err, &rb, "got %v", err)
			assert.Equal(t, 1, f.asked("/v1.41/services"), "failed at the first evaluation")
			assert.Equal(t, "st_app", rb.Service)
			assert.Equal(t, string(tt.state), rb.State)
			assert.Equal(t, "task: non-zero exit (1)", rb.TaskErr)
		})
	}
}

func TestUpdateFailed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status *swarm.UpdateStatus
		want   bool
	}{
		{"a rollback that has only started", &swarm.UpdateStatus{State: swarm.UpdateStateRollbackStarted}, true},
		{"a rollback that paused", &swarm.UpdateStatus{State: swarm.UpdateStateRollbackPaused}, true},
		{"an update paused on failure", &swarm.UpdateStatus{State: swarm.UpdateStatePaused}, true},
		{"a completed rollback", &swarm.UpdateStatus{State: swarm.UpdateStateRollbackCompleted}, true},
		{"an update in progress", &swarm.UpdateStatus{State: swarm.UpdateStateUpdating}, false},
		{"a completed update", &swarm.UpdateStatus{State: swarm.UpdateStateCompleted}, false},
		{"no update yet", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, updateFailed(tt.status))
		})
	}
}

// engineErr is the daemon's error for a task runc could not start (moby/moby#48783), as seen here.
const engineErr = "starting container failed: unable to remount dir as readonly: mount tmpfs:/var/lib/docker/containers/7a60/mounts/secrets, flags: 0x21, data: uid=0,gid=0: device or resource busy"

// A task the engine never started is the engine's failure, not the recipe's: the error says so,
// and only when every counted task hit it (one that ran and failed is the recipe's).
func TestAnEngineFaultIsNamedOnTheError(t *testing.T) {
	t.Parallel()
	now := time.Now()
	failed := func(id, err string) swarm.Task {
		tk := task(id, newSpec, swarm.TaskStateRejected, now)
		tk.Status.Err, tk.Status.ContainerStatus = err, nil
		return tk
	}
	wait := func(t *testing.T, svc swarm.Service, tasks ...swarm.Task) error {
		svc.Spec.Labels = map[string]string{NamespaceLabel: "st"}
		c := fakeEngineClient(t, &fakeEngine{Services: []swarm.Service{svc}, Tasks: tasks})
		_, err := c.WaitConvergedReport(t.Context(), "st", WaitOptions{Timeout: time.Minute, Since: now.Add(-time.Second)})
		return err
	}
	t.Run("a paused update", func(t *testing.T) {
		t.Parallel()
		err := wait(t, service(&swarm.UpdateStatus{State: swarm.UpdateStatePaused, Message: "update paused due to failure"}),
			failed("a", engineErr))
		var rb *RollbackError
		require.ErrorAs(t, err, &rb, "got %v", err)
		assert.Contains(t, rb.EngineFault, "moby/moby#48783")
	})
	t.Run("a crash loop of tasks never started", func(t *testing.T) {
		t.Parallel()
		err := wait(t, service(nil), failed("a", engineErr), failed("b", engineErr), failed("c", engineErr))
		var crash *CrashLoopError
		require.ErrorAs(t, err, &crash, "got %v", err)
		assert.Contains(t, crash.EngineFault, "moby/moby#48783")
	})
	t.Run("a restart before convergence", func(t *testing.T) {
		t.Parallel()
		svc := service(nil)
		svc.Spec.Labels = map[string]string{NamespaceLabel: "st"}
		running := task("b", newSpec, swarm.TaskStateRunning, now.Add(time.Millisecond))
		c := fakeEngineClient(t, &fakeEngine{Services: []swarm.Service{svc}, Tasks: []swarm.Task{failed("a", engineErr), running}})
		conv, err := c.WaitConvergedReport(t.Context(), "st", WaitOptions{Timeout: time.Minute, Since: now.Add(-time.Second), StableFor: time.Millisecond})
		require.NoError(t, err)
		require.Len(t, conv.Restarts, 1)
		assert.Contains(t, conv.Restarts[0].EngineFault, "moby/moby#48783")
	})
	t.Run("a crash loop with one task that ran", func(t *testing.T) {
		t.Parallel()
		err := wait(t, service(nil), failed("a", "task: non-zero exit (1)"), failed("b", engineErr), failed("c", engineErr))
		var crash *CrashLoopError
		require.ErrorAs(t, err, &crash, "got %v", err)
		assert.Empty(t, crash.EngineFault, "a task that ran and failed is the recipe's")
	})
}
