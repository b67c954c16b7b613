package floor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	"coopcloud.tech/cc-ci/internal/swarm"
)

// maxAdopted bounds how many files of a directory that the backup created are adopted as marks:
// a few prove the directory came back, and each costs a write and a read.
const maxAdopted = 8

// MutateBackupPaths runs after the backup: it changes every mark (a new marker value; other
// content in a file, which keeps its mode and owner), so that only a restore can bring the marked
// values back. A path that was absent before the backup adopts what the backup wrote there first
// (a file's content, or up to maxAdopted files of a directory). A mark the backup itself changed
// or removed (a backup hook rewrote it) is dropped as uncovered, as is a path the backup left
// absent: the floor cannot tell what the snapshot holds there. When every mark was dropped the
// error wraps ErrNothingMarked.
func (f *Floor) MutateBackupPaths(ctx context.Context) error {
	if len(f.backups) == 0 {
		return fmt.Errorf("mutate backup paths: %w", ErrNothingMarked)
	}
	f.uncovered = nil
	svcs, err := f.Docker.StackServices(ctx, f.Stack)
	if err != nil {
		return fmt.Errorf("mutate backup paths: %w", err)
	}
	var keep []*mark
	var errs []error
	for _, m := range f.backups {
		r, err := f.reach(ctx, svcs, m.place, true)
		if err != nil {
			errs = append(errs, fmt.Errorf("mutate %s after the backup: %w", f.where(m.place), err))
			keep = append(keep, m)
			continue
		}
		marks, err := f.settle(ctx, r, m)
		if err != nil {
			errs = append(errs, err)
			keep = append(keep, m)
			continue
		}
		for _, m := range marks {
			if err := f.mutate(ctx, svcs, m); err != nil {
				errs = append(errs, err)
			}
			keep = append(keep, m)
		}
	}
	f.backups = keep
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if len(keep) == 0 {
		return fmt.Errorf("every backed-up path was changed, removed or left absent by the backup itself: %w", ErrNothingMarked)
	}
	return nil
}

// settle returns the marks m stands for after the backup: m itself when it is intact, what the
// backup wrote when m was pending, none when the backup changed it (recorded as uncovered).
func (f *Floor) settle(ctx context.Context, r route, m *mark) ([]*mark, error) {
	where := f.where(m.place)
	if m.pending {
		return f.adopt(ctx, r, m)
	}
	got, _, err := f.read(ctx, r.container, m.file(r))
	what, isFinding := found(err)
	switch {
	case err != nil && !isFinding:
		return nil, fmt.Errorf("mutate %s through service %s: %w", where, f.short(r.service), err)
	case err == nil && got == m.want:
		return []*mark{m}, nil
	case err == nil:
		what = "other content (" + got.String() + ")"
	}
	f.skip("%s changed during the backup itself (now %s): a backup hook rewrites it, so the floor cannot tell what the snapshot holds",
		where, what)
	return nil, nil
}

// adopt takes what the backup wrote at a path that was absent before it as the path's marks: the
// file's content, or the first files of a directory.
func (f *Floor) adopt(ctx context.Context, r route, m *mark) ([]*mark, error) {
	where := f.where(m.place)
	mode, err := f.Docker.StatPath(ctx, r.container, r.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		f.skip("%s is absent before and after the backup: the backup writes nothing there", where)
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read %s through service %s after the backup: %w", where, f.short(r.service), err)
	case mode.IsRegular():
		got, meta, err := f.read(ctx, r.container, r.path)
		if err != nil {
			return nil, fmt.Errorf("read %s through service %s after the backup: %w", where, f.short(r.service), err)
		}
		m.pending, m.want, m.meta = false, got, meta
		f.logf("%s was written by the backup (%s): it must come back so", where, got)
		return []*mark{m}, nil
	case !mode.IsDir():
		f.skip("%s is neither a directory nor a regular file after the backup (mode %s)", where, mode)
		return nil, nil
	}
	var out []*mark
	err = f.Docker.ReadTree(ctx, r.container, r.path, func(rel string, meta swarm.FileMeta, content io.Reader) error {
		var p printer
		if _, err := io.Copy(&p, content); err != nil {
			return err
		}
		fm := &mark{place: m.place, want: p.print(), meta: meta, restoreHook: m.restoreHook}
		fm.path = path.Join(m.path, rel)
		if fm.volume != "" {
			fm.rel = path.Join(m.rel, rel)
		}
		out = append(out, fm)
		if len(out) == maxAdopted {
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s through service %s after the backup: %w", where, f.short(r.service), err)
	}
	if len(out) == 0 {
		f.skip("%s is an empty directory after the backup: nothing to mark", where)
	}
	for _, fm := range out {
		f.logf("%s was written by the backup: it must come back so", f.where(fm.place))
	}
	return out, nil
}

// mutate overwrites one settled mark.
func (f *Floor) mutate(ctx context.Context, svcs []swarm.StackService, m *mark) error {
	r, err := f.reach(ctx, svcs, m.place, true)
	if err != nil {
		return fmt.Errorf("mutate %s after the backup: %w", f.where(m.place), err)
	}
	p := m.file(r)
	value, meta := newValue("backup marker, changed after the backup"), swarm.FileMeta{Mode: 0o644}
	if m.marker == "" {
		value, meta = newValue("overwrote this file after the backup; the restore must bring it back"), m.meta
	}
	if err := f.Docker.WriteFile(ctx, r.container, p, value, meta); err != nil {
		return fmt.Errorf("mutate %s through service %s: %w", f.where(m.place), f.short(r.service), err)
	}
	m.mutated = printOf(value)
	f.logf("changed %s after the backup (%s)", f.where(m.place), p)
	return nil
}

// CheckBackupPaths runs after the restore: every mark must hold its value from before the backup
// (or, for an adopted path, from the backup) again. A mark that is missing, still holds the value
// written after the backup, or holds anything else, or a place no running service reaches any
// more, is a *LostError.
func (f *Floor) CheckBackupPaths(ctx context.Context) error {
	return f.checkAll(ctx, "check backup paths", f.backups, wording{
		step: "the restore",
		want: func(m *mark) string {
			if m.marker == "" {
				return "its content at backup time (" + m.want.String() + ")"
			}
			return "the marker written before the backup (" + m.want.value() + ")"
		},
		moved: func(*mark) string { return "" },
		missing: func(m *mark) string {
			why := ": the backup does not hold it, or the restore does not put it back"
			if m.restoreHook != "" {
				why += fmt.Sprintf(" (or the restore post-hook %q removes it)", m.restoreHook)
			}
			return why
		},
		mutated: "the value written after the backup: the restore did not put the backed-up data back",
		other:   ": the restore put back something other than this run's backup",
	})
}
