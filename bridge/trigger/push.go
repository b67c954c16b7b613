package trigger

import (
	"context"

	"coopcloud.tech/cc-ci/bridge/report"
	"coopcloud.tech/cc-ci/bridge/store"
)

// push handles new commits on a PR. It never starts a run (nobody who may trigger runs has looked
// at the pushed code); it cancels a run in flight on the older head, and the sticky comment says
// how to test the new one.
func (j *job) push(ctx context.Context) {
	s, ev := j.s, j.r.Event
	pr, err := j.f.PullRequest(ctx, ev.Repo, ev.PR)
	if err != nil {
		j.r = s.retry(j.log, j.r, err)
		return
	}
	if pr.HeadSHA != ev.HeadSHA {
		// A late or redelivered push of an older head must not cancel a run on the newer one.
		s.finish(j.log, j.r, store.Dropped, "stale push: the head is now "+short(pr.HeadSHA))
		return
	}
	p, err := s.store.PR(j.prKey())
	if err != nil {
		j.log.Error("load PR", "err", err)
		return
	}
	if p.PushSHA != ev.HeadSHA {
		p.PushSHA, p.PushAt = ev.HeadSHA, ev.Received
		if err := s.store.PutPR(p); err != nil {
			j.log.Error("store PR", "err", err)
			return
		}
	}
	if p.Current == "" || p.SHA == ev.HeadSHA {
		s.finish(j.log, j.r, store.Dropped, "no run in flight on an older head")
		return
	}
	cur, err := s.store.Get(p.Current)
	if err != nil {
		j.log.Error("load current request", "request", p.Current, "err", err)
		return
	}
	if !inFlight(cur) || !j.running(ctx, cur) {
		s.finish(j.log, j.r, store.Dropped, "the last run already finished")
		return
	}
	prev := (&job{s: s, f: j.f, r: cur, log: j.log}).run(cur.Build)
	j.supersede(ctx, cur, "new commits pushed ("+short(ev.HeadSHA)+")")
	p, err = s.store.PR(j.prKey())
	if err != nil {
		j.log.Error("load PR", "err", err)
		return
	}
	p.Current, p.SHA, p.Build = "", ev.HeadSHA, 0
	if err := s.store.PutPR(p); err != nil {
		j.log.Error("store PR", "err", err)
	}
	if err := j.sticky(ctx, report.NewCommits(prev, ev.HeadSHA)); err != nil {
		j.log.Warn("sticky after a push", "err", err)
	}
	s.finish(j.log, j.r, store.Reported, "cancelled "+cur.Key)
}
