package lifetime_test

import (
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/lifetime"
)

func TestWrapperSIGKILLedChildGetsSIGTERMAndTearsDown(t *testing.T) {
	t.Parallel()
	files := newRunFiles(t)
	wrapper := startHelper(t, "wrapper", files.env()...)
	child := wrapper.awaitChildPid()
	wrapper.await("ready")
	require.False(t, lockFree(t, files.lockDir), "the child must hold the app lock while it runs")

	require.NoError(t, wrapper.cmd.Process.Kill())
	require.Equal(t, 128+int(syscall.SIGKILL), wrapper.exitCode())

	// The child's stdout is the same pipe: it outlives the wrapper.
	wrapper.await("teardown-done")
	state, err := child.Wait() // reparented to the test process, a child subreaper
	require.NoError(t, err)
	assert.Equal(t, lifetime.ExitSignal, shellCode(state))
	assert.Equal(t, 1, teardownRuns(t, files.marker))
	assert.True(t, lockFree(t, files.lockDir), "the app lock must be released")
}

func TestOrphanedChildRefusesToRun(t *testing.T) {
	t.Parallel()
	exited := startHelper(t, "exit0")
	require.Equal(t, 0, exited.exitCode())
	tests := []struct {
		name       string
		wrapperPid int
	}{
		{name: "wrapper pid names a process that has exited", wrapperPid: exited.cmd.Process.Pid},
		{name: "wrapper pid is init, as after reparenting to pid 1", wrapperPid: 1},
		{name: "wrapper pid is a live process that is not the parent", wrapperPid: syscall.Getppid()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := newRunFiles(t)
			// exit:0 keeps a broken check from hanging: the child would take the lock and exit 0.
			child := startHelper(t, "child", files.env(
				lifetime.EnvChild+"="+strconv.Itoa(tt.wrapperPid), envAction+"=exit:0")...)

			assert.Equal(t, lifetime.ExitOrphaned, child.exitCode())
			child.await("orphaned")
			assert.NotContains(t, child.output(), "ready")
			assert.NoFileExists(t, files.lockDir+"/"+lockName, "the app lock must never be taken")
			assert.Equal(t, 0, teardownRuns(t, files.marker))
		})
	}
}

func TestDeadlineTearsDownAndExits142(t *testing.T) {
	t.Parallel()
	const deadline = 2 * time.Second
	files := newRunFiles(t)
	began := time.Now()
	child := startHelper(t, "child", files.env(asDirectChild(), envDeadline+"="+deadline.String())...)
	child.await("ready")
	require.False(t, lockFree(t, files.lockDir), "the child must hold the app lock while it runs")

	child.await("teardown-done")
	assert.Equal(t, lifetime.ExitDeadline, child.exitCode())
	assert.GreaterOrEqual(t, time.Since(began), deadline, "the deadline must not fire early")
	assert.Equal(t, 1, teardownRuns(t, files.marker))
	assert.True(t, lockFree(t, files.lockDir), "the app lock must be released")
}

func TestSIGTERMTearsDownAndExits143(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		role   string // which process is started and signalled
		signal syscall.Signal
	}{
		{name: "SIGTERM to the child itself", role: "child", signal: syscall.SIGTERM},
		{name: "SIGINT to the child itself", role: "child", signal: syscall.SIGINT},
		{name: "SIGTERM to the wrapper is forwarded and the child's code returned", role: "wrapper", signal: syscall.SIGTERM},
		{name: "SIGINT to the wrapper is forwarded and the child's code returned", role: "wrapper", signal: syscall.SIGINT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := newRunFiles(t)
			p := startHelper(t, tt.role, files.env(asDirectChild())...)
			if tt.role == "wrapper" {
				p.awaitChildPid()
			}
			p.await("ready")
			require.False(t, lockFree(t, files.lockDir), "the child must hold the app lock while it runs")

			require.NoError(t, p.cmd.Process.Signal(tt.signal))
			p.await("teardown-done")
			if tt.role == "wrapper" {
				p.await("wrap-returned 143")
			}
			assert.Equal(t, lifetime.ExitSignal, p.exitCode())
			assert.Equal(t, 1, teardownRuns(t, files.marker))
			assert.True(t, lockFree(t, files.lockDir), "the app lock must be released")
		})
	}
}

func TestSecondSignalDuringTeardownIsIgnored(t *testing.T) {
	t.Parallel()
	files := newRunFiles(t)
	child := startHelper(t, "child", files.env(asDirectChild(), envBlockTeardown+"=1")...)
	child.await("ready")

	require.NoError(t, child.cmd.Process.Signal(syscall.SIGTERM))
	child.await("teardown-started")
	require.NoError(t, child.cmd.Process.Signal(syscall.SIGTERM))
	child.await("ignored: teardown already in progress")
	_, err := child.stdin.WriteString("release\n")
	require.NoError(t, err)

	child.await("teardown-done")
	assert.Equal(t, lifetime.ExitSignal, child.exitCode())
	assert.Equal(t, 1, teardownRuns(t, files.marker))
	assert.True(t, lockFree(t, files.lockDir), "the app lock must be released")
}

func TestWrapForwardsExitCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		action string
		want   int
	}{
		{name: "child finishes with 0", action: "exit:0", want: 0},
		{name: "child finishes with 7", action: "exit:7", want: 7},
		{name: "child dies of SIGKILL", action: "sigkill", want: 128 + int(syscall.SIGKILL)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := newRunFiles(t)
			wrapper := startHelper(t, "wrapper", files.env(envAction+"="+tt.action)...)
			wrapper.awaitChildPid()
			wrapper.await("wrap-returned " + strconv.Itoa(tt.want))
			assert.Equal(t, tt.want, wrapper.exitCode())
		})
	}
}

// A wrapper's threads come and go; only the death of the thread that forked the child may send
// it the parent-death signal. Fork from an unlocked goroutine and this child is killed.
func TestWrapperThreadChurnDoesNotKillChild(t *testing.T) {
	t.Parallel()
	files := newRunFiles(t)
	wrapper := startHelper(t, "wrapper", files.env(envChurn+"=1", envAction+"=finish-on-stdin")...)
	wrapper.awaitChildPid()
	wrapper.await("ready")

	require.NoError(t, wrapper.cmd.Process.Signal(syscall.SIGUSR1))
	wrapper.await("churn-done")
	_, err := wrapper.stdin.WriteString("finish\n")
	require.NoError(t, err)

	wrapper.await("wrap-returned")
	assert.Equal(t, 0, wrapper.exitCode(), "the child must finish normally, not by a parent-death SIGTERM")
	assert.False(t, wrapper.saw("ending run"), "no signal may reach the child")
}
