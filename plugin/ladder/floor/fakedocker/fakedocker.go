// Package fakedocker is a hand-written FAKE of the Docker engine calls the data floor makes
// (internal/swarm's StackServices, RunningContainer, StatPath, ReadFile, WriteFile and
// ReadTree). It holds a stack's services, which of them have a running container, and the files
// of each named volume and of each container's own filesystem; paths resolve through the
// services' mounts as Docker resolves them (the deepest mount target wins; a read-only mount
// refuses writes). It records every call. Errors follow the real client: a missing path wraps fs.ErrNotExist, a directory
// read as a file wraps swarm.ErrNotRegular, no running task wraps swarm.ErrNoRunningTask.
package fakedocker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	"coopcloud.tech/cc-ci/internal/swarm"
	"github.com/docker/docker/api/types/mount"
)

// File is one entry of a volume or a container filesystem.
type File struct {
	Content []byte
	Meta    swarm.FileMeta
	Dir     bool
}

// Files maps paths to entries: relative to the volume root in a volume ("a/b"; the root itself is
// always a directory), absolute in a container's own filesystem. A file's parent directories must
// be entries too (or the root).
type Files map[string]File

// Fake is the engine. Seed it through the exported fields; they may be changed between calls to
// act out an upgrade, a backup or a restore.
type Fake struct {
	Services   []swarm.StackService
	Containers map[string]string // full service name -> ID of its running container; absent: none
	Volumes    map[string]Files  // full volume name -> its files
	Rootfs     map[string]Files  // container ID -> files outside every volume
	// Fail makes a method ("StackServices", "RunningContainer", "StatPath", "ReadFile",
	// "WriteFile", "ReadTree") return this error, as a Docker API failure.
	Fail  map[string]error
	Calls []string // one line per call: method and arguments
}

// Copy returns a deep copy of volumes, e.g. to act out a backup and its restore.
func Copy(volumes map[string]Files) map[string]Files {
	out := map[string]Files{}
	for name, files := range volumes {
		c := Files{}
		for p, f := range files {
			f.Content = slices.Clone(f.Content)
			c[p] = f
		}
		out[name] = c
	}
	return out
}

func (f *Fake) call(method string, args ...string) error {
	f.Calls = append(f.Calls, strings.Join(append([]string{method}, args...), " "))
	return f.Fail[method]
}

// StackServices returns the seeded services (copies), whatever the stack.
func (f *Fake) StackServices(_ context.Context, stack string) ([]swarm.StackService, error) {
	if err := f.call("StackServices", stack); err != nil {
		return nil, err
	}
	out := make([]swarm.StackService, 0, len(f.Services))
	for _, s := range f.Services {
		s.Labels = maps.Clone(s.Labels)
		s.Mounts = slices.Clone(s.Mounts)
		out = append(out, s)
	}
	return out, nil
}

// RunningContainer returns the seeded container of service.
func (f *Fake) RunningContainer(_ context.Context, service string) (string, error) {
	if err := f.call("RunningContainer", service); err != nil {
		return "", err
	}
	if id := f.Containers[service]; id != "" {
		return id, nil
	}
	return "", fmt.Errorf("service %s: %w", service, swarm.ErrNoRunningTask)
}

// StatPath returns the mode of the entry at p.
func (f *Fake) StatPath(_ context.Context, ctr, p string) (fs.FileMode, error) {
	if err := f.call("StatPath", ctr, p); err != nil {
		return 0, err
	}
	loc, err := f.resolve(ctr, p)
	if err != nil {
		return 0, err
	}
	e, ok := loc.get()
	switch {
	case !ok:
		return 0, fmt.Errorf("stat %s in container %s: %w", p, ctr, fs.ErrNotExist)
	case e.Dir:
		return fs.ModeDir | e.Meta.Mode, nil
	}
	return e.Meta.Mode, nil
}

// ReadFile copies the regular file at p into w.
func (f *Fake) ReadFile(_ context.Context, ctr, p string, w io.Writer) (swarm.FileMeta, error) {
	if err := f.call("ReadFile", ctr, p); err != nil {
		return swarm.FileMeta{}, err
	}
	loc, err := f.resolve(ctr, p)
	if err != nil {
		return swarm.FileMeta{}, err
	}
	e, ok := loc.get()
	switch {
	case !ok:
		return swarm.FileMeta{}, fmt.Errorf("read %s in container %s: %w", p, ctr, fs.ErrNotExist)
	case e.Dir:
		return swarm.FileMeta{}, fmt.Errorf("%s in container %s is a directory: %w", p, ctr, swarm.ErrNotRegular)
	}
	if _, err := w.Write(e.Content); err != nil {
		return swarm.FileMeta{}, err
	}
	return e.Meta, nil
}

// WriteFile creates or replaces the regular file at p; its directory must exist.
func (f *Fake) WriteFile(_ context.Context, ctr, p string, content []byte, meta swarm.FileMeta) error {
	if err := f.call("WriteFile", ctr, p, string(content)); err != nil {
		return err
	}
	loc, err := f.resolve(ctr, p)
	if err != nil {
		return err
	}
	if loc.readOnly {
		return fmt.Errorf("write %s in container %s: mounted volume is marked read-only", p, ctr)
	}
	if e, ok := loc.get(); ok && e.Dir {
		return fmt.Errorf("write %s in container %s: cannot overwrite a directory with a file", p, ctr)
	}
	parent := loc
	parent.rel = path.Dir(loc.rel)
	if loc.rel == "." || !parent.isDir() {
		return fmt.Errorf("write %s in container %s: %w", p, ctr, fs.ErrNotExist)
	}
	loc.files[loc.rel] = File{Content: slices.Clone(content), Meta: meta}
	return nil
}

// location is where a container path lands: an entry of a volume or of a container filesystem.
type location struct {
	files    Files
	rel      string // key in files ("." is a volume's root)
	root     bool   // files is a volume, whose "." is a directory
	readOnly bool
}

func (l location) get() (File, bool) {
	if l.root && l.rel == "." {
		return File{Dir: true, Meta: swarm.FileMeta{Mode: 0o755}}, true
	}
	e, ok := l.files[l.rel]
	return e, ok
}

func (l location) isDir() bool {
	e, ok := l.get()
	return ok && e.Dir || !l.root && l.rel == "/"
}

// resolve maps a container path onto storage through the mounts of the container's service.
func (f *Fake) resolve(ctr, p string) (location, error) {
	var svc *swarm.StackService
	for i, s := range f.Services {
		if f.Containers[s.Name] == ctr && ctr != "" {
			svc = &f.Services[i]
		}
	}
	if svc == nil {
		return location{}, errors.New("container " + ctr + " is gone: No such container")
	}
	p = path.Clean(p)
	var best *mount.Mount
	for i, m := range svc.Mounts {
		if m.Type != mount.TypeVolume || m.Source == "" {
			continue
		}
		t := path.Clean(m.Target)
		if (p == t || strings.HasPrefix(p, strings.TrimSuffix(t, "/")+"/")) && (best == nil || len(t) > len(path.Clean(best.Target))) {
			best = &svc.Mounts[i]
		}
	}
	if best == nil {
		if f.Rootfs == nil {
			f.Rootfs = map[string]Files{}
		}
		if f.Rootfs[ctr] == nil {
			f.Rootfs[ctr] = Files{}
		}
		return location{files: f.Rootfs[ctr], rel: p}, nil
	}
	if f.Volumes == nil {
		f.Volumes = map[string]Files{}
	}
	if f.Volumes[best.Source] == nil {
		f.Volumes[best.Source] = Files{} // Docker creates a named volume on first mount
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(p, path.Clean(best.Target)), "/")
	if rel == "" {
		rel = "."
	}
	return location{files: f.Volumes[best.Source], rel: rel, root: true, readOnly: best.ReadOnly}, nil
}

// ReadTree calls fn for each regular file below the directory at dir, in path order.
func (f *Fake) ReadTree(_ context.Context, ctr, dir string, fn func(rel string, meta swarm.FileMeta, content io.Reader) error) error {
	if err := f.call("ReadTree", ctr, dir); err != nil {
		return err
	}
	loc, err := f.resolve(ctr, dir)
	if err != nil {
		return err
	}
	e, ok := loc.get()
	switch {
	case !ok:
		return fmt.Errorf("read %s in container %s: %w", dir, ctr, fs.ErrNotExist)
	case !e.Dir:
		return fmt.Errorf("%s in container %s is a regular file: %w", dir, ctr, swarm.ErrNotDir)
	}
	prefix := strings.TrimSuffix(loc.rel, "/") + "/"
	if loc.root && loc.rel == "." {
		prefix = ""
	}
	for _, p := range slices.Sorted(maps.Keys(loc.files)) {
		rel, below := strings.CutPrefix(p, prefix)
		if e := loc.files[p]; !below || e.Dir {
			continue
		}
		if err := fn(rel, loc.files[p].Meta, bytes.NewReader(loc.files[p].Content)); errors.Is(err, fs.SkipAll) {
			return nil
		} else if err != nil {
			return err
		}
	}
	return nil
}
