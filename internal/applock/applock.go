// Package applock is the per-app lock shared by the plugin and the janitor
// (DESIGN.md 4.3 and 7): an exclusive flock(2) on
// $CCCI_APP_LOCK_DIR/app-<domain>.lock.
//
// The kernel drops a flock when the last descriptor of its open file
// description closes, so a run that is SIGKILLed releases its lock without
// any cleanup code. Three details keep that true:
//   - the descriptor is opened with O_CLOEXEC, so a deployed child process
//     (abra, docker, a hook) that outlives the run never keeps the lock;
//   - after every acquire the locked inode is compared with the one at the
//     path, because the janitor unlinks (and a new run recreates) lockfiles;
//     a lock on an unlinked inode protects nothing;
//   - the mtime is touched on acquire, so the janitor can tell how long a
//     lock has been held without asking the holder.
//
// A held lock is never stolen: there is no timeout-based override.
package applock

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// EnvDir names the environment variable that overrides the lock directory.
const EnvDir = "CCCI_APP_LOCK_DIR"

// DefaultDir is the lock directory when EnvDir is unset. It lives on tmpfs,
// so a reboot forgets every lock, which is what the janitor expects.
const DefaultDir = "/run/lock/cc-ci"

// DefaultRemind is how often Acquire repeats its "waiting" log line.
const DefaultRemind = 30 * time.Second

// ErrHeld is returned by the non-blocking probes when another open file
// description (another run, another janitor) holds the lock.
var ErrHeld = errors.New("app lock is held by another process")

// DirFromEnv returns $CCCI_APP_LOCK_DIR, or DefaultDir when it is unset or empty.
func DirFromEnv() string {
	if dir := os.Getenv(EnvDir); dir != "" {
		return dir
	}
	return DefaultDir
}

// FileName returns the lockfile name for an app domain: "app-<domain>.lock".
func FileName(domain string) string {
	return "app-" + domain + ".lock"
}

// Path returns the lockfile path for an app domain inside dir.
func Path(dir, domain string) string {
	return filepath.Join(dir, FileName(domain))
}

// Options tunes Acquire. The zero value is ready to use.
type Options struct {
	// Logger receives the "waiting for app lock" lines; nil means slog.Default().
	Logger *slog.Logger
	// Remind is the interval between repeated waiting lines; zero means DefaultRemind.
	Remind time.Duration
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

func (o Options) remind() time.Duration {
	if o.Remind > 0 {
		return o.Remind
	}
	return DefaultRemind
}

// Lock is a held app lock, backed by one close-on-exec file descriptor.
// It is safe for concurrent use.
type Lock struct {
	path   string
	domain string

	mu sync.Mutex
	fd int // -1 once released
}

// Path returns the lockfile path.
func (l *Lock) Path() string { return l.path }

// Domain returns the app domain the lock is for; empty when the lock was
// taken by path (TryAcquireExisting) and the name does not follow FileName.
func (l *Lock) Domain() string { return l.domain }

// Release closes the descriptor, which releases the flock. Calling it again
// is a no-op.
func (l *Lock) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fd < 0 {
		return nil
	}
	fd := l.fd
	l.fd = -1
	if err := unix.Close(fd); err != nil {
		return fmt.Errorf("release app lock %s: %w", l.path, err)
	}
	return nil
}

// Remove unlinks the lockfile while the lock is still held, so that nobody
// can take the lock between the unlink and the release. Waiters blocked on
// the old inode notice the unlink after they wake and retry on a fresh file.
// A lockfile that is already gone is not an error; a path that now names a
// different file is left alone and reported.
func (l *Lock) Remove() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fd < 0 {
		return fmt.Errorf("remove app lock %s: lock already released", l.path)
	}
	same, err := sameInode(l.fd, l.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove app lock %s: %w", l.path, err)
	}
	if !same {
		return fmt.Errorf("remove app lock %s: path now names a different file, not unlinking it", l.path)
	}
	if err := unix.Unlink(l.path); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove app lock %s: %w", l.path, err)
	}
	return nil
}

// Verify reports an error unless the lock is held and the file at its path
// is the locked inode, i.e. the lock still excludes anyone who opens the path.
func (l *Lock) Verify() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fd < 0 {
		return fmt.Errorf("verify app lock %s: lock already released", l.path)
	}
	same, err := sameInode(l.fd, l.path)
	if err != nil {
		return fmt.Errorf("verify app lock %s: %w", l.path, err)
	}
	if !same {
		return fmt.Errorf("verify app lock %s: path names a different file than the one locked", l.path)
	}
	return nil
}
