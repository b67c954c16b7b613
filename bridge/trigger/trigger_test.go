package trigger

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/drone/drone-go/drone"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/bridge/event"
	"coopcloud.tech/cc-ci/bridge/forge"
	"coopcloud.tech/cc-ci/bridge/store"
	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
	"coopcloud.tech/cc-ci/internal/testkit/fakegithub"
)

// counts is a recording instruments fake.
type counts struct {
	mu   sync.Mutex
	seen map[string]int
}

func (c *counts) add(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]int{}
	}
	c.seen[k]++
}
func (c *counts) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[k]
}
func (c *counts) BuildStarted(string)          { c.add("build_started") }
func (c *counts) TriggerLatency(time.Duration) { c.add("latency") }
func (c *counts) Reconcile(a string)           { c.add("reconcile:" + a) }
func (c *counts) Request(r string)             { c.add("request:" + r) }

// rig is a Service over a real store, the real go-github client on the FAKE GitHub, and the real
// drone-go client on the FAKE Drone.
type rig struct {
	svc   *Service
	st    *store.Store
	forge *fakeforge.State
	drone *fakedrone.Server
	m     *counts
}

const (
	testRepo = "coop-cloud/sample"
	headSHA  = "0123456789abcdef0123456789abcdef01234567"
)

func newRig(t *testing.T) *rig {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "bridge.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	fs := fakeforge.New("cc-ci-bot")
	fs.AddMember("coop-cloud", "maintainer")
	fs.AddPR(fakeforge.PR{Repo: testRepo, Number: 1, Open: true, HeadSHA: headSHA, CloneURL: "https://git.example.org/s.git"})
	gh := fakegithub.New(fs, "t")
	t.Cleanup(gh.Close)
	f, err := forge.NewGitHub(gh.URL, "t", nil)
	require.NoError(t, err)
	dr := fakedrone.New(fakedrone.Config{BranchHeads: map[string]string{"main": headSHA},
		Runner: func(ctx context.Context, _ drone.Build, _ io.Writer) (int, error) { <-ctx.Done(); return 143, nil }})
	t.Cleanup(dr.Close)
	m := &counts{}
	svc := New(Config{DroneRepo: "coop-cloud/cc-ci", DroneBranch: "main", DroneURL: "https://drone.example.org",
		RunsDir: t.TempDir(), Workers: 4, RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
		Sweep: 20 * time.Millisecond, Reconcile: time.Hour,
		Recipe: func(string, string) (string, bool) { return "sample", true }, Bots: map[string]string{"github": "cc-ci-bot"}},
		st, map[string]forge.Forge{"github": f}, dr.Client(), m, slog.New(slog.DiscardHandler))
	return &rig{svc: svc, st: st, forge: fs, drone: dr, m: m}
}

func (r *rig) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func testme(id int64) event.Event {
	return event.Event{Forge: "github", DeliveryID: "d", Kind: event.Comment, Repo: testRepo, Owner: "coop-cloud",
		PR: 1, PROpen: true, CommentID: id, Body: "!testme", Author: "maintainer", Received: time.Now()}
}

// eventually waits for cond on in-process state the fakes offer no event for.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, 5*time.Millisecond, what)
}

func TestConcurrentAcceptsOfOneCommentStartOneBuild(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.run(t)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { assert.NoError(t, r.svc.Accept(context.Background(), testme(7))) })
	}
	wg.Wait()
	eventually(t, "the build to start and the PR to be told", func() bool { return r.m.get("latency") == 1 })
	assert.Equal(t, 1, r.drone.CreateCount())
	assert.Equal(t, 1, r.m.get("build_started"))
}

func TestARequestFoundStartingAdoptsItsBuildInsteadOfStartingAnother(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	// The bridge died after BuildCreate reached Drone and before it stored the answer: the store
	// says Starting, Drone has the build with the request's key.
	req, _, err := r.st.Add(testme(9))
	require.NoError(t, err)
	req.State, req.SHA = store.Starting, headSHA
	require.NoError(t, r.st.PutWithPR(req, store.PR{Key: event.PRKey("github", testRepo, 1), Current: req.Key, SHA: headSHA}))
	_, err = r.drone.Client().BuildCreate("coop-cloud", "cc-ci", "", "main", map[string]string{ParamRequest: req.Key})
	require.NoError(t, err)

	r.run(t)
	eventually(t, "the request to be started", func() bool {
		got, err := r.st.Get(req.Key)
		return err == nil && got.State == store.Started && got.Acked
	})
	got, err := r.st.Get(req.Key)
	require.NoError(t, err)
	assert.Equal(t, int64(1), got.Build, "the build already in Drone")
	assert.Equal(t, 1, r.drone.CreateCount(), "no second build")
	assert.Equal(t, 1, r.m.get("reconcile:build_adopted"))
}

func TestADroneOutageIsRetriedWithBackoffAndStartsOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.drone.SetDown(true)
	r.run(t)
	require.NoError(t, r.svc.Accept(context.Background(), testme(11)))
	eventually(t, "a few retries", func() bool { return r.m.get("reconcile:retry") >= 3 })
	assert.Equal(t, 0, r.drone.CreateCount())
	req, err := r.st.Get(event.RequestKey("github", testRepo, 11))
	require.NoError(t, err)
	assert.True(t, req.Queued, "the PR was told it is queued")
	assert.Equal(t, store.Starting, req.State)
	r.drone.SetDown(false)
	eventually(t, "the build", func() bool { return r.m.get("build_started") == 1 })
	assert.Equal(t, 1, r.drone.CreateCount())
}

func TestAnInterruptedTrustCheckIsRetriedNotRefused(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	req, _, err := r.st.Add(testme(13))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the bridge is shutting down as the worker asks the forge
	wk := wake{key: req.Key}
	r.svc.work(ctx, wk)
	got, err := r.st.Get(req.Key)
	require.NoError(t, err)
	assert.Equal(t, store.Received, got.State, "no answer about the commenter was taken from our own shutdown")
	assert.Equal(t, 1, got.Attempts)
	assert.Empty(t, r.forge.CommentsBy(testRepo, 1, "cc-ci-bot"), "no refusal posted")
}
