package floor

import (
	"context"
	"errors"
	"fmt"

	"coopcloud.tech/cc-ci/internal/swarm"
)

// wording is what a check says about its marks when they did not survive.
type wording struct {
	step    string               // what would have lost them: "the upgrade", "the restore"
	want    func(m *mark) string // what should be there
	moved   func(m *mark) string // added to the reason no running service reaches the place
	missing func(m *mark) string // added to "no such file"
	mutated string               // the mark still holds what MutateBackupPaths wrote ("": never mutated)
	other   string               // added to "other content (...)"
}

// checkAll proves every mark holds what it held when marked (or settled), reading each through a
// running container of any service that reaches its place now. Losses make a *LostError; faults
// that stop a mark from being read are returned with it.
func (f *Floor) checkAll(ctx context.Context, op string, marks []*mark, w wording) error {
	if len(marks) == 0 {
		return fmt.Errorf("%s: %w", op, ErrNothingMarked)
	}
	svcs, err := f.Docker.StackServices(ctx, f.Stack)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	var losses []Loss
	var errs []error
	for _, m := range marks {
		if m.pending {
			return fmt.Errorf("%s: %s was never settled (MutateBackupPaths did not run): %w", op, f.where(m.place), ErrNothingMarked)
		}
		loss, err := f.check(ctx, svcs, m, w)
		switch {
		case err != nil:
			errs = append(errs, err)
		case loss != nil:
			losses = append(losses, *loss)
		}
	}
	return result(w.step, losses, errs)
}

// check proves one mark; a *Loss when it did not survive, an error when it could not be read.
func (f *Floor) check(ctx context.Context, svcs []swarm.StackService, m *mark, w wording) (*Loss, error) {
	where := f.where(m.place)
	loss := &Loss{Volume: f.short(m.volume), Service: f.short(m.service), Path: m.markedAt(), Want: w.want(m)}
	r, err := f.reach(ctx, svcs, m.place, false)
	var u *unreachable
	switch {
	case errors.As(err, &u):
		loss.Got = u.why + w.moved(m)
		return loss, nil
	case err != nil:
		return nil, fmt.Errorf("check %s: %w", where, err)
	}
	loss.Service, loss.Path = f.short(r.service), m.file(r)
	got, _, err := f.read(ctx, r.container, m.file(r))
	if err != nil {
		what, ok := found(err)
		if !ok {
			return nil, fmt.Errorf("check %s through service %s: %w", where, f.short(r.service), err)
		}
		loss.Got = what + w.missing(m)
		return loss, nil
	}
	switch {
	case got == m.want:
		f.logf("%s holds its mark after %s (%s, service %s)", where, w.step, m.file(r), f.short(r.service))
		return nil, nil
	case w.mutated != "" && got == m.mutated:
		loss.Got = w.mutated
	default:
		loss.Got = "other content (" + got.String() + ")" + w.other
	}
	return loss, nil
}
