package applock_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/applock"
)

func TestNames(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "app-"+domain+".lock", applock.FileName(domain))
	assert.Equal(t, "/run/lock/cc-ci/app-"+domain+".lock", applock.Path("/run/lock/cc-ci", domain))

	tests := []struct {
		name   string
		file   string
		want   string
		wantOK bool
	}{
		{"a lockfile name gives its domain", "app-" + domain + ".lock", domain, true},
		{"a lockfile path gives its domain", "/run/lock/cc-ci/app-" + domain + ".lock", domain, true},
		{"a file without the app- prefix is not a lockfile", domain + ".lock", "", false},
		{"a file without the .lock suffix is not a lockfile", "app-" + domain, "", false},
		{"an empty domain is not a lockfile", "app-.lock", "", false},
		{"a temp file beside a lockfile is not a lockfile", "app-" + domain + ".lock.tmp", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := applock.DomainFromFileName(tt.file)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDirFromEnv(t *testing.T) {
	t.Setenv(applock.EnvDir, "")
	assert.Equal(t, applock.DefaultDir, applock.DirFromEnv(), "unset or empty falls back to the default")
	t.Setenv(applock.EnvDir, "/tmp/locks")
	assert.Equal(t, "/tmp/locks", applock.DirFromEnv())
}

func TestAcquireCreatesMissingLockDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run", "lock", "cc-ci")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()

	lock, err := applock.Acquire(ctx, dir, domain, applock.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = lock.Release() })

	st, err := os.Stat(dir)
	require.NoError(t, err)
	assert.True(t, st.IsDir())
	st, err = os.Stat(applock.Path(dir, domain))
	require.NoError(t, err)
	assert.True(t, st.Mode().IsRegular(), "lockfiles are plain files")
}

func TestDirectoryAtLockPathIsAnErrorNotAHang(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(applock.Path(dir, domain), 0o755))
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()

	_, err := applock.Acquire(ctx, dir, domain, applock.Options{})
	require.ErrorContains(t, err, "is a directory")
	require.NoError(t, ctx.Err(), "Acquire failed at once rather than waiting out its context")

	_, err = applock.TryAcquire(dir, domain)
	require.ErrorContains(t, err, "is a directory")
}

func TestJanitorReapSequence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := applock.Path(dir, domain)
	orphan, err := applock.TryAcquire(dir, domain)
	require.NoError(t, err)
	require.NoError(t, orphan.Release()) // the run died: file left, lock free

	lock, err := applock.TryAcquireExisting(path)
	require.NoError(t, err)
	require.NoError(t, lock.Verify())
	require.NoError(t, lock.Remove())
	assert.NoFileExists(t, path)
	assert.Error(t, lock.Verify(), "after Remove the path no longer names the locked file")
	require.NoError(t, lock.Remove(), "removing an already removed lockfile is not an error")
	require.NoError(t, lock.Release())
	require.Error(t, lock.Remove(), "a released lock cannot remove anything")

	_, err = applock.TryAcquireExisting(path)
	require.ErrorIs(t, err, os.ErrNotExist, "a second janitor finds nothing to reap")
}

func TestRemoveLeavesARecreatedLockfileAlone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := applock.Path(dir, domain)
	stale, err := applock.TryAcquire(dir, domain)
	require.NoError(t, err)
	t.Cleanup(func() { _ = stale.Release() })
	// Someone unlinked the file behind our back and a new run recreated it.
	require.NoError(t, os.Remove(path))
	fresh, err := applock.TryAcquire(dir, domain)
	require.NoError(t, err)
	t.Cleanup(func() { _ = fresh.Release() })

	require.ErrorContains(t, stale.Remove(), "different file")
	assert.FileExists(t, path, "the new run's lockfile survives")
	assert.NoError(t, fresh.Verify())
}

func TestConcurrentProbesExactlyOneWins(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := applock.Path(dir, domain)
	require.NoError(t, os.WriteFile(path, nil, 0o644))

	const janitors = 8
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		won    []*applock.Lock
		held   int
		others []error
	)
	start := make(chan struct{})
	for range janitors {
		wg.Go(func() {
			<-start
			lock, err := applock.TryAcquireExisting(path)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, lock)
			case assert.ErrorIs(t, err, applock.ErrHeld):
				held++
			default:
				others = append(others, err)
			}
		})
	}
	close(start)
	wg.Wait()
	// Winners keep holding until everyone has probed, so exactly one can win.
	require.Empty(t, others)
	require.Len(t, won, 1)
	assert.Equal(t, janitors-1, held)
	require.NoError(t, won[0].Release())
}

func TestAcquireDoesNotLogWhenLockIsFree(t *testing.T) {
	t.Parallel()
	rec := newLogRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	lock, err := applock.Acquire(ctx, t.TempDir(), domain, applock.Options{Logger: rec.logger(), Remind: time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, lock.Release())
	assert.Empty(t, rec.records, "a free lock is taken without any waiting line")
}

func BenchmarkTryAcquireRelease(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		lock, err := applock.TryAcquire(dir, domain)
		if err != nil {
			b.Fatal(err)
		}
		if err := lock.Release(); err != nil {
			b.Fatal(err)
		}
	}
}
