package fakedrone_test

import (
	"testing"
	"time"

	"github.com/drone/drone-go/drone"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
)

func TestSeededHistoryIsServedLikeBuildsThatRan(t *testing.T) {
	t.Parallel()
	s := start(t, fakedrone.Config{})
	c := s.Client()
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	statuses := []string{drone.StatusPassing, drone.StatusFailing, drone.StatusKilled, drone.StatusError}
	var hist []fakedrone.History
	for i := range 150 {
		hist = append(hist, fakedrone.History{Status: statuses[i%len(statuses)], Commit: sha, Error: "boom",
			Params:  map[string]string{"CCCI_RECIPE": "sample"},
			Created: at.Add(time.Duration(i) * time.Minute), Finished: at.Add(time.Duration(i)*time.Minute + 30*time.Second),
			Log: "line one\nline two\n"})
	}
	hist = append(hist, fakedrone.History{Status: drone.StatusRunning, Commit: sha}, fakedrone.History{Status: drone.StatusPending})
	numbers, err := s.Seed(owner, name, hist...)
	require.NoError(t, err)
	require.Len(t, numbers, 152)
	assert.Equal(t, int64(1), numbers[0])
	assert.Equal(t, int64(152), numbers[151])

	var listed []*drone.Build
	for page := 1; ; page++ {
		bs, err := c.BuildList(owner, name, drone.ListOptions{Page: page, Size: 100})
		require.NoError(t, err)
		if len(bs) == 0 {
			break
		}
		listed = append(listed, bs...)
	}
	require.Len(t, listed, 152, "every page of the history")
	assert.Equal(t, drone.StatusPending, listed[0].Status, "newest first")
	assert.Equal(t, drone.StatusRunning, listed[1].Status)
	assert.Equal(t, drone.StatusPassing, listed[151].Status)
	assert.Equal(t, at.Add(30*time.Second).Unix(), listed[151].Finished)
	assert.Equal(t, "sample", listed[151].Params["CCCI_RECIPE"])

	failed, err := c.Build(owner, name, 2)
	require.NoError(t, err)
	assert.Equal(t, drone.StatusFailing, failed.Status)
	require.Len(t, failed.Stages, 1)
	require.Len(t, failed.Stages[0].Steps, 1)
	assert.Equal(t, 1, failed.Stages[0].Steps[0].ExitCode)
	killed, err := c.Build(owner, name, 3)
	require.NoError(t, err)
	assert.Equal(t, 130, killed.Stages[0].Steps[0].ExitCode)
	errored, err := c.Build(owner, name, 4)
	require.NoError(t, err)
	assert.Equal(t, "boom", errored.Stages[0].Error)

	lines, err := c.Logs(owner, name, 1, 1, 1)
	require.NoError(t, err)
	require.Len(t, lines, 2)
	assert.Equal(t, "line two\n", lines[1].Message)
	_, err = c.Logs(owner, name, 151, 1, 1)
	assert.ErrorContains(t, err, "client error 404", "a running step's log is not uploaded yet")

	require.NoError(t, s.EndSeeded(owner, name, 151, drone.StatusPassing, "done\n", at.Add(time.Hour)))
	ended, err := c.Build(owner, name, 151)
	require.NoError(t, err)
	assert.Equal(t, drone.StatusPassing, ended.Status)
	assert.Equal(t, at.Add(time.Hour).Unix(), ended.Finished)
	lines, err = c.Logs(owner, name, 151, 1, 1)
	require.NoError(t, err)
	assert.Equal(t, "done\n", lines[0].Message)
	assert.Error(t, s.EndSeeded(owner, name, 151, drone.StatusFailing, "", at), "a build ends once")
	assert.Error(t, s.EndSeeded(owner, name, 152, drone.StatusRunning, "", at), "running is not an end")
}

func TestSeedRefusesWhatDroneWouldNeverHold(t *testing.T) {
	t.Parallel()
	s := start(t, fakedrone.Config{Repos: []string{owner + "/" + name}})
	_, err := s.Seed(owner, name, fakedrone.History{Status: drone.StatusPassing}, fakedrone.History{Status: "green"})
	assert.ErrorContains(t, err, `"green"`)
	_, err = s.Seed(owner, "unknown", fakedrone.History{Status: drone.StatusPassing})
	assert.Error(t, err)
	assert.Empty(t, s.Builds(owner, name), "a refused seed adds nothing")
}
