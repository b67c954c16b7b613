package source_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/drone/drone-go/drone"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/dashboard-gen/fakehistory"
	"coopcloud.tech/cc-ci/dashboard-gen/source"
	"coopcloud.tech/cc-ci/dashboard-gen/state"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/rundir"
	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
)

const (
	owner = "coop-cloud"
	name  = "cc-ci"
)

// counting is drone-go's client to the FAKE Drone, counting the list requests it sends.
type counting struct {
	drone.Client
	lists atomic.Int32
}

func (c *counting) BuildList(owner, name string, opts drone.ListOptions) ([]*drone.Build, error) {
	c.lists.Add(1)
	return c.Client.BuildList(owner, name, opts)
}

// newSource is a Source reading a FAKE Drone seeded with runs and a runs dir holding their
// results.json.
func newSource(t *testing.T, runs ...fakehistory.Run) (*source.Source, *fakedrone.Server, *counting) {
	t.Helper()
	fake := fakedrone.New(fakedrone.Config{})
	t.Cleanup(fake.Close)
	_, err := fake.Seed(owner, name, fakehistory.Histories(runs)...)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, fakehistory.WriteRunsDir(dir, runs))
	client := &counting{Client: drone.NewClient(fake.URL, &http.Client{Transport: source.Transport{Ctx: context.Background(), Token: fakedrone.DefaultToken}})}
	return &source.Source{Drone: client, Owner: owner, Name: name, RunsDir: dir, LinkBase: "https://drone.example.org",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, fake, client
}

func TestNewerReadsEveryPageAndStopsAtWhatItHas(t *testing.T) {
	t.Parallel()
	src, _, client := newSource(t, fakehistory.Mixed(250, fakehistory.Recipes(3))...)
	ctx := context.Background()

	all, err := src.Newer(ctx, 0)
	require.NoError(t, err)
	require.Len(t, all, 250, "the whole history, not the first page")
	assert.Equal(t, int64(250), all[0].Number)
	assert.Equal(t, int64(1), all[249].Number)
	assert.Equal(t, int32(3), client.lists.Load(), "pages of 100")

	client.lists.Store(0)
	newer, err := src.Newer(ctx, 245)
	require.NoError(t, err)
	assert.Len(t, newer, 5)
	assert.Equal(t, int32(1), client.lists.Load(), "one page reaches what is already read")

	client.lists.Store(0)
	none, err := src.Newer(ctx, 250)
	require.NoError(t, err)
	assert.Empty(t, none)
	assert.Equal(t, int32(1), client.lists.Load())
	assert.Positive(t, src.Waited())
}

func TestResultsComeFromTheRunsDirElseTheLog(t *testing.T) {
	t.Parallel()
	pass := fakehistory.Make(1, "sample", fakehistory.Pass)
	logOnly := fakehistory.Make(2, "sample", fakehistory.InLogOnly)
	killed := fakehistory.Make(3, "sample", fakehistory.Killed)
	corrupt := fakehistory.Make(4, "sample", fakehistory.Pass)
	otherRun := fakehistory.Make(5, "sample", fakehistory.Pass)
	forged := fakehistory.Make(6, "sample", fakehistory.FailAt)
	running := fakehistory.Make(7, "sample", fakehistory.Running)
	errored := fakehistory.Make(8, "sample", fakehistory.Errored)
	src, _, _ := newSource(t, pass, logOnly, killed, corrupt, otherRun, forged, running, errored)
	// The runs dir copy differs from the log's in one field: it must be the one read.
	pass.Results.Domain = "from-the-runs-dir.ci.local"
	require.NoError(t, fakehistory.WriteResults(src.RunsDir, pass.Results))
	require.NoError(t, os.WriteFile(rundir.ResultsFile(src.RunsDir, "drone-4"), []byte(`{"schema": 1, "verd`), 0o644))
	stray := *otherRun.Results
	stray.RunID = "drone-99" // a results.json of another run in this run's dir
	writeAs(t, src.RunsDir, "drone-5", &stray)
	// A results.json saying pass for a build that failed: not this build's verdict.
	forgedRes := fakehistory.Make(6, "sample", fakehistory.Pass).Results
	writeAs(t, src.RunsDir, "drone-6", forgedRes)

	tests := []struct {
		name        string
		number      int64
		wantResults string
		wantVerdict string
		wantProblem string
	}{
		{"the runs dir's results.json comes first", 1, state.FromRunsDir, results.VerdictPass, ""},
		{"without it, the step log's results line", 2, state.FromLog, results.VerdictPass, ""},
		{"a killed build without results is shown as such", 3, state.Missing, "", `ended "killed" without results.json`},
		{"a corrupt results.json falls back to the log", 4, state.FromLog, results.VerdictPass, ""},
		{"another run's results.json is not this build's", 5, state.Invalid, "", "not this build's run drone-5"},
		{"a verdict that disagrees with the build is not believed", 6, state.Invalid, "", `ended "failure" but its results say "pass"`},
		{"a running build has no results yet", 7, state.NotYet, "", ""},
		{"an errored build has none", 8, state.Missing, "", `ended "error"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := src.Build(context.Background(), tt.number)
			require.NoError(t, err)
			read := src.Read(context.Background(), b)
			assert.Equal(t, tt.wantResults, read.Run.Results)
			assert.Equal(t, tt.wantVerdict, read.Run.Verdict)
			assert.Contains(t, read.Run.Problem, tt.wantProblem)
			assert.Equal(t, "sample", read.Run.Recipe)
			assert.Equal(t, "https://drone.example.org/coop-cloud/cc-ci/"+itoa(tt.number), read.Run.Link)
			if tt.wantVerdict != "" {
				require.NotNil(t, read.Results)
				assert.NotEmpty(t, read.JSON)
			} else {
				assert.Nil(t, read.Results)
			}
		})
	}
	b, err := src.Build(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, "from-the-runs-dir.ci.local", src.Read(context.Background(), b).Results.Domain)

}

func TestDroneNotAnsweringForTheLogIsNoVerdict(t *testing.T) {
	t.Parallel()
	src, fake, _ := newSource(t, fakehistory.Make(1, "sample", fakehistory.Killed))
	b, err := src.Build(context.Background(), 1)
	require.NoError(t, err)
	fake.SetDown(true)
	read := src.Read(context.Background(), b)
	assert.Equal(t, state.NotYet, read.Run.Results, "read again next run, not judged missing")
	assert.False(t, read.Run.Settled())
	assert.Contains(t, read.Run.Problem, "could not be read yet")
}

func TestOnlyAPlainScreenshotIsTaken(t *testing.T) {
	t.Parallel()
	src, _, _ := newSource(t, fakehistory.Make(1, "sample", fakehistory.Pass), fakehistory.Make(2, "sample", fakehistory.Pass))
	shot := filepath.Join(src.RunsDir, "drone-1", source.ScreenshotName)
	require.NoError(t, os.WriteFile(shot, []byte("\x89PNG fake"), 0o644))
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(src.RunsDir, "drone-2", source.ScreenshotName)))
	for n, want := range map[int64]string{1: shot, 2: ""} {
		b, err := src.Build(context.Background(), n)
		require.NoError(t, err)
		read := src.Read(context.Background(), b)
		assert.Equal(t, want, read.Screenshot, "build %d", n)
		assert.Equal(t, want != "", read.Run.Screenshot)
	}
}

func TestTheContextAbortsARequestInFlight(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done() // a Drone that never answers
	}))
	t.Cleanup(hung.Close)
	ctx, cancel := context.WithCancel(context.Background())
	client := drone.NewClient(hung.URL, &http.Client{Transport: source.Transport{Ctx: ctx}})
	go func() {
		<-arrived
		cancel() // SIGTERM from systemd
	}()
	_, err := client.BuildList(owner, name, drone.ListOptions{})
	assert.ErrorIs(t, err, context.Canceled)
}

// writeAs writes r as run id's results.json, whatever run r says it is.
func writeAs(t *testing.T, runsDir, id string, r *results.Results) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, fakehistory.WriteResults(dir, r))
	data, err := os.ReadFile(rundir.ResultsFile(dir, r.RunID))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(rundir.ResultsFile(runsDir, id), data, 0o644))
}

func itoa(n int64) string { return rundir.DroneRunID(uint64(n))[len("drone-"):] }
