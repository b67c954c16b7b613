package floor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"
	"slices"

	"coopcloud.tech/cc-ci/internal/swarm"
)

// MarkVolumes writes a fresh random marker (MarkerVolume) at the root of every named volume that
// the stack's services mount, through a running container of a service that mounts it read-write,
// and returns how many it marked. 0 with no error means there was nothing to mark: the stack has
// no named volume, or none that a running service mounts read-write (Uncovered says which).
func (f *Floor) MarkVolumes(ctx context.Context) (int, error) {
	f.volumes, f.uncovered = nil, nil
	svcs, err := f.Docker.StackServices(ctx, f.Stack)
	if err != nil {
		return 0, fmt.Errorf("mark volumes: %w", err)
	}
	var errs []error
	for _, p := range stackVolumes(svcs) {
		r, err := f.reach(ctx, svcs, p, true)
		var u *unreachable
		switch {
		case errors.As(err, &u):
			f.skip("volume %s: %s", f.short(p.volume), u.why)
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("mark volume %s: %w", f.short(p.volume), err))
			continue
		}
		m := &mark{place: place{volume: p.volume, rel: ".", service: r.service, path: r.path}, marker: MarkerVolume}
		value := newValue("volume marker")
		if err := f.Docker.WriteFile(ctx, r.container, m.file(r), value, swarm.FileMeta{Mode: 0o644}); err != nil {
			errs = append(errs, fmt.Errorf("mark volume %s through service %s: %w", f.short(p.volume), f.short(r.service), err))
			continue
		}
		m.want = printOf(value)
		f.volumes = append(f.volumes, m)
		f.logf("marked volume %s at %s (service %s)", f.short(p.volume), m.file(r), f.short(r.service))
	}
	return len(f.volumes), errors.Join(errs...)
}

// stackVolumes lists the named volumes the services mount, sorted, each with the first service
// (by name) that mounts it.
func stackVolumes(svcs []swarm.StackService) []place {
	var out []place
	for _, s := range svcs {
		for _, m := range volumeMounts(s) {
			if !slices.ContainsFunc(out, func(p place) bool { return p.volume == m.Source }) {
				out = append(out, place{volume: m.Source, rel: ".", service: s.Name, path: path.Clean(m.Target)})
			}
		}
	}
	slices.SortFunc(out, func(a, b place) int { return cmp.Compare(a.volume, b.volume) })
	return out
}

// CheckVolumes proves that every volume MarkVolumes marked still holds its marker, reading it
// through a running container of any service that mounts the volume now (the mount path may have
// changed). A missing or different marker, or a volume that no running service mounts any more,
// is a *LostError.
func (f *Floor) CheckVolumes(ctx context.Context) error {
	return f.checkAll(ctx, "check volumes", f.volumes, wording{
		step:    "the upgrade",
		want:    func(m *mark) string { return "the marker written before the upgrade (" + m.want.value() + ")" },
		moved:   func(m *mark) string { return " (was mounted at " + m.path + ")" },
		missing: func(*mark) string { return ": the volume was re-created or wiped" },
		other:   ": the volume was re-created or its data replaced",
	})
}
