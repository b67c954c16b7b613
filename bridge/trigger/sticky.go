package trigger

import (
	"context"
	"fmt"
	"time"

	"coopcloud.tech/cc-ci/bridge/report"
	"coopcloud.tech/cc-ci/bridge/trust"
)

// sticky writes body into the PR's one cc-ci comment: edited in place when the bridge knows it,
// adopted when the bot already left one (the store was lost, or another run wrote it), created
// only when there is none. Every later run on the PR edits the same comment.
func (j *job) sticky(ctx context.Context, body string) error {
	s, ev := j.s, j.r.Event
	p, err := s.store.PR(j.prKey())
	if err != nil {
		return fmt.Errorf("load PR: %w", err)
	}
	if p.Sticky != 0 {
		err := j.f.EditComment(ctx, ev.Repo, p.Sticky, body)
		if err == nil {
			return nil
		}
		// Deleted by a maintainer, or the forge failed: look again before writing a new one.
		j.log.Warn("edit sticky comment; looking for it again", "comment", p.Sticky, "err", err)
	}
	id, err := j.findSticky(ctx)
	if err != nil {
		return fmt.Errorf("list comments for the sticky one: %w", err)
	}
	if id != 0 {
		err = j.f.EditComment(ctx, ev.Repo, id, body)
	} else {
		id, err = j.f.CreateComment(ctx, ev.Repo, ev.PR, body)
	}
	if err != nil {
		return fmt.Errorf("write sticky comment: %w", err)
	}
	if p, err = s.store.PR(j.prKey()); err == nil {
		p.Sticky = id
		err = s.store.PutPR(p)
	}
	if err != nil {
		// The comment is on the PR; the next write finds it again by its marker.
		j.log.Error("store sticky comment id", "err", err)
	}
	return nil
}

// findSticky returns the id of the bot's comment carrying the sticky marker, 0 when none.
func (j *job) findSticky(ctx context.Context) (int64, error) {
	ev := j.r.Event
	cs, err := j.f.Comments(ctx, ev.Repo, ev.PR, time.Time{})
	if err != nil {
		return 0, err
	}
	bot := j.s.cfg.Bots[ev.Forge]
	for _, c := range cs {
		if trust.SameLogin(c.Author, bot) && report.IsSticky(c.Body) {
			return c.ID, nil
		}
	}
	return 0, nil
}
