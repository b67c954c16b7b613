package swarm

import (
	"archive/tar"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
)

// This file reaches into the task containers of a stack through the Docker API's archive endpoint
// (what `docker cp` uses): it works for any image, shell or not, and sees the container's volumes
// at their mount targets. It assumes a single-node swarm: a task's container is on this engine.

// ErrNoRunningTask means a service has no running task whose container could be reached.
var ErrNoRunningTask = errors.New("no running task")

// ErrNotDir means a path exists in a container but is not a directory.
var ErrNotDir = errors.New("not a directory")

// ErrNotRegular means a path exists in a container but is not a regular file (a directory, a
// symlink, a device, ...).
var ErrNotRegular = errors.New("not a regular file")

// StackService is one service of a stack as data checks see it.
type StackService struct {
	Name    string            // full service name, <stack>_<service>
	Labels  map[string]string // spec (compose deploy) labels, where backupbot's labels live
	Mounts  []mount.Mount     // the task template's mounts; volume Sources are full volume names
	Desired uint64            // tasks the service wants running (0: scaled to zero)
	Job     bool              // a job service: its tasks run to completion, not for good
}

// FileMeta is what a file keeps besides its content: permission bits and owner.
type FileMeta struct {
	Mode     fs.FileMode // permission bits only
	UID, GID int
}

// StackServices returns the services of stack, sorted by name, with their labels and mounts. A
// stack without services is an empty list, not an error.
func (c *Client) StackServices(ctx context.Context, stack string) ([]StackService, error) {
	if err := validStack(stack); err != nil {
		return nil, fmt.Errorf("stack services: %w", err)
	}
	list, err := c.api.ServiceList(ctx, swarm.ServiceListOptions{Status: true})
	if err != nil {
		return nil, fmt.Errorf("list services of stack %s: %w", stack, err)
	}
	var out []StackService
	for _, s := range list {
		if !owns(stack, s.Spec.Name, s.Spec.Labels) {
			continue
		}
		svc := StackService{Name: s.Spec.Name, Labels: maps.Clone(s.Spec.Labels), Desired: desiredTasks(s), Job: isJob(s)}
		if svc.Labels == nil {
			svc.Labels = map[string]string{}
		}
		if cs := s.Spec.TaskTemplate.ContainerSpec; cs != nil {
			svc.Mounts = slices.Clone(cs.Mounts)
		}
		out = append(out, svc)
	}
	slices.SortFunc(out, func(a, b StackService) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// RunningContainer returns the container ID of the newest running task of service (its full
// name) that swarm means to keep running. Without one the error wraps ErrNoRunningTask. (The
// daemon resolves the service filter to one service: by ID, then by exact name.)
func (c *Client) RunningContainer(ctx context.Context, service string) (string, error) {
	tasks, err := c.api.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(
		filters.Arg("service", service), filters.Arg("desired-state", string(swarm.TaskStateRunning)))})
	if err != nil {
		return "", fmt.Errorf("list tasks of service %s: %w", service, err)
	}
	var newest *swarm.Task
	for i, t := range tasks {
		if t.Status.State != swarm.TaskStateRunning || containerID(t) == "" {
			continue
		}
		if newest == nil || t.Status.Timestamp.After(newest.Status.Timestamp) {
			newest = &tasks[i]
		}
	}
	if newest == nil {
		return "", fmt.Errorf("service %s: %w", service, ErrNoRunningTask)
	}
	return containerID(*newest), nil
}

// StatPath returns the mode of path in a container (not following a final symlink). A path that
// does not exist in a container that does is an error wrapping fs.ErrNotExist.
func (c *Client) StatPath(ctx context.Context, containerID, path string) (fs.FileMode, error) {
	return c.statPath(ctx, "stat", containerID, path)
}

func (c *Client) statPath(ctx context.Context, op, containerID, path string) (fs.FileMode, error) {
	st, err := c.api.ContainerStatPath(ctx, containerID, path)
	if err != nil {
		return 0, c.pathError(ctx, op, containerID, path, err)
	}
	return st.Mode, nil
}

// ReadFile copies the regular file at path out of a container into w and returns its mode and
// owner. A missing path wraps fs.ErrNotExist; anything but a regular file wraps ErrNotRegular
// (its content is then never read).
func (c *Client) ReadFile(ctx context.Context, containerID, path string, w io.Writer) (FileMeta, error) {
	mode, err := c.statPath(ctx, "read", containerID, path)
	if err != nil {
		return FileMeta{}, err
	}
	if !mode.IsRegular() {
		return FileMeta{}, fmt.Errorf("%s in container %s is %s: %w", path, short(containerID), modeName(mode), ErrNotRegular)
	}
	rc, _, err := c.api.CopyFromContainer(ctx, containerID, path)
	if err != nil {
		return FileMeta{}, c.pathError(ctx, "read", containerID, path, err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	hdr, err := tr.Next()
	if err != nil {
		return FileMeta{}, fmt.Errorf("read %s from container %s: archive: %w", path, short(containerID), err)
	}
	if hdr.Typeflag != tar.TypeReg {
		// Replaced between the stat and the copy.
		return FileMeta{}, fmt.Errorf("%s in container %s is %s: %w", path, short(containerID),
			modeName(hdr.FileInfo().Mode()), ErrNotRegular)
	}
	if _, err := io.Copy(w, tr); err != nil {
		return FileMeta{}, fmt.Errorf("read %s from container %s: %w", path, short(containerID), err)
	}
	return FileMeta{Mode: hdr.FileInfo().Mode().Perm(), UID: hdr.Uid, GID: hdr.Gid}, nil
}

// ReadTree copies the directory dir out of a container and calls fn for each regular file below
// it, in archive order, with its path relative to dir, its mode and owner, and its content (valid
// until fn returns). Other entries (directories, symlinks, devices) are skipped. fn returning
// fs.SkipAll stops the walk without error. A missing dir wraps fs.ErrNotExist; anything but a
// directory wraps ErrNotDir.
func (c *Client) ReadTree(ctx context.Context, containerID, dir string, fn func(rel string, meta FileMeta, content io.Reader) error) error {
	mode, err := c.statPath(ctx, "read", containerID, dir)
	if err != nil {
		return err
	}
	if !mode.IsDir() {
		return fmt.Errorf("%s in container %s is %s: %w", dir, short(containerID), modeName(mode), ErrNotDir)
	}
	rc, _, err := c.api.CopyFromContainer(ctx, containerID, dir)
	if err != nil {
		return c.pathError(ctx, "read", containerID, dir, err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s from container %s: archive: %w", dir, short(containerID), err)
		}
		// Entries are named after dir's last element: "<base>/<rel>".
		_, rel, ok := strings.Cut(strings.TrimPrefix(hdr.Name, "./"), "/")
		if hdr.Typeflag != tar.TypeReg || !ok || rel == "" {
			continue
		}
		meta := FileMeta{Mode: hdr.FileInfo().Mode().Perm(), UID: hdr.Uid, GID: hdr.Gid}
		if err := fn(path.Clean(rel), meta, tr); errors.Is(err, fs.SkipAll) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// WriteFile creates or replaces the regular file at path (absolute) in a container with content,
// mode and owner from meta. Its directory must exist: a missing one wraps fs.ErrNotExist.
func (c *Client) WriteFile(ctx context.Context, containerID, file string, content []byte, meta FileMeta) error {
	if !path.IsAbs(file) || path.Clean(file) == "/" {
		return fmt.Errorf("write %q to container %s: not an absolute file path", file, short(containerID))
	}
	file = path.Clean(file)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: path.Base(file), Size: int64(len(content)),
		Mode: int64(meta.Mode.Perm()), Uid: meta.UID, Gid: meta.GID, ModTime: time.Now(), Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write %s to container %s: %w", file, short(containerID), err)
	}
	if _, err := tw.Write(content); err != nil {
		return fmt.Errorf("write %s to container %s: %w", file, short(containerID), err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write %s to container %s: %w", file, short(containerID), err)
	}
	// noOverwriteDirNonDir (the default) makes a directory at file an error instead of replacing it.
	if err := c.api.CopyToContainer(ctx, containerID, path.Dir(file), &buf, container.CopyToContainerOptions{}); err != nil {
		return c.pathError(ctx, "write", containerID, file, err)
	}
	return nil
}

// pathError words an archive endpoint error. The endpoint answers 404 both for a missing path and
// for a missing container: only the first is about the path (fs.ErrNotExist); a missing container
// is an infrastructure fault and says so.
func (c *Client) pathError(ctx context.Context, op, containerID, p string, err error) error {
	if cerrdefs.IsNotFound(err) {
		if _, ierr := c.api.ContainerInspect(ctx, containerID); ierr == nil {
			return fmt.Errorf("%s %s in container %s: %w", op, p, short(containerID), fs.ErrNotExist)
		} else if cerrdefs.IsNotFound(ierr) {
			return fmt.Errorf("%s %s: container %s is gone: %w", op, p, short(containerID), ierr)
		}
	}
	return fmt.Errorf("%s %s in container %s: %w", op, p, short(containerID), err)
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func modeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m.IsRegular():
		return "a regular file"
	}
	return "not a regular file (mode " + m.String() + ")"
}
