package floor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"path"
	"slices"
	"strings"

	"coopcloud.tech/cc-ci/internal/swarm"
	"github.com/docker/docker/api/types/mount"
)

// place is where a mark lives: a path inside a named volume, which any service mounting the
// volume reaches (at its own mount target), or a path outside every volume, which only the
// containers of one service hold.
type place struct {
	volume  string // full volume name; "" outside every volume
	rel     string // path relative to the volume root, "." for the root
	service string // full name of the service that declared or mounted it: the route tried first
	path    string // absolute path in that service's containers
}

// key identifies the stored data, so that one directory reached through two services (the same
// volume mounted twice) is marked once: two markers would overwrite each other.
func (p place) key() string {
	if p.volume != "" {
		return "volume\x00" + p.volume + "\x00" + p.rel
	}
	return "service\x00" + p.service + "\x00" + p.path
}

// placeOf locates an absolute path of service s: inside the volume whose mount target holds it
// (the deepest, as mounts nest), or outside every volume.
func placeOf(s swarm.StackService, p string) place {
	p = path.Clean(p)
	best := place{service: s.Name, path: p}
	depth := -1
	for _, m := range volumeMounts(s) {
		target := path.Clean(m.Target)
		rel, ok := within(target, p)
		if ok && len(target) > depth {
			best, depth = place{volume: m.Source, rel: rel, service: s.Name, path: p}, len(target)
		}
	}
	return best
}

// within returns p relative to dir when p is dir or below it.
func within(dir, p string) (string, bool) {
	if p == dir {
		return ".", true
	}
	prefix := strings.TrimSuffix(dir, "/") + "/"
	if rest, ok := strings.CutPrefix(p, prefix); ok {
		return rest, true
	}
	return "", false
}

// volumeMounts returns the mounts of s that are named volumes.
func volumeMounts(s swarm.StackService) []mount.Mount {
	var out []mount.Mount
	for _, m := range s.Mounts {
		if m.Type == mount.TypeVolume && m.Source != "" {
			out = append(out, m)
		}
	}
	return out
}

// runs reports whether swarm keeps a task of s running: not scaled to zero, not a job.
func runs(s swarm.StackService) bool { return s.Desired > 0 && !s.Job }

// mark is one marked place and what the floor expects to find there.
type mark struct {
	place
	marker string // the marker file's name inside the place; "" when the place is a labelled file
	want   print  // its content when marked
	// Backup marks only.
	pending     bool           // absent before the backup: what the backup writes there is adopted after it
	mutated     print          // what MutateBackupPaths wrote over it
	meta        swarm.FileMeta // a file's own mode and owner, kept when it is overwritten
	restoreHook string         // the declaring service's restore post-hook, for the message
}

// file is the path of the file that holds the mark, reached by r.
func (m *mark) file(r route) string {
	if m.marker == "" {
		return r.path
	}
	return path.Join(r.path, m.marker)
}

// markedAt is the path of the file that holds the mark, as it was marked.
func (m *mark) markedAt() string { return m.file(route{path: m.path}) }

// route is one way to reach a place: a running container and the place's path inside it.
type route struct {
	service   string // full service name
	container string
	path      string
}

// unreachable means no running service reaches a place: no service mounts the volume (or has the
// path) at all, or only services that swarm does not keep running do. It is about the stack's
// shape, not an infrastructure fault.
type unreachable struct{ why string }

func (u *unreachable) Error() string { return u.why }

// candidate is a service that reaches a place, at a path.
type candidate struct {
	svc      swarm.StackService
	path     string
	readOnly bool
}

// candidates lists the services that reach p, the one that declared it first.
func (f *Floor) candidates(svcs []swarm.StackService, p place) []candidate {
	var out []candidate
	for _, s := range svcs {
		if p.volume == "" {
			if s.Name == p.service {
				out = append(out, candidate{svc: s, path: p.path})
			}
			continue
		}
		for _, m := range volumeMounts(s) {
			if m.Source == p.volume {
				out = append(out, candidate{svc: s, path: path.Join(path.Clean(m.Target), p.rel), readOnly: m.ReadOnly})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b candidate) int {
		switch {
		case a.svc.Name == p.service && b.svc.Name != p.service:
			return -1
		case b.svc.Name == p.service && a.svc.Name != p.service:
			return 1
		}
		return 0
	})
	return out
}

// reach finds a running container through which p can be read, or written when write is true
// (which needs a read-write mount). The error is *unreachable when no running service reaches
// p, and an infrastructure error when one should but has no running task or Docker fails.
func (f *Floor) reach(ctx context.Context, svcs []swarm.StackService, p place, write bool) (route, error) {
	all := f.candidates(svcs, p)
	if len(all) == 0 {
		if p.volume == "" {
			return route{}, &unreachable{fmt.Sprintf("service %s is gone", f.short(p.service))}
		}
		return route{}, &unreachable{"no service mounts the volume any more"}
	}
	var running, idle []candidate
	for _, c := range all {
		if runs(c.svc) {
			running = append(running, c)
		} else {
			idle = append(idle, c)
		}
	}
	if len(running) == 0 {
		return route{}, &unreachable{"only services that swarm does not keep running mount it: " + f.names(idle)}
	}
	if write {
		running = slices.DeleteFunc(running, func(c candidate) bool { return c.readOnly })
		if len(running) == 0 {
			return route{}, &unreachable{"every running service that mounts it mounts it read-only"}
		}
	}
	var noTask []candidate
	for _, c := range running {
		ctr, err := f.Docker.RunningContainer(ctx, c.svc.Name)
		switch {
		case errors.Is(err, swarm.ErrNoRunningTask):
			noTask = append(noTask, c)
		case err != nil:
			return route{}, fmt.Errorf("find a running container of service %s: %w", f.short(c.svc.Name), err)
		default:
			return route{service: c.svc.Name, container: ctr, path: c.path}, nil
		}
	}
	return route{}, fmt.Errorf("%s: %w, although swarm should keep one running", f.names(noTask), swarm.ErrNoRunningTask)
}

func (f *Floor) names(cs []candidate) string {
	var out []string
	for _, c := range cs {
		if n := f.short(c.svc.Name); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

// print is what the floor remembers of a file's content: its size and hash, and its first bytes
// for messages.
type print struct {
	size int64
	sum  [sha256.Size]byte
	head string
}

func printOf(b []byte) print {
	var p printer
	_, _ = p.Write(b)
	return p.print()
}

// String shows a short content whole, a longer one by size, first bytes and hash.
func (p print) String() string {
	if p.size <= int64(len(p.head)) {
		return fmt.Sprintf("%q", p.head)
	}
	return fmt.Sprintf("%d bytes starting %q, sha256 %x…", p.size, p.head, p.sum[:6])
}

// value is a marker's content for messages.
func (p print) value() string { return strings.TrimSpace(p.head) }

// printer is an io.Writer that keeps a print of everything written, in constant memory.
type printer struct {
	hash hash.Hash
	size int64
	head bytes.Buffer
}

const headBytes = 100

func (p *printer) Write(b []byte) (int, error) {
	if p.hash == nil {
		p.hash = sha256.New()
	}
	if room := headBytes - p.head.Len(); room > 0 {
		p.head.Write(b[:min(room, len(b))])
	}
	p.size += int64(len(b))
	return p.hash.Write(b)
}

func (p *printer) print() print {
	if p.hash == nil {
		p.hash = sha256.New()
	}
	out := print{size: p.size, head: p.head.String()}
	copy(out.sum[:], p.hash.Sum(nil))
	return out
}

// read prints the regular file at p in a container and returns its mode and owner.
func (f *Floor) read(ctx context.Context, ctr, p string) (print, swarm.FileMeta, error) {
	var pr printer
	meta, err := f.Docker.ReadFile(ctx, ctr, p, &pr)
	return pr.print(), meta, err
}

// found words what a read found when it did not find the file: ok=false for an infrastructure
// error, which is not a finding.
func found(err error) (string, bool) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file", true
	case errors.Is(err, swarm.ErrNotRegular):
		return err.Error(), true
	}
	return "", false
}
