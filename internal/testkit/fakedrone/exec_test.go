package fakedrone_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drone/drone-go/drone"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
)

// logEnv parses the env helper's output from the build's step log, read through the API.
func logEnv(t *testing.T, s *fakedrone.Server, number int64) map[string]string {
	t.Helper()
	lines, err := s.Client().Logs(owner, name, int(number), 1, 1)
	require.NoError(t, err)
	env := map[string]string{}
	for _, l := range lines {
		if k, v, ok := strings.Cut(strings.TrimSuffix(l.Message, "\n"), "="); ok {
			env[k] = v
		}
	}
	return env
}

func TestExecRunnerGivesTheStepDronesEnvironment(t *testing.T) {
	t.Parallel()
	s := start(t, fakedrone.Config{Runner: helperRunner(t, "env", fakedrone.ExecConfig{
		Env:     []string{"CCCI_FROM_RUNNER=yes", "CCCI_RECIPE=from-runner", "PATH=/nowhere"},
		StepEnv: []string{"CCCI_DEADLINE=60m"},
	})})
	b := createAndWait(t, s, map[string]string{
		"CCCI_RECIPE": "sample", "CCCI_REF": sha, "DRONE_BUILD_EVENT": "push",
	})
	require.Equal(t, drone.StatusPassing, b.Status)
	env := logEnv(t, s, b.Number)

	for k, want := range map[string]string{
		"CCCI_RECIPE":        "sample", // a param beats the runner's environment
		"CCCI_REF":           sha,
		"CCCI_FROM_RUNNER":   "yes",
		"CCCI_DEADLINE":      "60m",
		"PATH":               os.Getenv("PATH"), // the host's PATH beats both
		"DRONE_BUILD_EVENT":  "custom",          // Drone's own variables beat params
		"DRONE_BUILD_NUMBER": "1",
		"DRONE_REPO":         owner + "/" + name,
		"DRONE_COMMIT":       sha,
		"DRONE_COMMIT_SHA":   sha,
		"DRONE_BRANCH":       "main",
		"DRONE_BUILD_LINK":   s.BuildLink(owner, name, 1),
		"DRONE_STAGE_NAME":   "recipe-run",
		"DRONE_STEP_NAME":    "cc-ci",
		"DRONE_STEP_NUMBER":  "1",
		"CI":                 "true",
	} {
		assert.Equal(t, want, env[k], k)
	}
	assert.NotContains(t, env, leakVar, "nothing of the runner's process environment but PATH and USER")
	assert.True(t, strings.HasSuffix(env["HOME"], filepath.Join("home", "drone")), env["HOME"])
	assert.Equal(t, env["DRONE_WORKSPACE"], env["PWD_IS"], "the step runs in its workspace")
	_, err := os.Stat(env["PWD_IS"])
	assert.ErrorIs(t, err, os.ErrNotExist, "the workspace is removed after the step")
}

func TestExecRunnerReportsTheStepsExitCode(t *testing.T) {
	t.Parallel()
	s := start(t, fakedrone.Config{Runner: helperRunner(t, "env", fakedrone.ExecConfig{})})
	b := createAndWait(t, s, map[string]string{"FAKEDRONE_EXIT": "3"})
	assert.Equal(t, drone.StatusFailing, b.Status)
	assert.Equal(t, 3, stepOf(t, b).ExitCode)
}

func TestExecRunnerThatCannotStartTheStepIsAnError(t *testing.T) {
	t.Parallel()
	s := start(t, fakedrone.Config{Runner: fakedrone.ExecRunner(filepath.Join(t.TempDir(), "missing"), nil)})
	b := createAndWait(t, s, nil)
	assert.Equal(t, drone.StatusError, b.Status)
	assert.Contains(t, b.Stages[0].Error, "start step")
}

func TestCancelStopsTheStepProcess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		grace    time.Duration
		ignore   bool
		wantLog  string
		denyLogs []string
	}{
		{name: "a step that honours SIGTERM exits within the grace", grace: 30 * time.Second,
			wantLog: "got SIGTERM, exiting"},
		{name: "a step that ignores SIGTERM is SIGKILLed after the grace", grace: 200 * time.Millisecond,
			ignore: true, wantLog: "ignoring SIGTERM", denyLogs: []string{"exiting"}},
		{name: "a negative grace SIGKILLs at once, as Drone's runners do", grace: -1,
			denyLogs: []string{"SIGTERM"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, fakedrone.Config{Runner: helperRunner(t, "block", fakedrone.ExecConfig{Grace: tt.grace})})
			pidfile := filepath.Join(t.TempDir(), "pid")
			params := map[string]string{"FAKEDRONE_PIDFILE": pidfile}
			if tt.ignore {
				params["FAKEDRONE_IGNORE_TERM"] = "1"
			}
			b, err := s.Client().BuildCreate(owner, name, sha, "", params)
			require.NoError(t, err)
			// The step is an external process: poll for its pid file, with a deadline.
			require.Eventually(t, func() bool { _, err := os.Stat(pidfile); return err == nil },
				30*time.Second, 10*time.Millisecond)
			raw, err := os.ReadFile(pidfile)
			require.NoError(t, err)
			pid, err := strconv.Atoi(string(raw))
			require.NoError(t, err)

			require.NoError(t, s.Client().BuildCancel(owner, name, int(b.Number)))
			done, err := s.WaitFinished(deadline(t), owner, name, b.Number)
			require.NoError(t, err)
			assert.Equal(t, drone.StatusKilled, done.Status)
			assert.True(t, errors.Is(syscall.Kill(pid, 0), syscall.ESRCH), "the step process is gone")
			log := s.Log(owner, name, b.Number)
			assert.Contains(t, log, "blocking")
			assert.Contains(t, log, tt.wantLog)
			for _, deny := range tt.denyLogs {
				assert.NotContains(t, log, deny)
			}
		})
	}
}

func TestExecRunnerWaitsForOutputTheStepLeftBehind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		late     string
		drain    time.Duration
		wantLate bool
	}{
		{name: "a process the step left behind finishes its output before the build finishes",
			late: "300ms", drain: time.Minute, wantLate: true},
		{name: "one that outlives the drain is killed and the build finishes anyway",
			late: "forever", drain: 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, fakedrone.Config{Runner: helperRunner(t, "orphan", fakedrone.ExecConfig{Drain: tt.drain})})
			b := createAndWait(t, s, map[string]string{"FAKEDRONE_LATE": tt.late})
			assert.Equal(t, drone.StatusPassing, b.Status)
			log := s.Log(owner, name, b.Number)
			assert.Contains(t, log, "step exits")
			if tt.wantLate {
				assert.Contains(t, log, "late line")
			} else {
				assert.NotContains(t, log, "late line")
			}
		})
	}
}
