package applock

import (
	"errors"
	"fmt"
	"log/slog"

	"golang.org/x/sys/unix"
)

// errReplaced means the locked inode is no longer the file at the path: the
// janitor unlinked it (and maybe a new run recreated it) while we waited.
var errReplaced = errors.New("app lockfile was unlinked or replaced")

// openLockFile opens path for flock. Only a regular file is accepted: a
// directory or symlink where a lockfile should be is an error naming the
// problem, never a hang.
func openLockFile(path string, create bool) (int, error) {
	flags := unix.O_RDWR |
		unix.O_CLOEXEC | // children (abra, docker, hooks) must never inherit the lock
		unix.O_NOFOLLOW
	if create {
		flags |= unix.O_CREAT
	}
	fd, err := unix.Open(path, flags, 0o644)
	if err != nil {
		switch {
		case errors.Is(err, unix.EISDIR):
			return -1, fmt.Errorf("open app lockfile %s: path is a directory, not a lockfile: %w", path, err)
		case errors.Is(err, unix.ELOOP):
			return -1, fmt.Errorf("open app lockfile %s: path is a symlink, not a lockfile: %w", path, err)
		}
		return -1, fmt.Errorf("open app lockfile %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		closeQuietly(fd)
		return -1, fmt.Errorf("stat app lockfile %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		closeQuietly(fd)
		return -1, fmt.Errorf("open app lockfile %s: not a regular file (mode %#o)", path, st.Mode)
	}
	return fd, nil
}

// adopt turns a locked fd into a Lock once the inode check passes, touching
// the mtime so the janitor can see since when the lock is held. On error the
// fd is closed; errReplaced asks the caller to open the path again.
func adopt(fd int, path, domain string, log *slog.Logger) (*Lock, error) {
	same, err := sameInode(fd, path)
	if err != nil && !errors.Is(err, unix.ENOENT) {
		closeQuietly(fd)
		return nil, fmt.Errorf("check app lockfile %s: %w", path, err)
	}
	if !same {
		closeQuietly(fd)
		return nil, errReplaced
	}
	// nil times = now. The mtime only feeds the janitor's "held for long"
	// log line, so a failure is worth a warning, not giving the lock back.
	if err := unix.Futimes(fd, nil); err != nil {
		log.Warn("could not touch app lockfile", "path", path, "err", err)
	}
	return &Lock{path: path, domain: domain, fd: fd}, nil
}

// sameInode reports whether path (not following a symlink) names the file
// open on fd. A missing path returns an error wrapping fs.ErrNotExist.
func sameInode(fd int, path string) (bool, error) {
	var held, named unix.Stat_t
	if err := unix.Fstat(fd, &held); err != nil {
		return false, fmt.Errorf("fstat: %w", err)
	}
	if err := unix.Lstat(path, &named); err != nil {
		return false, fmt.Errorf("stat: %w", err)
	}
	return held.Dev == named.Dev && held.Ino == named.Ino, nil
}

// flock retries on EINTR: a blocking flock can be interrupted by signals
// the Go runtime uses internally.
func flock(fd, how int) error {
	for {
		err := unix.Flock(fd, how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// closeQuietly closes fd on paths that already report a more useful error;
// close(2) of a plain file only fails for a bad fd, which would be our bug.
func closeQuietly(fd int) {
	_ = unix.Close(fd)
}
