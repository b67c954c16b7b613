package trigger

import (
	"context"
	"time"

	"coopcloud.tech/cc-ci/bridge/report"
)

// sticky writes body into the PR's one cc-ci comment: edited in place when the bridge knows it,
// adopted when the bot already left one (the store was lost, or another run wrote it), created
// only when there is none. Every later run on the PR edits the same comment.
func (j *job) sticky(ctx context.Context, body string) {
	s, ev := j.s, j.r.Event
	p, err := s.store.PR(j.prKey())
	if err != nil {
		j.log.Error("load PR", "err", err)
		return
	}
	if p.Sticky != 0 {
		if err := j.f.EditComment(ctx, ev.Repo, p.Sticky, body); err == nil {
			return
		} else {
			// Deleted by a maintainer, or the forge failed: look again before writing a new one.
			j.log.Warn("edit sticky comment; looking for it again", "comment", p.Sticky, "err", err)
		}
	}
	id, err := j.findSticky(ctx)
	if err != nil {
		j.log.Error("list comments for the sticky one", "err", err)
		return
	}
	if id != 0 {
		err = j.f.EditComment(ctx, ev.Repo, id, body)
	} else {
		id, err = j.f.CreateComment(ctx, ev.Repo, ev.PR, body)
	}
	if err != nil {
		j.log.Error("write sticky comment", "err", err)
		return
	}
	// Re-read: another request of this PR may have changed the PR record meanwhile (same worker,
	// so only this request's own earlier writes; the re-read keeps them).
	p, err = s.store.PR(j.prKey())
	if err == nil {
		p.Sticky = id
		err = s.store.PutPR(p)
	}
	if err != nil {
		j.log.Error("store sticky comment id", "err", err)
	}
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
		if c.Author == bot && report.IsSticky(c.Body) {
			return c.ID, nil
		}
	}
	return 0, nil
}
