package fakedrone_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/drone/drone-go/drone"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
)

func TestCreateRoundTripsParamsAndNumbersBuildsPerRepo(t *testing.T) {
	t.Parallel()
	s := start(t, fakedrone.Config{})
	params := map[string]string{"CCCI_RECIPE": "sample", "CCCI_PR": "7", "CCCI_MODE": "quick"}

	b, err := s.Client().BuildCreate(owner, name, sha, "pr-7", params)
	require.NoError(t, err)
	assert.Equal(t, int64(1), b.Number)
	assert.Equal(t, "custom", b.Event)
	assert.Equal(t, drone.StatusPending, b.Status)
	assert.Equal(t, params, b.Params)
	assert.Equal(t, sha, b.After)
	assert.Equal(t, "refs/heads/pr-7", b.Ref)
	assert.Equal(t, "https://forge.invalid/coop-cloud/cc-ci/commit/"+sha, b.Link, "Build.Link is the commit's page")
	assert.Equal(t, s.URL+"/coop-cloud/cc-ci/1", s.BuildLink(owner, name, 1))

	got, err := s.Client().Build(owner, name, 1)
	require.NoError(t, err)
	assert.Equal(t, params, got.Params)

	second, err := s.Client().BuildCreate(owner, name, sha, "", nil)
	require.NoError(t, err)
	assert.Equal(t, int64(2), second.Number)
	other, err := s.Client().BuildCreate(owner, "other", sha, "", nil)
	require.NoError(t, err)
	assert.Equal(t, int64(1), other.Number, "numbers count per repository")
	assert.Equal(t, 3, s.CreateCount())

	copies := s.Builds(owner, name)
	require.Len(t, copies, 2)
	copies[0].Params["CCCI_RECIPE"] = "changed"
	assert.Equal(t, "sample", s.Builds(owner, name)[0].Params["CCCI_RECIPE"], "Builds returns copies")
}

func TestCreateResolvesTheCommitLikeDrone(t *testing.T) {
	t.Parallel()
	s := start(t, fakedrone.Config{BranchHeads: map[string]string{"main": sha}, Repos: []string{owner + "/" + name}})
	c := s.Client()

	b, err := c.BuildCreate(owner, name, "", "", nil)
	require.NoError(t, err, "no commit and no branch: the default branch's head")
	assert.Equal(t, sha, b.After)
	assert.Equal(t, "refs/heads/main", b.Ref)

	_, err = c.BuildCreate(owner, name, "", "unknown-branch", nil)
	assert.ErrorContains(t, err, "client error 404", "a branch the forge cannot resolve")
	_, err = c.BuildCreate(owner, "not-enrolled", sha, "", nil)
	assert.ErrorContains(t, err, "client error 404", "a repository Drone does not know")
	assert.Equal(t, 1, s.CreateCount())
}

func TestRunnerOutcomesMapToDroneStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		code       int
		err        error
		want       string
		wantExit   int
		stageError string
	}{
		{name: "a step that exits 0 makes the build a success", code: 0, want: drone.StatusPassing},
		{name: "exit code 78 (Drone's skip-the-rest) is a success too", code: 78, want: drone.StatusPassing, wantExit: 78},
		{name: "a non-zero exit makes the build a failure with the exit code", code: 3, want: drone.StatusFailing, wantExit: 3},
		{name: "a runner that cannot start the step makes the build an error", err: errors.New("exec: no such file"),
			want: drone.StatusError, stageError: "exec: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, fakedrone.Config{Runner: func(context.Context, drone.Build, io.Writer) (int, error) {
				return tt.code, tt.err
			}})
			b := createAndWait(t, s, nil)
			assert.Equal(t, tt.want, b.Status)
			assert.NotZero(t, b.Started)
			assert.NotZero(t, b.Finished)
			assert.Equal(t, tt.want, b.Stages[0].Status)
			assert.Equal(t, tt.stageError, b.Stages[0].Error)
			step := stepOf(t, b)
			assert.Equal(t, tt.wantExit, step.ExitCode)

			got, err := s.Client().Build(owner, name, int(b.Number))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Status, "the API answers the same")
		})
	}
}

// blockingRunner returns a runner that reports on started and then waits to be cancelled.
func blockingRunner(started chan<- struct{}) fakedrone.Runner {
	return func(ctx context.Context, _ drone.Build, log io.Writer) (int, error) {
		_, _ = fmt.Fprintln(log, "waiting")
		started <- struct{}{}
		<-ctx.Done()
		return 0, ctx.Err()
	}
}

func TestCancelKillsARunningBuildAndLeavesAFinishedOneAlone(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 1)
	s := start(t, fakedrone.Config{Runner: blockingRunner(started)})
	c := s.Client()
	b, err := c.BuildCreate(owner, name, sha, "", nil)
	require.NoError(t, err)
	<-started

	running, err := c.Build(owner, name, int(b.Number))
	require.NoError(t, err)
	assert.Equal(t, drone.StatusRunning, running.Status)
	assert.Equal(t, drone.StatusRunning, stepOf(t, *running).Status)

	require.NoError(t, c.BuildCancel(owner, name, int(b.Number)))
	killed, err := c.Build(owner, name, int(b.Number))
	require.NoError(t, err)
	assert.Equal(t, drone.StatusKilled, killed.Status, "killed as soon as the cancel is answered")
	done, err := s.WaitFinished(deadline(t), owner, name, b.Number)
	require.NoError(t, err)
	assert.Equal(t, drone.StatusKilled, done.Status, "the runner's return does not overwrite it")
	assert.Equal(t, drone.StatusKilled, done.Stages[0].Status)
	assert.Equal(t, drone.StatusKilled, stepOf(t, done).Status)
	assert.Equal(t, 130, stepOf(t, done).ExitCode)

	require.NoError(t, c.BuildCancel(owner, name, int(b.Number)), "cancelling a finished build answers 200")
	again, err := c.Build(owner, name, int(b.Number))
	require.NoError(t, err)
	assert.Equal(t, done.Version, again.Version, "and changes nothing")
	assert.Equal(t, 2, s.CancelCount())

	assert.ErrorContains(t, c.BuildCancel(owner, name, 99), "client error 404")
}

func TestLogsServeStageOneStepOneOnceTheStepIsOver(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 1)
	s := start(t, fakedrone.Config{Runner: func(ctx context.Context, b drone.Build, log io.Writer) (int, error) {
		for _, chunk := range []string{"hello\nwor", "ld\n", "tail"} {
			_, _ = io.WriteString(log, chunk)
		}
		started <- struct{}{}
		<-ctx.Done()
		return 0, nil
	}})
	c := s.Client()
	b, err := c.BuildCreate(owner, name, sha, "", nil)
	require.NoError(t, err)
	<-started
	_, err = c.Logs(owner, name, int(b.Number), 1, 1)
	assert.ErrorContains(t, err, "client error 404", "Drone serves a step's log once it is uploaded, at its end")

	require.NoError(t, c.BuildCancel(owner, name, int(b.Number)))
	_, err = s.WaitFinished(deadline(t), owner, name, b.Number)
	require.NoError(t, err)
	lines, err := c.Logs(owner, name, int(b.Number), 1, 1)
	require.NoError(t, err)
	require.Len(t, lines, 3)
	for i, want := range []string{"hello\n", "world\n", "tail"} {
		assert.Equal(t, i, lines[i].Number)
		assert.Equal(t, want, lines[i].Message)
	}
	assert.Equal(t, "hello\nworld\ntail", s.Log(owner, name, b.Number))

	for _, at := range [][3]int{{int(b.Number), 2, 1}, {int(b.Number), 1, 2}, {42, 1, 1}} {
		_, err := c.Logs(owner, name, at[0], at[1], at[2])
		assert.ErrorContains(t, err, "client error 404", "build %d stage %d step %d", at[0], at[1], at[2])
	}
}

func TestListIsNewestFirstAndPagedLikeDrone(t *testing.T) {
	t.Parallel()
	s := start(t, fakedrone.Config{})
	c := s.Client()
	const total = 105
	for range total {
		_, err := c.BuildCreate(owner, name, sha, "", nil)
		require.NoError(t, err)
	}
	numbers := func(opts drone.ListOptions) []int64 {
		t.Helper()
		list, err := c.BuildList(owner, name, opts)
		require.NoError(t, err)
		out := []int64{}
		for _, b := range list {
			assert.Empty(t, b.Stages, "listed builds carry no stages")
			out = append(out, b.Number)
		}
		return out
	}
	desc := func(from, to int64) []int64 {
		out := []int64{}
		for n := from; n >= to; n-- {
			out = append(out, n)
		}
		return out
	}
	assert.Equal(t, desc(105, 6), numbers(drone.ListOptions{Page: 1, Size: 100}))
	assert.Equal(t, desc(5, 1), numbers(drone.ListOptions{Page: 2, Size: 100}))
	assert.Empty(t, numbers(drone.ListOptions{Page: 3, Size: 100}))
	assert.Equal(t, desc(105, 81), numbers(drone.ListOptions{}), "the default page size is 25")
	assert.Equal(t, desc(105, 81), numbers(drone.ListOptions{Size: 101}), "more than 100 falls back to 25")
	assert.Equal(t, desc(80, 56), numbers(drone.ListOptions{Page: 2}))
}

func TestRequestsWithoutTheTokenAreUnauthorized(t *testing.T) {
	t.Parallel()
	s := start(t, fakedrone.Config{Token: "right"})
	for _, client := range []drone.Client{
		drone.NewClient(s.URL, http.DefaultClient),
		drone.NewClient(s.URL, &http.Client{Transport: fakedrone.BearerTransport{Token: "wrong"}}),
	} {
		_, err := client.BuildCreate(owner, name, sha, "", nil)
		assert.ErrorContains(t, err, `client error 401: {"message":"Unauthorized"}`)
		_, err = client.BuildList(owner, name, drone.ListOptions{})
		assert.ErrorContains(t, err, "client error 401")
	}
	assert.Zero(t, s.CreateCount())
	_, err := drone.NewClient(s.URL+"/", http.DefaultClient).Self()
	assert.ErrorContains(t, err, "client error 404", "an endpoint the fake does not serve")
	_, err = s.Client().BuildCreate(owner, name, sha, "", nil)
	assert.NoError(t, err)
}

func TestADownServerAnswers503AndCreatesNothing(t *testing.T) {
	t.Parallel()
	s := start(t, fakedrone.Config{})
	c := s.Client()
	s.SetDown(true)
	_, err := c.BuildCreate(owner, name, sha, "", nil)
	assert.ErrorContains(t, err, "client error 503")
	_, err = c.BuildList(owner, name, drone.ListOptions{})
	assert.ErrorContains(t, err, "client error 503")
	assert.Zero(t, s.CreateCount())

	s.SetDown(false)
	b, err := c.BuildCreate(owner, name, sha, "", nil)
	require.NoError(t, err)
	assert.Equal(t, int64(1), b.Number, "nothing was created while down")
	_, err = s.WaitCreated(deadline(t), owner, name, 1)
	assert.NoError(t, err)
}
