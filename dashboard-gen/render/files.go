package render

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// tree is a directory the site's files are written into. It keeps one open handle per
// subdirectory and creates files relative to it with plain system calls: os.OpenFile would add
// four fcntl calls and a failed epoll registration to each of a full run's ~20,000 files, and a
// full path would be walked again for each.
type tree struct {
	root string
	// direct trees are staging trees no reader sees: files are created in place. In a live tree
	// each file is a temp file renamed over the old one.
	direct bool

	mu  sync.Mutex
	fds map[string]int // by directory, relative to root ("" is root)
}

func newTree(root string, direct bool) *tree {
	return &tree{root: root, direct: direct, fds: map[string]int{}}
}

// dir is the handle of root/rel, creating the directory (0755 less the umask) the first time.
func (t *tree) dir(rel string) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd, ok := t.fds[rel]; ok {
		return fd, nil
	}
	p := filepath.Join(t.root, rel)
	if err := os.MkdirAll(p, 0o755); err != nil {
		return -1, fmt.Errorf("create %s: %w", p, err)
	}
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", p, err)
	}
	t.fds[rel] = fd
	return fd, nil
}

// close releases the directory handles.
func (t *tree) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for rel, fd := range t.fds {
		_ = unix.Close(fd) // a directory opened read-only has nothing to flush
		delete(t.fds, rel)
	}
}

// put writes root/rel with what fill writes: in place in a direct tree, else as a new temp file
// in the same directory renamed over rel, so a web server serving the directory sends the old
// file or the new one, never half of one. Either way the file is created with mode 0644 (less
// the umask), so the web server can read it the moment it appears. It returns the file's path.
func (t *tree) put(rel string, fill func(io.Writer) error) (string, error) {
	dir, name := path.Split(rel)
	p := filepath.Join(t.root, rel)
	dfd, err := t.dir(strings.TrimSuffix(dir, "/"))
	if err != nil {
		return p, err
	}
	if t.direct {
		if err := create(dfd, name, unix.O_TRUNC, fill); err != nil {
			return p, fmt.Errorf("write %s: %w", p, err)
		}
		return p, nil
	}
	tmp := "." + name + ".tmp-" + strconv.FormatUint(rand.Uint64(), 36)
	err = create(dfd, tmp, unix.O_EXCL, fill)
	if err == nil {
		err = unix.Renameat(dfd, tmp, dfd, name)
	}
	if err != nil {
		_ = unix.Unlinkat(dfd, tmp, 0) // best effort: the error below is what matters
		return p, fmt.Errorf("write %s: %w", p, err)
	}
	return p, nil
}

// create creates name in the directory dfd (flag: O_EXCL or O_TRUNC) and fills it.
func create(dfd int, name string, flag int, fill func(io.Writer) error) error {
	fd, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC|flag, 0o644)
	if err != nil {
		return err
	}
	return errors.Join(fill(fdWriter(fd)), unix.Close(fd))
}

// fdWriter writes to a file descriptor.
type fdWriter int

func (w fdWriter) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Write(int(w), p[n:])
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return n, err
		case m == 0:
			return n, io.ErrShortWrite
		}
		n += m
	}
	return n, nil
}

// Written is how many files were written so far.
func (s *Site) Written() int { return int(s.written.Load()) }

// write writes Out/rel: in a Rebuild's staging directory, else atomically in place (tree.put).
func (s *Site) write(rel string, data []byte) error {
	return s.stream(rel, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// stream writes Out/rel with what fill writes, like write.
func (s *Site) stream(rel string, fill func(io.Writer) error) error {
	p, err := s.treeFor(rel).put(rel, fill)
	if err != nil {
		return err
	}
	if s.written.Add(1) <= syncEach {
		s.mu.Lock()
		s.paths = append(s.paths, p)
		s.mu.Unlock()
	}
	return nil
}

// syncEach is the most files Sync fsyncs one by one; past it, one syncfs(2) is cheaper.
const syncEach = 256

// Sync makes every file written so far durable: a few files (an incremental run) are fsynced
// one by one with their directories; many (a full run) with one syncfs(2) of Out's file system,
// instead of one fsync per page.
func (s *Site) Sync() error {
	s.mu.Lock()
	paths := s.paths
	s.mu.Unlock()
	if int(s.written.Load()) > len(paths) {
		return s.syncfs()
	}
	dirs := map[string]bool{}
	for _, p := range paths {
		if err := fsync(p); err != nil {
			return err
		}
		dirs[filepath.Dir(p)] = true
	}
	for d := range dirs {
		if err := fsync(d); err != nil {
			return err
		}
	}
	return nil
}

func (s *Site) syncfs() error {
	d, err := os.Open(s.Out)
	if err != nil {
		return fmt.Errorf("sync site: %w", err)
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return fmt.Errorf("sync site %s: %w", s.Out, err)
	}
	return nil
}

// fsync flushes one file or directory to disk.
func fsync(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}
