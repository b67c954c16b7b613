package trigger

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"coopcloud.tech/cc-ci/bridge/forge"
	"coopcloud.tech/cc-ci/bridge/report"
	"coopcloud.tech/cc-ci/bridge/store"
	"coopcloud.tech/cc-ci/bridge/trust"
)

// admit decides a received request: trusted, PR open, head pinned, nothing equivalent running.
// It returns true when the request moved to Starting and a build should be created.
func (j *job) admit(ctx context.Context) bool {
	s, ev := j.s, j.r.Event
	res, err := trust.Decide(ctx, j.f, trust.Input{Repo: ev.Repo, Owner: ev.Owner, User: ev.Author, AllowList: s.cfg.AllowList})
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// Our own shutdown or timeout is no answer about the commenter: ask again later.
		j.r = s.retry(j.log, j.r, fmt.Errorf("trust check interrupted: %w", cmp.Or(err, ctx.Err())))
		return false
	}
	if err != nil || !res.Trusted {
		note := "untrusted: " + res.Reason
		if err != nil {
			note = fmt.Sprintf("trust check failed (treated as untrusted): %v", err)
		}
		j.refuse(ctx, note)
		return false
	}
	pr, err := j.f.PullRequest(ctx, ev.Repo, ev.PR)
	if err != nil {
		j.r = s.retry(j.log, j.r, err)
		return false
	}
	if !pr.Open {
		s.finish(j.log, j.r, store.Dropped, "PR is closed")
		return false
	}
	// Pin the head now: the build tests what the commenter looked at, whatever is pushed later.
	j.r.SHA = pr.HeadSHA
	if ev.CloneURL == "" {
		j.r.Event.CloneURL = pr.CloneURL
	}
	p, err := s.store.PR(j.prKey())
	if err != nil {
		j.log.Error("load PR", "err", err)
		return false
	}
	if p.PushSHA == pr.HeadSHA && p.PushAt.After(ev.Said()) {
		// The head moved after the comment (the request waited: a backlog, an outage, a
		// catch-up): it holds code the commenter never saw.
		if _, cerr := j.f.CreateComment(ctx, ev.Repo, ev.PR, report.HeadMoved(j.run(0))); cerr != nil {
			j.log.Error("reply head moved", "err", cerr)
		}
		s.finish(j.log, j.r, store.Dropped, "new commits after the comment: "+short(pr.HeadSHA))
		return false
	}
	if err := j.f.React(ctx, ev.Repo, ev.CommentID, "eyes"); err != nil {
		j.log.Warn("eyes reaction", "err", err)
	}
	if p.Current != "" && p.Current != j.r.Key {
		cur, err := s.store.Get(p.Current)
		if err == nil && inFlight(cur) && j.running(ctx, cur) {
			if cur.SHA == j.r.SHA {
				run := j.run(cur.Build)
				if _, cerr := j.f.CreateComment(ctx, ev.Repo, ev.PR, report.AlreadyRunning(run)); cerr != nil {
					j.log.Error("reply already running", "err", cerr)
				}
				s.finish(j.log, j.r, store.Duplicate, fmt.Sprintf("%s is already testing %s", cur.Key, cur.SHA))
				return false
			}
			j.supersede(ctx, cur, "superseded by `!testme` on "+short(j.r.SHA))
		}
	}
	j.r.State = store.Starting
	if cur := p.Current; cur != "" && cur != j.r.Key {
		// supersede may have changed the PR record (a refusal list, a sticky id): re-read it.
		if p, err = s.store.PR(j.prKey()); err != nil {
			j.log.Error("load PR", "err", err)
			return false
		}
	}
	p.Current, p.SHA, p.Build = j.r.Key, j.r.SHA, 0
	if err := s.store.PutWithPR(j.r, p); err != nil {
		j.log.Error("store admitted request", "err", err)
		return false
	}
	return true
}

// refuse tells an untrusted commenter, once per PR, who may trigger runs, and ends the request.
func (j *job) refuse(ctx context.Context, note string) {
	s, ev := j.s, j.r.Event
	p, err := s.store.PR(j.prKey())
	if err != nil {
		j.log.Error("load PR", "err", err)
		return
	}
	if !slices.ContainsFunc(p.Refused, func(u string) bool { return trust.SameLogin(u, ev.Author) }) {
		if _, cerr := j.f.CreateComment(ctx, ev.Repo, ev.PR, trust.Refusal(ev.Repo, ev.Owner)); cerr != nil {
			j.log.Error("reply to untrusted commenter", "err", cerr)
		} else {
			p.Refused = append(p.Refused, ev.Author)
			if err := s.store.PutPR(p); err != nil {
				j.log.Error("store PR", "err", err)
			}
		}
	}
	s.finish(j.log, j.r, store.Refused, note)
}

// inFlight reports whether r has a build running or about to.
func inFlight(r store.Request) bool {
	switch r.State {
	case store.Received, store.Starting:
		return true
	case store.Started:
		return true // until its verdict is reported
	}
	return false
}

// running reports whether cur's build is still going. A build that already ended (its webhook
// still on the way, or lost) is reported now, so a newer request never cancels a finished run and
// throws its verdict away.
func (j *job) running(ctx context.Context, cur store.Request) bool {
	if cur.State != store.Started {
		return true // not yet in Drone: superseding it drops the request
	}
	b, err := j.s.drone.Build(j.s.owner, j.s.name, int(cur.Build))
	if err != nil || !ended(b.Status) {
		return true // unknown counts as running: cancelling a finished build is harmless
	}
	(&job{s: j.s, f: j.f, r: cur, log: j.log.With("settled", cur.Key)}).report(ctx)
	return false
}

// supersede cancels cur's build (if it has one) and marks it cancelled; its late verdict is then
// never posted over the newer run's.
func (j *job) supersede(ctx context.Context, cur store.Request, why string) {
	s := j.s
	if cur.Build == 0 && cur.State == store.Starting {
		// BuildCreate may have reached Drone with its answer lost: find that build to cancel it.
		if b, err := j.findBuild(cur.Key); err == nil && b != nil {
			cur.Build = b.Number
		}
	}
	if cur.Build != 0 {
		if err := s.drone.BuildCancel(s.owner, s.name, int(cur.Build)); err != nil {
			j.log.Warn("cancel superseded build", "build", cur.Build, "err", err)
		}
	}
	if cur.SHA != "" {
		st := forge.Status{State: forge.StateError, TargetURL: s.buildURL(cur.Build), Description: "cancelled: " + why, Context: forge.StatusContext}
		if cur.Build == 0 {
			st.TargetURL = ""
		}
		if err := j.f.SetStatus(ctx, cur.Event.Repo, cur.SHA, st); err != nil {
			j.log.Warn("status of superseded run", "err", err)
		}
	}
	s.finish(j.log.With("superseded", cur.Key), cur, store.Cancelled, why)
}
