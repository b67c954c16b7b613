package abra

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunStartsAbraAsConfigured(t *testing.T) {
	t.Parallel()
	f := newFakeAbra(t)
	cwd := t.TempDir()
	out := &syncBuffer{}
	c := f.client("ok", out)
	c.Dir = cwd

	res, err := c.Run(t.Context(), DeployArgs("app.ci.example", "", true)...)
	require.NoError(t, err)

	got := f.invocations(t)
	require.Len(t, got, 1)
	assert.Equal(t, DeployArgs("app.ci.example", "", true), got[0].args, "argv is passed exactly")
	assert.Equal(t, f.abraDir, got[0].abraDir, "ABRA_DIR comes from Env")
	assert.Equal(t, cwd, got[0].cwd, "abra runs in Dir")
	assert.True(t, got[0].tty, "stdin and stdout are a terminal")
	assert.Equal(t, "using secret ****\n", res.Output, "output is captured masked, with \\n line ends")
	assert.Equal(t, "+ abra app deploy app.ci.example --no-input --no-converge-checks --no-domain-checks --chaos\nusing secret ****\n",
		out.String(), "the command and its masked output are streamed to Out")
	assert.Positive(t, res.Duration)
}

func TestRunReportsAFailureWithItsExitCodeAndMaskedTail(t *testing.T) {
	t.Parallel()
	f := newFakeAbra(t)
	out := &syncBuffer{}
	c := f.client("fail", out)

	res, err := c.Run(t.Context(), DeployArgs("app.ci.example", "1.0.0+1", false)...)

	abraErr, ok := errors.AsType[*Error](err)
	require.True(t, ok, "error is an *Error: %v", err)
	assert.Equal(t, 3, abraErr.ExitCode)
	assert.False(t, abraErr.Timeout)
	assert.Equal(t, DeployArgs("app.ci.example", "1.0.0+1", false), abraErr.Args)
	lines := strings.Split(abraErr.Output, "\n")
	assert.Len(t, lines, tailLines, "only the tail is kept")
	assert.Equal(t, "step 22", lines[0])
	assert.Equal(t, "FATA secret **** was rejected", lines[len(lines)-1])
	assert.Equal(t, "abra app deploy app.ci.example 1.0.0+1 --no-input --no-converge-checks --no-domain-checks: exit code 3: "+
		"FATA secret **** was rejected", err.Error())
	assert.Contains(t, res.Output, "using secret ****", "the whole output is still returned")
	for name, text := range map[string]string{
		"Out": out.String(), "Result.Output": res.Output, "Error.Output": abraErr.Output,
		"Error()": err.Error(),
	} {
		assert.NotContains(t, text, f.secret, "%s leaks the secret", name)
	}
}

func TestRunKillsAbraAndItsChildrenOnTimeout(t *testing.T) {
	t.Parallel()
	f := newFakeAbra(t)
	c := f.client("hang", &syncBuffer{})
	c.Timeout = 10 * time.Minute
	c.Timeouts = map[string]time.Duration{CmdAppDeploy: time.Second}

	res, err := c.Run(t.Context(), DeployArgs("app.ci.example", "", true)...)

	abraErr, ok := errors.AsType[*Error](err)
	require.True(t, ok, "error is an *Error: %v", err)
	assert.True(t, abraErr.Timeout, "the per-subcommand timeout fired")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, -1, abraErr.ExitCode)
	assert.Contains(t, err.Error(), "timed out after")
	assert.Less(t, res.Duration, time.Minute, "abra's own ten-minute timeout did not apply")
	requireGone(t, f.grandchild(t))
	record, readErr := os.ReadFile(f.record)
	require.NoError(t, readErr)
	assert.Contains(t, string(record), "got-term", "abra got SIGTERM first, to clean up")
}

func TestRunStopsAbraWhenTheContextIsCanceled(t *testing.T) {
	t.Parallel()
	f := newFakeAbra(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &syncBuffer{onLine: func(line string) {
		if line == "ready" {
			cancel()
		}
	}}
	c := f.client("hang", out)

	_, err := c.Run(ctx, RestoreArgs("app.ci.example")...)

	abraErr, ok := errors.AsType[*Error](err)
	require.True(t, ok, "error is an *Error: %v", err)
	assert.False(t, abraErr.Timeout, "a cancel is not a timeout")
	assert.ErrorIs(t, err, context.Canceled)
	requireGone(t, f.grandchild(t))
}

func TestRunKillsAnAbraThatIgnoresSIGTERMAfterTheGrace(t *testing.T) {
	t.Parallel()
	f := newFakeAbra(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &syncBuffer{onLine: func(line string) {
		if line == "ready" {
			cancel()
		}
	}}
	c := f.client("stubborn", out)
	c.KillGrace = 300 * time.Millisecond

	res, err := c.Run(ctx, BackupCreateArgs("app.ci.example")...)

	abraErr, ok := errors.AsType[*Error](err)
	require.True(t, ok, "error is an *Error: %v", err)
	assert.Equal(t, -1, abraErr.ExitCode, "a signal ended it")
	assert.GreaterOrEqual(t, res.Duration, c.KillGrace, "SIGKILL waited for the grace")
	requireGone(t, f.grandchild(t))
}

func TestRunLeavesNoProcessOfAbraBehindAfterANormalExit(t *testing.T) {
	t.Parallel()
	f := newFakeAbra(t)
	c := f.client("leave", &syncBuffer{})

	res, err := c.Run(t.Context(), SecretGenerateArgs("app.ci.example")...)

	require.NoError(t, err)
	assert.Contains(t, res.Output, "done")
	requireGone(t, f.grandchild(t))
	assert.Less(t, res.Duration, drainTimeout, "the terminal closed with the group, no drain wait")
}

func TestRunReturnsWhenAnEscapedProcessKeepsTheTerminalOpen(t *testing.T) {
	t.Parallel()
	f := newFakeAbra(t)
	c := f.client("escape", &syncBuffer{})

	res, err := c.Run(t.Context(), UndeployArgs("app.ci.example")...)
	pid := f.grandchild(t)
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })

	require.NoError(t, err)
	assert.Contains(t, res.Output, "done")
	assert.GreaterOrEqual(t, res.Duration, drainTimeout, "the escaped process held the terminal")
	assert.Less(t, res.Duration, drainTimeout+10*time.Second, "the drain is bounded")
}

func TestRunRefusesWhatCannotRun(t *testing.T) {
	t.Parallel()
	f := newFakeAbra(t)
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name    string
		edit    func(c *Client)
		ctx     context.Context
		args    []string
		wantIs  error
		wantMsg []string
	}{
		{
			name:    "an environment without ABRA_DIR is refused",
			edit:    func(c *Client) { c.Env = []string{"PATH=" + f.dir} },
			args:    AppNewArgs("r", "", "s", "d"),
			wantIs:  ErrNoAbraDir,
			wantMsg: []string{"ABRA_DIR", "app new"},
		},
		{
			name:    "an empty ABRA_DIR overriding a set one is refused",
			edit:    func(c *Client) { c.Env = append(c.Env, "ABRA_DIR=") },
			args:    UndeployArgs("d"),
			wantIs:  ErrNoAbraDir,
			wantMsg: []string{"ABRA_DIR"},
		},
		{
			name:    "a binary missing from PATH names abra and the fix",
			edit:    func(c *Client) { c.Env = []string{"ABRA_DIR=/x", "PATH=" + t.TempDir()} },
			args:    UndeployArgs("d"),
			wantIs:  ErrNotFound,
			wantMsg: []string{`"abra"`, "install abra", "put it on PATH"},
		},
		{
			name:    "a missing binary path names the fix",
			edit:    func(c *Client) { c.Bin = filepath.Join(t.TempDir(), "abra") },
			args:    UndeployArgs("d"),
			wantIs:  ErrNotFound,
			wantMsg: []string{"install abra"},
		},
		{
			name:    "a binary only reachable through a relative PATH entry is not run",
			edit:    func(c *Client) { c.Env = []string{"ABRA_DIR=/x", "PATH=."}; c.Dir = f.dir },
			args:    UndeployArgs("d"),
			wantIs:  ErrNotFound,
			wantMsg: []string{"install abra"},
		},
		{
			name:    "an empty argument is refused",
			args:    []string{"app", "undeploy", "", "--no-input"},
			wantMsg: []string{"argument 3 is empty"},
		},
		{
			name:    "no arguments are refused",
			args:    nil,
			wantMsg: []string{"no arguments"},
		},
		{
			name:    "a context that is already canceled starts nothing",
			ctx:     canceled,
			args:    UndeployArgs("d"),
			wantIs:  context.Canceled,
			wantMsg: []string{"app undeploy d"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := f.client("ok", &syncBuffer{})
			if tt.edit != nil {
				tt.edit(c)
			}
			ctx := tt.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			_, err := c.Run(ctx, tt.args...)
			require.Error(t, err)
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
			for _, s := range tt.wantMsg {
				assert.Contains(t, err.Error(), s)
			}
			assert.Empty(t, c.Calls(), "nothing was started")
		})
	}
	_, statErr := os.Stat(f.record)
	assert.ErrorIs(t, statErr, os.ErrNotExist, "the fake never ran")
}

func TestCallsCountsEveryStartedInvocationPerSubcommand(t *testing.T) {
	t.Parallel()
	f := newFakeAbra(t)
	c := f.client("ok", &syncBuffer{})
	ctx := t.Context()
	var total time.Duration
	run := func(args []string) {
		res, err := c.Run(ctx, args...)
		require.NoError(t, err)
		total += res.Duration
	}
	run(AppNewArgs("r", "", "s", "d"))
	run(DeployArgs("d", "1.0.0", false))
	run(DeployArgs("d", "", true))
	run(SecretGenerateArgs("d"))
	failing := f.client("fail", &syncBuffer{})
	_, err := failing.Run(ctx, AppNewArgs("r", "", "s", "d")...)
	require.Error(t, err)

	assert.Equal(t, map[string]int{CmdAppNew: 1, CmdAppDeploy: 2, CmdSecretGenerate: 1}, c.Calls())
	assert.Equal(t, map[string]int{CmdAppNew: 1}, failing.Calls(), "a failed call still counts")
	assert.Equal(t, total, c.TimeInside(), "time inside is the sum of the calls")
	c.Calls()[CmdAppNew] = 99
	assert.Equal(t, 1, c.Calls()[CmdAppNew], "Calls returns a copy")
}

func TestRunIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	f := newFakeAbra(t)
	c := f.client("ok", &syncBuffer{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			_, err := c.Run(t.Context(), DeployArgs("d", "", true)...)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, 4, c.Calls()[CmdAppDeploy])
	assert.Len(t, f.invocations(t), 4)
}

// brokenWriter fails every write, like a closed Drone log pipe.
type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestRunFinishesWhenOutFails(t *testing.T) {
	t.Parallel()
	f := newFakeAbra(t)
	c := f.client("fail", &syncBuffer{})
	c.Out = brokenWriter{}

	res, err := c.Run(t.Context(), RecipeLintArgs("gitea")...)

	abraErr, ok := errors.AsType[*Error](err)
	require.True(t, ok, "abra ran to its own end: %v", err)
	assert.Equal(t, 3, abraErr.ExitCode)
	assert.Contains(t, res.Output, "FATA secret **** was rejected", "output is still captured")
}
