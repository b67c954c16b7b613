package floor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"coopcloud.tech/cc-ci/internal/backupbot"
	"coopcloud.tech/cc-ci/internal/swarm"
)

// MarkBackupPaths runs before the backup and marks every path a backup of the stack covers, as
// backup-bot-two reads the labels (backupbot.StackTargets): a fresh random marker file
// (MarkerBackup) inside each directory; for each regular file, its own content, remembered. A
// path that is absent now is taken as one the backup's pre-hook writes (a database dump): what
// the backup wrote there is adopted as its mark after the backup (see MutateBackupPaths).
//
// It returns how many paths it marked or will adopt. 0 with no error means there was nothing to
// mark: no service opted into backups, labels that cannot be read, or only paths it cannot mark
// (Uncovered says which). A path that two services reach through the same volume counts once.
func (f *Floor) MarkBackupPaths(ctx context.Context) (int, error) {
	f.backups, f.uncovered = nil, nil
	svcs, err := f.Docker.StackServices(ctx, f.Stack)
	if err != nil {
		return 0, fmt.Errorf("mark backup paths: %w", err)
	}
	targets, ok, err := f.targets(svcs)
	switch {
	case err != nil:
		// The backup itself refuses such labels and fails on them; the floor only has no places.
		f.skip("the backup labels cannot be read: %v", err)
		return 0, nil
	case !ok:
		f.skip("no service declares %s=true", backupbot.LabelBackup)
		return 0, nil
	}
	seen := map[string]bool{}
	var errs []error
	for _, t := range targets {
		svc := byName(svcs, t.Service)
		for _, p := range t.Paths {
			pl := placeOf(svc, p)
			if seen[pl.key()] {
				continue
			}
			seen[pl.key()] = true
			if err := f.markPath(ctx, svcs, pl, t.RestorePostHook); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return len(f.backups), errors.Join(errs...)
}

// targets resolves the stack's backup labels.
func (f *Floor) targets(svcs []swarm.StackService) ([]backupbot.Target, bool, error) {
	in := make([]backupbot.Service, 0, len(svcs))
	for _, s := range svcs {
		in = append(in, backupbot.Service{Name: s.Name, Labels: s.Labels, Mounts: backupbot.MountsFromSpec(f.Stack, s.Mounts)})
	}
	return backupbot.StackTargets(in)
}

func byName(svcs []swarm.StackService, name string) swarm.StackService {
	for _, s := range svcs {
		if s.Name == name {
			return s
		}
	}
	return swarm.StackService{Name: name}
}

// markPath marks one covered path. A place it cannot mark is recorded as uncovered; the error is
// an infrastructure fault.
func (f *Floor) markPath(ctx context.Context, svcs []swarm.StackService, pl place, restoreHook string) error {
	where := f.where(pl)
	r, err := f.reach(ctx, svcs, pl, true)
	var u *unreachable
	switch {
	case errors.As(err, &u):
		f.skip("%s: %s", where, u.why)
		return nil
	case err != nil:
		return fmt.Errorf("mark %s: %w", where, err)
	}
	m := &mark{place: pl, restoreHook: restoreHook}
	m.service, m.path = r.service, r.path
	mode, err := f.Docker.StatPath(ctx, r.container, r.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		m.pending = true
		f.backups = append(f.backups, m)
		f.logf("%s is absent before the backup (%s, service %s): what the backup writes there will be its mark",
			where, r.path, f.short(r.service))
		return nil
	case err != nil:
		return fmt.Errorf("mark %s through service %s: %w", where, f.short(r.service), err)
	case mode.IsDir():
		m.marker = MarkerBackup
		value := newValue("backup marker")
		if err := f.Docker.WriteFile(ctx, r.container, m.file(r), value, swarm.FileMeta{Mode: 0o644}); err != nil {
			return fmt.Errorf("mark %s through service %s: %w", where, f.short(r.service), err)
		}
		m.want = printOf(value)
	case mode.IsRegular():
		got, meta, err := f.read(ctx, r.container, r.path)
		if err != nil {
			return fmt.Errorf("read %s through service %s: %w", where, f.short(r.service), err)
		}
		m.want, m.meta = got, meta
	default:
		f.skip("%s is neither a directory nor a regular file (mode %s): nothing to mark", where, mode)
		return nil
	}
	f.backups = append(f.backups, m)
	f.logf("marked %s (%s, service %s)", where, m.file(r), f.short(r.service))
	return nil
}

// where names a place for messages.
func (f *Floor) where(p place) string {
	if p.volume == "" {
		return fmt.Sprintf("%s of service %s", p.path, f.short(p.service))
	}
	if p.rel == "." {
		return "volume " + f.short(p.volume)
	}
	return fmt.Sprintf("%s in volume %s", p.rel, f.short(p.volume))
}
