package trigger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/drone/drone-go/drone"

	"coopcloud.tech/cc-ci/bridge/command"
	"coopcloud.tech/cc-ci/bridge/event"
	"coopcloud.tech/cc-ci/bridge/forge"
	"coopcloud.tech/cc-ci/bridge/report"
	"coopcloud.tech/cc-ci/bridge/store"
	"coopcloud.tech/cc-ci/bridge/trust"
)

// ParamRequest is the Drone build param carrying the request key: after a crash between
// BuildCreate and recording its answer, the build is found by it instead of being started twice.
const ParamRequest = "CCCI_REQUEST"

// job is one request being worked on.
type job struct {
	s   *Service
	f   forge.Forge
	r   store.Request
	log *slog.Logger
}

func (j *job) prKey() string { return event.PRKey(j.r.Event.Forge, j.r.Event.Repo, j.r.Event.PR) }

// start takes a `!testme` from received to a started build: trust, pin the head, settle what is
// already running on the PR, then create the build exactly once.
func (j *job) start(ctx context.Context) {
	s, ev := j.s, j.r.Event
	if _, ok := s.cfg.Recipe(ev.Forge, ev.Repo); !ok {
		s.finish(j.log, j.r, store.Dropped, "repo is not enrolled")
		return
	}
	if j.r.State == store.Received && !j.admit(ctx) {
		return
	}
	b, err := j.findOrCreate(ctx)
	if err != nil {
		if !j.r.Queued {
			// Tell the PR once that the request is safe and waiting, not lost.
			j.r.Queued = true
			j.sticky(ctx, report.Queued(j.run(0)))
			j.status(ctx, forge.Status{State: forge.StatePending, Description: "queued: waiting for the CI server (Drone)"})
		}
		j.r = s.retry(j.log, j.r, err)
		return
	}
	j.r.State, j.r.Build, j.r.Error, j.r.Attempts = store.Started, b.Number, "", 0
	if err := s.store.Put(j.r); err != nil {
		j.log.Error("store started build", "build", b.Number, "err", err)
		return
	}
	p, err := s.store.PR(j.prKey())
	if err == nil && p.Current == j.r.Key {
		p.Build = b.Number
		err = s.store.PutPR(p)
	}
	if err != nil {
		j.log.Error("store PR", "err", err)
	}
	s.m.BuildStarted(ev.Forge)
	s.m.Request("started")
	j.log.Info("build started", "build", b.Number, "sha", j.r.SHA)
	j.ack(ctx)
}

// admit decides a received request: trusted, PR open, head pinned, nothing equivalent running.
// It returns true when the request moved to Starting and a build should be created.
func (j *job) admit(ctx context.Context) bool {
	s, ev := j.s, j.r.Event
	res, err := trust.Decide(ctx, j.f, trust.Input{Repo: ev.Repo, Owner: ev.Owner, User: ev.Author, AllowList: s.cfg.AllowList})
	if err != nil || !res.Trusted {
		// Fail closed: an API error is "not trusted", said politely once.
		if _, cerr := j.f.CreateComment(ctx, ev.Repo, ev.PR, trust.Refusal(ev.Repo, ev.Owner)); cerr != nil {
			j.log.Error("reply to untrusted commenter", "err", cerr)
		}
		note := "untrusted: " + res.Reason
		if err != nil {
			note = fmt.Sprintf("trust check failed (treated as untrusted): %v", err)
		}
		s.finish(j.log, j.r, store.Refused, note)
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
	if err := j.f.React(ctx, ev.Repo, ev.CommentID, "eyes"); err != nil {
		j.log.Warn("eyes reaction", "err", err)
	}
	p, err := s.store.PR(j.prKey())
	if err != nil {
		j.log.Error("load PR", "err", err)
		return false
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
	if err := s.store.Put(j.r); err != nil {
		j.log.Error("store request", "err", err)
		return false
	}
	p.Current, p.SHA, p.Build = j.r.Key, j.r.SHA, 0
	if err := s.store.PutPR(p); err != nil {
		j.log.Error("store PR", "err", err)
		return false
	}
	return true
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

// findOrCreate starts the build, or finds the one a previous attempt started: a request that was
// already Starting when loaded may have reached Drone before the bridge died or timed out.
func (j *job) findOrCreate(ctx context.Context) (*drone.Build, error) {
	s := j.s
	if j.r.Attempts > 0 || j.r.Queued || j.r.State == store.Starting {
		b, err := j.findBuild()
		if err != nil {
			return nil, err
		}
		if b != nil {
			s.m.Reconcile("build_adopted")
			return b, nil
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	b, err := s.drone.BuildCreate(s.owner, s.name, "", s.cfg.DroneBranch, j.params())
	if err != nil {
		return nil, fmt.Errorf("drone build create on %s: %w", s.cfg.DroneRepo, err)
	}
	if b == nil || b.Number == 0 {
		return nil, errors.New("drone build create: answer without a build number")
	}
	return b, nil
}

// findBuild looks for a build carrying this request's key among Drone's recent builds.
func (j *job) findBuild() (*drone.Build, error) {
	s := j.s
	for page := 1; page <= 3; page++ {
		bs, err := s.drone.BuildList(s.owner, s.name, drone.ListOptions{Page: page, Size: 100})
		if err != nil {
			return nil, fmt.Errorf("drone build list on %s: %w", s.cfg.DroneRepo, err)
		}
		for _, b := range bs {
			if b.Params[ParamRequest] == j.r.Key {
				return b, nil
			}
		}
		if len(bs) < 100 {
			break
		}
	}
	return nil, nil
}

// params are the build params of DESIGN 3.
func (j *job) params() map[string]string {
	ev := j.r.Event
	recipe, _ := j.s.cfg.Recipe(ev.Forge, ev.Repo)
	return map[string]string{
		"CCCI_RECIPE": recipe,
		"CCCI_REPO":   ev.Repo,
		"CCCI_SRC":    ev.CloneURL,
		"CCCI_REF":    j.r.SHA,
		"CCCI_PR":     strconv.Itoa(ev.PR),
		"CCCI_MODE":   j.mode(),
		"CCCI_FORGE":  ev.Forge,
		ParamRequest:  j.r.Key,
	}
}

func (j *job) mode() string {
	if c, ok := command.Parse(j.r.Event.Body); ok && c.Quick {
		return "quick"
	}
	return "cold"
}

// ack tells the PR the build started: pending status with the build's link and the sticky
// comment. The eyes reaction came earlier, when the request was admitted.
func (j *job) ack(ctx context.Context) {
	s := j.s
	run := j.run(j.r.Build)
	j.status(ctx, forge.Status{State: forge.StatePending, TargetURL: run.BuildURL,
		Description: fmt.Sprintf("testing %s (%s run): build #%d", short(j.r.SHA), j.mode(), j.r.Build)})
	s.m.TriggerLatency(s.now().Sub(j.r.Event.Received))
	j.sticky(ctx, report.Started(run))
	j.r.Acked = true
	if err := s.store.Put(j.r); err != nil {
		j.log.Error("store request", "err", err)
	}
}

// run is the report's view of this request.
func (j *job) run(build int64) report.Run {
	ev := j.r.Event
	recipe, _ := j.s.cfg.Recipe(ev.Forge, ev.Repo)
	r := report.Run{Forge: ev.Forge, Repo: ev.Repo, PR: ev.PR, SHA: j.r.SHA, Mode: j.mode(), Recipe: recipe,
		Requester: ev.Author, Build: int(build), Src: ev.CloneURL}
	if build != 0 {
		r.BuildURL = j.s.buildURL(build)
	}
	return r
}

// status posts a commit status on the pinned head; failures are logged (the sticky comment and
// the next status carry the news).
func (j *job) status(ctx context.Context, st forge.Status) {
	if j.r.SHA == "" {
		return
	}
	st.Context = forge.StatusContext
	if err := j.f.SetStatus(ctx, j.r.Event.Repo, j.r.SHA, st); err != nil {
		j.log.Warn("commit status", "state", st.State, "err", err)
	}
}

func short(sha string) string {
	if len(sha) > 10 {
		return sha[:10]
	}
	return sha
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
