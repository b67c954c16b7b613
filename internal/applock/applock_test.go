package applock_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"coopcloud.tech/cc-ci/internal/applock"
)

func TestLockReleasedWhenHolderIsSIGKILLed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := startHolder(t, dir)
	h.expectLocked(t)

	_, err := applock.TryAcquire(dir, domain)
	require.ErrorIs(t, err, applock.ErrHeld, "lock must be held while the holder lives")

	h.Kill(t) // no cleanup code runs in the holder: only the kernel can release

	lock, err := applock.TryAcquire(dir, domain)
	require.NoError(t, err, "the kernel must drop the flock of a SIGKILLed holder")
	require.NoError(t, lock.Release())
}

func TestTryAcquireFailsWhileHeldAndSucceedsWhenFree(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := startHolder(t, dir)
	h.expectLocked(t)

	_, err := applock.TryAcquire(dir, domain)
	require.ErrorIs(t, err, applock.ErrHeld)
	assert.ErrorContains(t, err, applock.Path(dir, domain), "the error names the lockfile")

	// The holder releases on its own (stdin closed) rather than dying.
	require.NoError(t, h.Stdin.Close())
	require.NoError(t, h.Wait(), "holder releases and exits cleanly")

	lock, err := applock.TryAcquire(dir, domain)
	require.NoError(t, err, "a free lock is taken at once")
	assert.Equal(t, domain, lock.Domain())
	assert.Equal(t, applock.Path(dir, domain), lock.Path())

	// Now we hold it: another process is refused, and a second descriptor
	// in this same process is refused too (flock is per open file).
	assert.Equal(t, "held", probe(t, dir))
	_, err = applock.TryAcquire(dir, domain)
	require.ErrorIs(t, err, applock.ErrHeld)

	require.NoError(t, lock.Release())
	require.NoError(t, lock.Release(), "Release is idempotent")
	assert.Equal(t, "acquired", probe(t, dir))
}

func TestHolderChildDoesNotKeepLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := startHolder(t, dir, envGrandchild+"=1")
	pidText, ok := strings.CutPrefix(h.next(t), "grandchild ")
	require.True(t, ok, "holder reports its grandchild first")
	grandchild, err := strconv.Atoi(pidText)
	require.NoError(t, err)
	reapGrandchild(t, h, grandchild)
	h.expectLocked(t)

	h.Kill(t)

	lock, err := applock.TryAcquire(dir, domain)
	require.NoError(t, err, "a child of the dead holder must not keep the lock (O_CLOEXEC)")
	require.NoError(t, lock.Release())
	require.True(t, processAlive(t, grandchild), "the grandchild outlived the holder, so the test proved something")
}

func TestSecondAcquireBlocksUntilFirstHolderExits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := startHolder(t, dir)
	h.expectLocked(t)

	rec := newLogRecorder()
	res := acquireInBackground(t, context.Background(), dir, applock.Options{Logger: rec.logger(), Remind: 10 * time.Millisecond})

	attrs := rec.waitFor(t, "waiting for app lock")
	assert.Equal(t, domain, attrs["domain"])
	assert.Equal(t, applock.Path(dir, domain), attrs["path"])
	// A reminder is logged from inside the wait loop, so Acquire was still
	// blocked when it was emitted: two of them prove it kept waiting.
	rec.waitWhileBlocked(t, "still waiting for app lock", res)
	rec.waitWhileBlocked(t, "still waiting for app lock", res)
	requireStillBlocked(t, res)

	h.Kill(t)

	r := receive(t, res)
	require.NoError(t, r.err)
	require.NoError(t, r.lock.Verify())
	assert.Equal(t, "held", probe(t, dir))
}

func TestAcquireRechecksInodeAfterUnlink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, err := applock.TryAcquire(dir, domain)
	require.NoError(t, err)

	rec := newLogRecorder()
	res := acquireInBackground(t, context.Background(), dir, applock.Options{Logger: rec.logger(), Remind: 10 * time.Millisecond})
	// B logs "waiting" only after it opened the file, so it is tied to A's inode.
	rec.waitFor(t, "waiting for app lock")

	// The janitor's order: unlink while holding, then release.
	require.NoError(t, a.Remove())
	require.NoError(t, a.Release())

	b := receive(t, res)
	require.NoError(t, b.err)
	require.NoError(t, b.lock.Verify(), "B must hold the file that is at the path now, not the unlinked one")
	require.FileExists(t, applock.Path(dir, domain))
	assert.Equal(t, "held", probe(t, dir), "another process opening the path must be excluded")
}

func TestAcquireRetriesWhenLockfileWasRecreated(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, err := applock.TryAcquire(dir, domain)
	require.NoError(t, err)

	rec := newLogRecorder()
	res := acquireInBackground(t, context.Background(), dir, applock.Options{Logger: rec.logger(), Remind: 10 * time.Millisecond})
	rec.waitFor(t, "waiting for app lock")

	// A janitor unlinks; a new run C creates a fresh lockfile and takes it;
	// then the janitor releases the old inode B is blocked on.
	require.NoError(t, a.Remove())
	c, err := applock.TryAcquire(dir, domain)
	require.NoError(t, err)
	require.NoError(t, a.Release())

	// B wakes on the unlinked inode; it must now wait for C, not share the lock with it.
	rec.waitWhileBlocked(t, "app lockfile was replaced while waiting, retrying", res)
	rec.waitWhileBlocked(t, "still waiting for app lock", res)
	requireStillBlocked(t, res)

	require.NoError(t, c.Release())
	b := receive(t, res)
	require.NoError(t, b.err)
	require.NoError(t, b.lock.Verify())
}

func TestAcquireTouchesMtime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		acquire func(dir string) (*applock.Lock, error)
	}{
		{"a blocking Acquire touches the lockfile", func(dir string) (*applock.Lock, error) {
			return applock.Acquire(context.Background(), dir, domain, applock.Options{})
		}},
		{"a TryAcquire touches the lockfile", func(dir string) (*applock.Lock, error) {
			return applock.TryAcquire(dir, domain)
		}},
		{"a janitor probe that wins touches the lockfile", func(dir string) (*applock.Lock, error) {
			return applock.TryAcquireExisting(applock.Path(dir, domain))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := applock.Path(dir, domain)
			require.NoError(t, os.WriteFile(path, nil, 0o644))
			old := time.Now().Add(-time.Hour)
			require.NoError(t, os.Chtimes(path, old, old))

			lock, err := tt.acquire(dir)
			require.NoError(t, err)
			t.Cleanup(func() { _ = lock.Release() })

			st, err := os.Stat(path)
			require.NoError(t, err)
			assert.WithinDuration(t, time.Now(), st.ModTime(), 5*time.Second)
		})
	}
}

func TestAcquireHonorsContextCancel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := startHolder(t, dir)
	h.expectLocked(t)

	ctx, cancel := context.WithCancel(context.Background())
	rec := newLogRecorder()
	res := acquireInBackground(t, ctx, dir, applock.Options{Logger: rec.logger()})
	rec.waitFor(t, "waiting for app lock")
	cancel()

	r := receive(t, res)
	require.ErrorIs(t, r.err, context.Canceled)
	require.Nil(t, r.lock)

	// The abandoned flock now succeeds in the background and must let go
	// at once: a fresh Acquire gets the lock instead of blocking forever.
	h.Kill(t)
	ctx2, cancel2 := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel2()
	lock, err := applock.Acquire(ctx2, dir, domain, applock.Options{})
	require.NoError(t, err, "the cancelled Acquire must not leak a held lock")
	assert.Equal(t, "held", probe(t, dir))
	require.NoError(t, lock.Release())
}

func TestAcquireWithDoneContextTakesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := applock.Acquire(ctx, dir, domain, applock.Options{})
	require.ErrorIs(t, err, context.Canceled)
	assert.NoFileExists(t, applock.Path(dir, domain), "nothing is created for a run that was already cancelled")
}

func TestTryAcquireExistingOnDirectoryAndMissingFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		wantErr string // "" means the probe must win
		errIs   error
	}{
		{
			name:    "a missing lockfile is reported as not existing",
			prepare: func(*testing.T, string) {},
			wantErr: "no such file",
			errIs:   os.ErrNotExist,
		},
		{
			name:    "a directory where the lockfile should be is named as a directory",
			prepare: func(t *testing.T, path string) { require.NoError(t, os.Mkdir(path, 0o755)) },
			wantErr: "is a directory",
		},
		{
			name: "a symlink where the lockfile should be is refused",
			prepare: func(t *testing.T, path string) {
				target := path + ".target"
				require.NoError(t, os.WriteFile(target, nil, 0o644))
				require.NoError(t, os.Symlink(target, path))
			},
			wantErr: "is a symlink",
		},
		{
			name:    "a fifo where the lockfile should be is refused without blocking",
			prepare: func(t *testing.T, path string) { require.NoError(t, unix.Mkfifo(path, 0o644)) },
			wantErr: "not a regular file",
		},
		{
			name:    "an existing free lockfile is taken",
			prepare: func(t *testing.T, path string) { require.NoError(t, os.WriteFile(path, nil, 0o644)) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := applock.Path(t.TempDir(), domain)
			tt.prepare(t, path)

			lock, err := applock.TryAcquireExisting(path)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, domain, lock.Domain(), "domain parsed from the file name")
				require.NoError(t, lock.Release())
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			assert.ErrorContains(t, err, path, "the error names the path")
			if tt.errIs != nil {
				assert.ErrorIs(t, err, tt.errIs)
			}
			if tt.errIs == os.ErrNotExist {
				assert.NoFileExists(t, path, "the janitor's probe never creates a lockfile")
			}
		})
	}
}

func TestTryAcquireExistingOnUnreadableFile(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root bypasses file permissions, so no file can be unreadable to this process")
	}
	path := applock.Path(t.TempDir(), domain)
	require.NoError(t, os.WriteFile(path, nil, 0o000))

	_, err := applock.TryAcquireExisting(path)
	require.ErrorIs(t, err, os.ErrPermission)
	assert.ErrorContains(t, err, path)
}
