package swarm

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"coopcloud.tech/cc-ci/internal/testkit"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The sample app with APP_ALLOC_MB above its memory limit is killed by the kernel at every start.
// The crash loop must say so, with the limit, and not pass for a generic crash: the ladder reports
// "OOM-killed at 48 MiB" so a maintainer knows to raise the limit rather than hunt for a bug.
func TestServiceKilledForMemoryIsACrashLoopReportedAsOOMKilledWithItsLimit(t *testing.T) {
	t.Parallel()
	require.NoError(t, testkit.BuildImages(t.Context()), "build the sample app image")
	c := newClient(t)
	stack := newStack(t, c)
	deployStack(t, stack, `version: "3.8"
services:
  app:
    image: `+testkit.SampleImages()[0]+`
    environment:
      APP_ALLOC_MB: "256"
    deploy:
      resources:
        limits:
          memory: 48M
      restart_policy:
        condition: any
        delay: 1s
`, nil)

	err := c.WaitConverged(t.Context(), stack, WaitOptions{Timeout: waitLimit, Logger: testLogger(t)})
	var crash *CrashLoopError
	require.ErrorAs(t, err, &crash, "got %v", err)
	assert.Equal(t, stack+"_app", crash.Service)
	assert.True(t, crash.OOMKilled, "the container's State.OOMKilled: %v", err)
	assert.Equal(t, int64(48<<20), crash.MemoryLimit)
	assert.Equal(t, 137, crash.ExitCode, "killed by SIGKILL")
	assert.Contains(t, crash.Err, "OOM-killed at 48 MiB (its memory limit)")
	assert.Contains(t, err.Error(), "OOM-killed at 48 MiB (its memory limit)")
	assert.Contains(t, strings.Join(crash.LastLogs, "\n"), "allocating 256 MiB before serving",
		"the last logs show what the app was doing when it was killed")
}

// An app that converges and then outgrows its memory limit is caught by the stability check,
// again named as an OOM kill with the limit.
func TestServiceOutgrowingItsLimitAfterConvergingFailsCheckStableAsOOMKilled(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := newStack(t, c)
	deployStack(t, stack, `version: "3.8"
services:
  app:
    image: `+testImage+`
    command: ["grow", "128", "4s"]
    deploy:
      resources:
        limits:
          memory: 40M
`, nil)
	conv, err := c.WaitConvergedReport(t.Context(), stack, WaitOptions{Timeout: waitLimit, StableFor: time.Second})
	require.NoError(t, err, "the app idles for 4 s before it grows, longer than the stability window")

	awaitFailures(t, c, stack, conv.At, 60*time.Second)
	err = c.CheckStable(t.Context(), stack, conv.At)
	var unstable *StabilityError
	require.ErrorAs(t, err, &unstable, "got %v", err)
	f := unstable.Failures[0]
	assert.True(t, f.OOMKilled, "got %+v", f)
	assert.Equal(t, int64(40<<20), f.MemoryLimit)
	assert.Equal(t, 137, f.ExitCode)
	assert.Contains(t, err.Error(), "service "+stack+"_app: task failed after converging (exit 137 at ")
	assert.Contains(t, err.Error(), "OOM-killed at 40 MiB (its memory limit)")
}

func TestFormatBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   int64
		want string
	}{
		{"whole mebibytes read as MiB", 512 << 20, "512 MiB"},
		{"whole gibibytes read as GiB", 2 << 30, "2 GiB"},
		{"a limit that is not whole MiB keeps a decimal", 100*1000*1000 + 0, "95.4 MiB"},
		{"less than a mebibyte is bytes", 6000, "6000 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, FormatBytes(tc.in))
		})
	}
}

func TestOOMTextWithoutALimitSaysSo(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "OOM-killed: out of memory (the service has no memory limit)", oomText(0))
	assert.Equal(t, "OOM-killed at 1 GiB (its memory limit)", oomText(1<<30))
}

// oomEngine serves one ended container over the Engine API (v1.41, the daemon here) the way the
// daemon can show an OOM kill: exit code 137 at once, State.OOMKilled only after the daemon has
// handled the container's OOM event, which may come after the die (seen 1.3 s late here). Its
// event stream holds that oom event (oomEvent) or ends empty, as the real one does at "until".
type oomEngine struct {
	exitCode int
	oomEvent bool
	finished time.Time

	mu        sync.Mutex
	eventSent bool
	events    []url.Values // queries of the events calls
}

func (f *oomEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch strings.TrimPrefix(r.URL.Path, "/v1.41") {
	case "/containers/c1/json":
		f.mu.Lock()
		oom := f.eventSent
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"Id": "c1",
			"State": map[string]any{"Status": "exited", "ExitCode": f.exitCode, "OOMKilled": oom,
				"StartedAt": f.finished.Add(-3 * time.Second).Format(time.RFC3339Nano), "FinishedAt": f.finished.Format(time.RFC3339Nano)},
			"HostConfig": map[string]any{"Memory": 32 << 20}})
	case "/events":
		f.mu.Lock()
		f.events = append(f.events, r.URL.Query())
		f.mu.Unlock()
		if !f.oomEvent {
			return // the stream ends: "until" has passed without an oom event
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"Type": "container", "Action": "oom",
			"Actor": map[string]any{"ID": "c1"}, "timeNano": f.finished.Add(time.Second).UnixNano()})
		f.mu.Lock()
		f.eventSent = true
		f.mu.Unlock()
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (f *oomEngine) client(t *testing.T) *Client {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	api, err := client.NewClientWithOpts(client.WithHost("tcp://"+srv.Listener.Addr().String()), client.WithVersion("1.41"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = api.Close() })
	return &Client{api: api}
}

// Exit code 137 is any SIGKILL; only the container's OOMKilled flag proves an OOM kill, and the
// daemon may set it after the task is already seen failed. The cause must await the OOM event for
// a SIGKILLed container, and must not call a plain SIGKILL (or another exit) an OOM kill.
func TestFailureCauseAwaitsALateOOMEventAndNeverGuessesFromExitCode137(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		exitCode   int
		oomEvent   bool
		wantOOM    bool
		wantText   string
		wantEvents int
	}{
		{"a SIGKILL whose OOM event comes late is an OOM kill", 137, true, true,
			"OOM-killed at 32 MiB (its memory limit); task: non-zero exit (137)", 1},
		{"a SIGKILL with no OOM event is not an OOM kill", 137, false, false, "task: non-zero exit (137)", 1},
		{"another exit code is not awaited", 1, false, false, "task: non-zero exit (1)", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Died long enough ago that "until" has passed: the real daemon then answers from its
			// event history at once, so no test waits out the grace period.
			f := &oomEngine{exitCode: tc.exitCode, oomEvent: tc.oomEvent, finished: time.Now().Add(-time.Minute)}
			c := f.client(t)
			task := swarm.Task{ID: "t1", Status: swarm.TaskStatus{State: swarm.TaskStateFailed,
				Err:             "task: non-zero exit (" + map[int]string{1: "1", 137: "137"}[tc.exitCode] + ")",
				ContainerStatus: &swarm.ContainerStatus{ContainerID: "c1", ExitCode: tc.exitCode}}}

			got := c.failureCause(t.Context(), task)
			assert.Equal(t, tc.wantOOM, got.oomKilled)
			assert.Equal(t, tc.wantText, got.text)
			if tc.wantOOM {
				assert.Equal(t, int64(32<<20), got.memoryLimit)
			}
			require.Len(t, f.events, tc.wantEvents)
			if tc.wantEvents == 0 {
				return
			}
			q := f.events[0]
			assert.Equal(t, eventTime(f.finished.Add(oomEventGrace)), q.Get("until"), "awaits the OOM event until the grace after the death")
			var filt map[string]map[string]bool
			require.NoError(t, json.Unmarshal([]byte(q.Get("filters")), &filt))
			assert.Equal(t, map[string]bool{"c1": true}, filt["container"])
			assert.Equal(t, map[string]bool{"oom": true}, filt["event"])
		})
	}
}

// An upgrade whose new task is OOM-killed makes swarm roll the update back: the RollbackError
// must name the OOM kill and its limit too, not only swarm's "non-zero exit (137)". The frozen
// fake engine (fakeEngine) serves the rolled-back service; its one container is marked OOMKilled.
func TestRollbackOfAnOOMKilledUpdateSaysSo(t *testing.T) {
	t.Parallel()
	now := time.Now()
	svc := service(&swarm.UpdateStatus{State: swarm.UpdateStateRollbackStarted, Message: "update rolled back due to failure"})
	svc.Spec.Labels = map[string]string{NamespaceLabel: "st"}
	failed := task("new", newSpec, swarm.TaskStateFailed, now)
	failed.Status.Err = "task: non-zero exit (137)"
	failed.Status.ContainerStatus = &swarm.ContainerStatus{ContainerID: "c1", ExitCode: 137}
	engine := &fakeEngine{Services: []swarm.Service{svc}, Tasks: []swarm.Task{failed}}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1.41/containers/c1/json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"Id": "c1",
			"State":      map[string]any{"Status": "exited", "ExitCode": 137, "OOMKilled": true},
			"HostConfig": map[string]any{"Memory": 256 << 20}})
	})
	mux.Handle("/", engine)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	api, err := client.NewClientWithOpts(client.WithHost("tcp://"+srv.Listener.Addr().String()), client.WithVersion("1.41"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = api.Close() })
	c := &Client{api: api}

	_, err = c.WaitConvergedReport(t.Context(), "st", WaitOptions{Timeout: 3 * time.Second, Since: now.Add(-time.Second)})
	var rb *RollbackError
	require.ErrorAs(t, err, &rb, "got %v", err)
	assert.True(t, rb.OOMKilled)
	assert.Equal(t, int64(256<<20), rb.MemoryLimit)
	assert.Equal(t, "OOM-killed at 256 MiB (its memory limit); task: non-zero exit (137)", rb.TaskErr)
	assert.Contains(t, err.Error(), "(failed task: OOM-killed at 256 MiB (its memory limit)")
}
