package applock

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// IsHeld reports whether another open file description holds the lock on
// the lockfile at path, without taking it: the janitor's dry run. It never
// creates anything and, unlike TryAcquireExisting, never touches the mtime
// (which the janitor reads as "held since"). It takes a shared flock for an
// instant, so a run's Acquire at that very moment waits for microseconds.
// A missing file gives an error wrapping fs.ErrNotExist; a directory,
// symlink or unreadable file gives an error naming the problem.
func IsHeld(path string) (bool, error) {
	fd, err := openLockFile(path, false)
	if err != nil {
		return false, err
	}
	defer closeQuietly(fd) // closing drops the shared lock, if we got it
	switch err := flock(fd, unix.LOCK_SH|unix.LOCK_NB); {
	case err == nil:
		return false, nil
	case errors.Is(err, unix.EWOULDBLOCK):
		return true, nil
	default:
		return false, fmt.Errorf("probe app lock %s: %w", path, err)
	}
}
