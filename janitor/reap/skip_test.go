package reap_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"coopcloud.tech/cc-ci/internal/applock"
	"coopcloud.tech/cc-ci/janitor/reap"
)

func TestDirectoryInPlaceOfLockfileIsSkipped(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	d := domain(5)
	require.NoError(t, os.Mkdir(w.lockPath(d), 0o755))
	w.deployed(t, d)

	sum, err := w.janitor().Pass(context.Background())

	require.NoError(t, err)
	assert.Equal(t, 0, reap.ExitCode(sum, err))
	assert.Equal(t, 1, sum.Skipped)
	assert.Empty(t, w.swarm.Teardowns(), "never reaped without holding its lock")
	assert.DirExists(t, w.lockPath(d))
	assert.FileExists(t, w.envPath(d))
	line := w.log.line(t, d)
	assert.Equal(t, reap.Skip, line["decision"])
	assert.Contains(t, line["reason"], "is a directory")
}

// TestUnreadableLockfileIsSkipped: these tests run as root, which no permission bits stop, so an
// unreadable lockfile is made the other ways applock refuses to open one: a symlink (never
// followed, O_NOFOLLOW) and a FIFO (not a regular file). Mode 0000 is added when not root.
func TestUnreadableLockfileIsSkipped(t *testing.T) {
	t.Parallel()
	type testCase struct {
		name       string
		prepare    func(t *testing.T, path string)
		wantReason string
	}
	tests := []testCase{
		{"a symlink in the lockfile's place is not followed", func(t *testing.T, path string) {
			target := path + ".target"
			require.NoError(t, os.WriteFile(target, nil, 0o644))
			require.NoError(t, os.Symlink(target, path))
		}, "is a symlink"},
		{"a FIFO in the lockfile's place is refused without blocking", func(t *testing.T, path string) {
			require.NoError(t, unix.Mkfifo(path, 0o644))
		}, "not a regular file"},
	}
	if os.Geteuid() != 0 {
		tests = append(tests, testCase{"a lockfile with mode 0000 is skipped", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, nil, 0o000))
		}, "permission denied"})
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			d := domain(20 + i)
			tt.prepare(t, w.lockPath(d))
			w.deployed(t, d)
			before := w.snapshot(t)

			sum, err := w.janitor().Pass(context.Background())

			require.NoError(t, err)
			assert.Equal(t, 0, reap.ExitCode(sum, err))
			assert.Equal(t, 1, sum.Skipped)
			assert.Empty(t, w.swarm.Teardowns())
			assert.Equal(t, before, w.snapshot(t))
			line := w.log.line(t, d)
			assert.Equal(t, reap.Skip, line["decision"])
			assert.Contains(t, line["reason"], tt.wantReason)
		})
	}
}

func TestMissingLockDirIsSkippedExitZero(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	require.NoError(t, os.Remove(w.lockDir))
	w.swarm.Present = []string{"warm-sample_ci_example_org"}

	sum, err := w.janitor().Pass(context.Background())

	require.NoError(t, err)
	assert.Equal(t, 0, reap.ExitCode(sum, err))
	assert.NoDirExists(t, w.lockDir, "nothing needed a lock, so the dir is not created")
	var found bool
	for _, e := range w.log.entries(t) {
		if e["msg"] == "lock dir" {
			found = true
			assert.Equal(t, reap.Skip, e["decision"])
			assert.Contains(t, e["reason"], "missing")
		}
	}
	assert.True(t, found, "the missing lock dir is logged:\n%s", w.log)
}

func TestDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.s.DryRun = true
	orphan, live, noLockfile, bare := domain(30), domain(31), domain(32), domain(33)
	run := startHelper(t, w.lockDir, "hold", live)
	run.expect(t, "locked")
	for _, d := range []string{orphan, live, noLockfile} {
		w.deployed(t, d)
	}
	for _, d := range []string{orphan, bare} {
		w.lockfile(t, d)
	}
	for _, d := range []string{orphan, live, bare} {
		setMtime(t, w.lockPath(d), 10*time.Minute)
	}
	before := w.snapshot(t)

	sum := w.pass(t)

	assert.Equal(t, before, w.snapshot(t), "no file created, removed or touched")
	assert.Empty(t, w.swarm.Teardowns())
	assert.Equal(t, 1, w.swarm.Listings(), "the swarm is listed once and nothing else")
	assert.Equal(t, 3, sum.WouldReap)
	assert.Equal(t, 1, sum.Left)
	assert.Zero(t, sum.Reaped)
	for d, want := range map[string]string{orphan: reap.WouldReap, live: reap.Leave, noLockfile: reap.WouldReap, bare: reap.WouldReap} {
		line := w.log.line(t, d)
		assert.Equal(t, want, line["decision"], d)
		assert.Equal(t, true, line["dry_run"], d)
	}
	assert.Contains(t, w.log.line(t, bare)["reason"], "nothing deployed")
	assert.Contains(t, w.log.line(t, noLockfile)["reason"], "no lockfile")
	requireHeldElsewhere(t, w.lockPath(live))
	lock, err := applock.TryAcquireExisting(w.lockPath(orphan))
	require.NoError(t, err, "the orphan's lock was left free")
	require.NoError(t, lock.Release())
}

func TestFailedTeardownKeepsLockfileAndExitsOne(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	d := domain(40)
	w.lockfile(t, d)
	w.deployed(t, d)
	w.swarm.TeardownErr = errors.New("network busy")

	sum, err := w.janitor().Pass(context.Background())

	require.NoError(t, err)
	assert.Equal(t, 1, sum.Failed)
	assert.Equal(t, 1, reap.ExitCode(sum, err))
	assert.FileExists(t, w.lockPath(d), "kept, so the next pass retries")
	line := w.log.line(t, d)
	assert.Equal(t, reap.Fail, line["decision"])
	assert.Equal(t, "ERROR", line["level"])
	assert.Contains(t, line["reason"], "network busy")

	w.swarm.TeardownErr = nil
	sum = w.pass(t)
	assert.Equal(t, 1, sum.Reaped, "the next pass reaps it")
	assert.NoFileExists(t, w.lockPath(d))
}

func TestUnreachableSwarmFailsThePassAndTouchesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	d := domain(41)
	w.lockfile(t, d)
	w.swarm.StacksErr = errors.New("docker is down")

	sum, err := w.janitor().Pass(context.Background())

	require.ErrorContains(t, err, "docker is down")
	assert.Equal(t, 1, reap.ExitCode(sum, err))
	assert.FileExists(t, w.lockPath(d), "an orphan is only unlinked after its stack is known")
	assert.False(t, strings.Contains(w.log.String(), `"decision":"reap"`))
}
