package applock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Acquire blocks until it holds the exclusive lock for domain in dir,
// creating dir (0755) and the lockfile (0644) when missing. While it waits it
// logs "waiting for app lock" once, then a reminder every opts.Remind.
//
// When ctx ends first it returns an error wrapping ctx.Err(). The flock(2)
// it was blocked in cannot be interrupted, so a background goroutine keeps
// waiting on that descriptor and closes it the moment the flock returns: the
// process never ends up holding a lock nobody owns.
func Acquire(ctx context.Context, dir, domain string, opts Options) (*Lock, error) {
	path := Path(dir, domain)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("acquire app lock %s: %w", path, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create app lock dir %s: %w", dir, err)
	}
	w := &waiter{
		ctx:    ctx,
		path:   path,
		domain: domain,
		log:    opts.logger(),
		remind: opts.remind(),
	}
	for {
		fd, err := openLockFile(path, true)
		if err != nil {
			return nil, err
		}
		if err := w.lock(fd); err != nil {
			return nil, err
		}
		lock, err := adopt(fd, path, domain, w.log)
		if !errors.Is(err, errReplaced) {
			return lock, err
		}
		w.log.Debug("app lockfile was replaced while waiting, retrying", "domain", domain, "path", path)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("acquire app lock %s: %w", path, err)
		}
	}
}

// TryAcquire takes the lock for domain in dir only if it is free right now
// (LOCK_EX|LOCK_NB), creating dir and the lockfile like Acquire. It returns
// an error wrapping ErrHeld when someone else holds it.
func TryAcquire(dir, domain string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create app lock dir %s: %w", dir, err)
	}
	return tryAcquire(Path(dir, domain), domain, true)
}

// TryAcquireExisting is the janitor's probe: like TryAcquire but on a
// lockfile path it found, and it never creates anything. A missing file gives
// an error wrapping fs.ErrNotExist (another janitor reaped it); a directory,
// symlink or unreadable file gives an error naming the problem.
func TryAcquireExisting(path string) (*Lock, error) {
	domain, _ := DomainFromFileName(path)
	return tryAcquire(path, domain, false)
}

// DomainFromFileName returns the app domain encoded in a lockfile name (or
// path) made by FileName, and false when the name is not such a lockfile.
func DomainFromFileName(name string) (string, bool) {
	base := name[strings.LastIndexByte(name, '/')+1:]
	domain, ok := strings.CutPrefix(base, "app-")
	if !ok {
		return "", false
	}
	domain, ok = strings.CutSuffix(domain, ".lock")
	if !ok || domain == "" {
		return "", false
	}
	return domain, true
}

func tryAcquire(path, domain string, create bool) (*Lock, error) {
	for {
		fd, err := openLockFile(path, create)
		if err != nil {
			return nil, err
		}
		if err := flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			closeQuietly(fd)
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, fmt.Errorf("probe app lock %s: %w", path, ErrHeld)
			}
			return nil, fmt.Errorf("probe app lock %s: %w", path, err)
		}
		lock, err := adopt(fd, path, domain, slog.Default())
		if !errors.Is(err, errReplaced) {
			return lock, err
		}
		if !create {
			// The file we opened was unlinked. If nothing replaced it the
			// caller must know it is gone; if a new run recreated it, probe that.
			if _, statErr := os.Lstat(path); statErr != nil {
				return nil, fmt.Errorf("probe app lock %s: %w", path, statErr)
			}
		}
	}
}

// waiter carries what one Acquire call needs while it blocks, including
// whether the first "waiting" line was already logged (a retry after the
// lockfile was replaced does not log it again).
type waiter struct {
	ctx    context.Context
	path   string
	domain string
	log    *slog.Logger
	remind time.Duration

	started time.Time // zero until the first wait
}

// lock takes LOCK_EX on fd, blocking if needed. On error fd is no longer the
// caller's: it is closed, or handed to the goroutine still blocked on it.
func (w *waiter) lock(fd int) error {
	err := flock(fd, unix.LOCK_EX|unix.LOCK_NB)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EWOULDBLOCK) {
		closeQuietly(fd)
		return fmt.Errorf("lock app lockfile %s: %w", w.path, err)
	}
	if w.started.IsZero() {
		w.started = time.Now()
		w.log.Info("waiting for app lock", "domain", w.domain, "path", w.path)
	}
	return w.block(fd)
}

// block waits in a blocking flock on another goroutine so that ctx and the
// reminder ticker stay responsive.
func (w *waiter) block(fd int) error {
	done := make(chan error, 1)
	go func() { done <- flock(fd, unix.LOCK_EX) }()
	ticker := time.NewTicker(w.remind)
	defer ticker.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				closeQuietly(fd)
				return fmt.Errorf("lock app lockfile %s: %w", w.path, err)
			}
			return nil
		case <-ticker.C:
			w.log.Info("still waiting for app lock", "domain", w.domain, "path", w.path,
				"waited", time.Since(w.started).Round(time.Second))
		case <-w.ctx.Done():
			// Whatever the flock ends with, closing fd drops any lock it got.
			go func() {
				<-done
				closeQuietly(fd)
			}()
			return fmt.Errorf("acquire app lock %s: %w", w.path, w.ctx.Err())
		}
	}
}
