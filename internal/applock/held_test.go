package applock_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"coopcloud.tech/cc-ci/internal/applock"
)

func TestIsHeldSeesAHolderWithoutTakingOrTouching(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := applock.Path(dir, domain)
	h := startHolder(t, dir)
	h.expectLocked(t)
	past := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	require.NoError(t, os.Chtimes(path, past, past))

	held, err := applock.IsHeld(path)
	require.NoError(t, err)
	assert.True(t, held, "a lock held by another process is reported held")
	assert.Equal(t, "held", probe(t, dir), "the holder still holds it")

	h.Kill(t)
	held, err = applock.IsHeld(path)
	require.NoError(t, err)
	assert.False(t, held, "a lock whose holder was SIGKILLed is free")
	assert.Equal(t, "acquired", probe(t, dir), "IsHeld left the free lock free")

	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.NotEqual(t, past, fi.ModTime(), "the probe process's acquire touched the mtime")
	require.NoError(t, os.Chtimes(path, past, past))
	_, err = applock.IsHeld(path)
	require.NoError(t, err)
	fi, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, past, fi.ModTime(), "IsHeld never touches the mtime")
}

func TestIsHeldRefusesWhatIsNotALockfile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		wantErr string
	}{
		{"a missing lockfile is not created", func(*testing.T, string) {}, "no such file"},
		{"a directory is named as a directory", func(t *testing.T, p string) { require.NoError(t, os.Mkdir(p, 0o755)) }, "is a directory"},
		{"a fifo is refused without blocking", func(t *testing.T, p string) { require.NoError(t, unix.Mkfifo(p, 0o644)) }, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := applock.Path(t.TempDir(), domain)
			tt.prepare(t, path)
			_, err := applock.IsHeld(path)
			require.ErrorContains(t, err, tt.wantErr)
			assert.ErrorContains(t, err, path)
		})
	}
	missing := applock.Path(t.TempDir(), domain)
	_, err := applock.IsHeld(missing)
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.NoFileExists(t, missing)
}
