package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// stagePrefix starts the name of a full run's staging directory inside Out (a dot: the web
// server never serves it).
const stagePrefix = ".full-"

// renameat2 is renameat2(2) (a test stands in a file system that has none of its flags).
var renameat2 = unix.Renameat2

// publishOrder is the order a full run's directories go live in: the run pages before the
// recipe pages and badges that link to them, index.html last of all (see Publish).
var publishOrder = []string{"run", "badge", "recipe", "api"}

// Rebuild starts a full rendering: from now until Publish, every file goes into a staging
// directory inside Out that no reader sees, created in place instead of as a temp file and a
// rename each, and Publish puts each of its directories live with one rename. A subdirectory of
// Out that is not a plain directory (a link the operator made) is written in place as usual.
func (s *Site) Rebuild() error {
	if err := os.MkdirAll(s.Out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", s.Out, err)
	}
	dir, err := os.MkdirTemp(s.Out, stagePrefix)
	if err != nil {
		return fmt.Errorf("staging directory: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stage, s.unstaged = newTree(dir, true), map[string]bool{}
	for _, sub := range publishOrder {
		if fi, err := os.Lstat(filepath.Join(s.Out, sub)); err == nil && !fi.IsDir() {
			s.unstaged[sub] = true
		}
	}
	return nil
}

// treeFor is the tree a file of rel goes into.
func (s *Site) treeFor(rel string) *tree {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stage == nil || s.published {
		return s.live
	}
	if top, _, ok := strings.Cut(rel, "/"); ok && s.unstaged[top] {
		return s.live
	}
	return s.stage
}

// Publish puts a Rebuild's files live: each staged directory is exchanged with Out's (one
// renameat2(RENAME_EXCHANGE): a reader sees the whole old directory or the whole new one), then
// each top-level file is renamed into Out, index.html last. Files of an old directory that were
// not written anew (the pages of builds Drone no longer lists) are linked into the new one
// first: a full run drops no page. Call it after Sync, so nothing goes live before it is on
// disk; it syncs Out itself. Without a Rebuild it does nothing.
func (s *Site) Publish() error {
	s.mu.Lock()
	stage := s.stage
	done := stage == nil || s.published
	s.published = true
	s.mu.Unlock()
	if done {
		return nil
	}
	stage.close()
	entries, err := os.ReadDir(stage.root)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	var dirs, top []string
	for _, e := range entries {
		switch {
		case e.IsDir() && !slices.Contains(publishOrder, e.Name()):
			dirs = append(dirs, e.Name())
		case e.Name() == "index.html" || e.IsDir():
		default:
			top = append(top, e.Name())
		}
	}
	// ReadDir sorts by name; the known directories go first, in their order.
	for _, d := range append(slices.Clone(publishOrder), dirs...) {
		if err := publishDir(filepath.Join(stage.root, d), filepath.Join(s.Out, d)); err != nil {
			return err
		}
	}
	for _, f := range append(top, "index.html") {
		err := unix.Rename(filepath.Join(stage.root, f), filepath.Join(s.Out, f))
		if err != nil && !(errors.Is(err, unix.ENOENT) && f == "index.html") {
			return fmt.Errorf("publish %s: %w", f, err)
		}
	}
	return fsync(s.Out)
}

// publishDir puts the staged directory from in the place of the live directory to; a missing
// from is nothing to publish.
func publishDir(from, to string) error {
	if _, err := os.Lstat(from); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	old, err := os.Lstat(to)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE); !unsupported(err) {
			return wrap("publish", to, err)
		}
		return wrap("publish", to, unix.Rename(from, to))
	case err != nil:
		return fmt.Errorf("publish %s: %w", to, err)
	}
	if err := keepOld(to, from); err != nil {
		return err
	}
	if err := os.Chmod(from, old.Mode().Perm()); err != nil {
		return fmt.Errorf("publish %s: %w", to, err)
	}
	err = renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_EXCHANGE)
	if !unsupported(err) {
		return wrap("publish", to, err)
	}
	// A file system without RENAME_EXCHANGE: each file is renamed over its old self, still
	// atomically, one by one.
	names, err := dirNames(from)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := unix.Rename(filepath.Join(from, n), filepath.Join(to, n)); err != nil {
			return fmt.Errorf("publish %s: %w", filepath.Join(to, n), err)
		}
	}
	return nil
}

// keepOld links each file of the live directory live that the staged directory staged lacks
// into it (a directory someone made there is moved instead: it cannot be linked). Dot files
// (temp files a crash left) are not kept.
func keepOld(live, staged string) error {
	names, err := dirNames(live)
	if err != nil {
		return err
	}
	have, err := dirNames(staged)
	if err != nil {
		return err
	}
	written := make(map[string]bool, len(have))
	for _, n := range have {
		written[n] = true
	}
	for _, n := range names {
		if written[n] || strings.HasPrefix(n, ".") {
			continue
		}
		from, to := filepath.Join(live, n), filepath.Join(staged, n)
		err := unix.Linkat(unix.AT_FDCWD, from, unix.AT_FDCWD, to, 0)
		if errors.Is(err, unix.EPERM) {
			err = unix.Rename(from, to)
		}
		if err != nil {
			return fmt.Errorf("keep %s: %w", from, err)
		}
	}
	return nil
}

// dirNames are the names in dir, unsorted (no stat of each).
func dirNames(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	return names, nil
}

// unsupported reports whether err says the file system cannot do a renameat2 flag.
func unsupported(err error) bool {
	return errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP)
}

func wrap(what, path string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %s: %w", what, path, err)
}

// Close releases the directory handles and removes a Rebuild's staging directory: after
// Publish it holds the old directories; without it (a run that failed), the files never
// published.
func (s *Site) Close() error {
	s.live.close()
	s.mu.Lock()
	stage := s.stage
	s.stage = nil
	s.mu.Unlock()
	if stage == nil {
		return nil
	}
	stage.close()
	if err := os.RemoveAll(stage.root); err != nil {
		return fmt.Errorf("remove %s: %w", stage.root, err)
	}
	return nil
}

// RemoveLeftovers removes the staging directories of full runs that were killed before they
// finished. Only the run holding the generator's lock may call it.
func RemoveLeftovers(out string) error {
	names, err := dirNames(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, n := range names {
		if strings.HasPrefix(n, stagePrefix) {
			if err := os.RemoveAll(filepath.Join(out, n)); err != nil {
				return fmt.Errorf("remove a killed run's leftovers: %w", err)
			}
		}
	}
	return nil
}
