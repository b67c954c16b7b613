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
	// A request already Starting (or retrying) may have reached Drone before the bridge died or
	// the answer was lost: it looks for its build before creating one.
	resumed := j.r.State == store.Starting || j.r.Attempts > 0 || j.r.Queued
	if j.r.State == store.Received && !j.admit(ctx) {
		return
	}
	b, err := j.findOrCreate(ctx, resumed)
	if err != nil {
		if ctx.Err() == nil && !j.r.Queued {
			// Tell the PR once that the request is safe and waiting, not lost.
			qerr := errors.Join(j.sticky(ctx, report.Queued(j.run(0))),
				j.status(ctx, forge.Status{State: forge.StatePending, Description: "queued: waiting for the CI server (Drone)"}))
			j.r.Queued = qerr == nil
		}
		j.r = s.retry(j.log, j.r, err)
		return
	}
	j.r.State, j.r.Build, j.r.Error, j.r.Attempts = store.Started, b.Number, "", 0
	p, err := s.store.PR(j.prKey())
	if err != nil {
		j.log.Error("load PR", "err", err)
		return
	}
	if p.Current == j.r.Key {
		p.Build = b.Number
	}
	if err := s.store.PutWithPR(j.r, p); err != nil {
		j.log.Error("store started build", "build", b.Number, "err", err)
		return
	}
	s.m.BuildStarted(ev.Forge)
	s.m.Request("started")
	j.log.Info("build started", "build", b.Number, "sha", j.r.SHA)
	j.ack(ctx)
}

// findOrCreate starts the build, or finds the one a previous attempt started: a request that was
// already Starting when loaded may have reached Drone before the bridge died or timed out.
func (j *job) findOrCreate(ctx context.Context, resumed bool) (*drone.Build, error) {
	s := j.s
	if resumed {
		b, err := j.findBuild(j.r.Key)
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

// findBuild looks for a build carrying request key among Drone's recent builds.
func (j *job) findBuild(key string) (*drone.Build, error) {
	s := j.s
	for page := 1; page <= 3; page++ {
		bs, err := s.drone.BuildList(s.owner, s.name, drone.ListOptions{Page: page, Size: 100})
		if err != nil {
			return nil, fmt.Errorf("drone build list on %s: %w", s.cfg.DroneRepo, err)
		}
		for _, b := range bs {
			if b.Params[ParamRequest] == key {
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
// comment (the eyes reaction came when the request was admitted). It reports whether both were
// posted; if not, the request is retried until they are.
func (j *job) ack(ctx context.Context) bool {
	s := j.s
	run := j.run(j.r.Build)
	err := j.status(ctx, forge.Status{State: forge.StatePending, TargetURL: run.BuildURL,
		Description: fmt.Sprintf("testing %s (%s run): build #%d", short(j.r.SHA), j.mode(), j.r.Build)})
	if err == nil {
		s.m.TriggerLatency(s.now().Sub(j.r.Event.Received))
	}
	err = errors.Join(err, j.sticky(ctx, report.Started(run)))
	if err != nil {
		j.r = s.retry(j.log, j.r, fmt.Errorf("tell the PR build %d started: %w", j.r.Build, err))
		return false
	}
	j.r.Acked = true
	if err := s.store.Put(j.r); err != nil {
		j.log.Error("store request", "err", err)
	}
	return true
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

// status posts a commit status on the pinned head.
func (j *job) status(ctx context.Context, st forge.Status) error {
	if j.r.SHA == "" {
		return nil
	}
	st.Context = forge.StatusContext
	if err := j.f.SetStatus(ctx, j.r.Event.Repo, j.r.SHA, st); err != nil {
		j.log.Warn("commit status", "state", st.State, "err", err)
		return err
	}
	return nil
}

func short(sha string) string {
	if len(sha) > 10 {
		return sha[:10]
	}
	return sha
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
