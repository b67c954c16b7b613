package trigger

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/drone/drone-go/plugin/webhook"

	"coopcloud.tech/cc-ci/bridge/forge"
	"coopcloud.tech/cc-ci/bridge/report"
	"coopcloud.tech/cc-ci/bridge/store"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/rundir"
)

// BuildEvent takes Drone's build webhook (intake.BuildSink): a build of ours that ended wakes its
// PR's worker, which reports it.
func (s *Service) BuildEvent(_ context.Context, req *webhook.Request) error {
	if req.Build == nil || !ended(req.Build.Status) {
		return nil
	}
	if req.Repo != nil && req.Repo.Slug != "" && req.Repo.Slug != s.cfg.DroneRepo {
		return nil
	}
	return s.markFinished(req.Build.Number, req.Build.Params[ParamRequest])
}

// markFinished wakes the worker of the request whose build number ended; the worker asks Drone
// and reports.
func (s *Service) markFinished(number int64, key string) error {
	var (
		r   store.Request
		err error
	)
	if key != "" {
		r, err = s.store.Get(key)
	} else {
		r, err = s.store.ByBuild(number)
	}
	if errors.Is(err, store.ErrNotFound) {
		s.log.Info("build webhook for a build the bridge did not start", "build", number)
		return nil
	}
	if err != nil {
		return err
	}
	if r.Build != number || r.State != store.Started {
		return nil
	}
	s.wake(r, true)
	return nil
}

// ended reports whether a Drone build status is final.
func ended(status string) bool {
	switch status {
	case "success", "failure", "killed", "error", "skipped", "declined":
		return true
	}
	return false
}

// reconcile asks Drone about a started build not heard of for a while.
func (s *Service) reconcile(ctx context.Context, r store.Request, now time.Time) {
	s.mu.Lock()
	last, ok := s.checked[r.Key]
	if !ok {
		last = r.Updated
	}
	due := now.Sub(last) >= s.cfg.Reconcile
	if due {
		s.checked[r.Key] = now
	}
	s.mu.Unlock()
	if !due || ctx.Err() != nil {
		return
	}
	b, err := s.drone.Build(s.owner, s.name, int(r.Build))
	if err != nil {
		s.log.Warn("reconcile: ask Drone about build", "request", r.Key, "delivery", r.Event.DeliveryID, "build", r.Build, "err", err)
		return
	}
	if !ended(b.Status) {
		return
	}
	s.m.Reconcile("finished_without_webhook")
	s.log.Info("reconcile: build ended without a webhook", "request", r.Key, "delivery", r.Event.DeliveryID, "build", r.Build, "status", b.Status)
	if err := s.markFinished(r.Build, r.Key); err != nil {
		s.log.Error("reconcile: mark finished", "request", r.Key, "build", r.Build, "err", err)
	}
}

// report posts the verdict of a finished build: the commit status and the sticky summary. A stale
// result (an older head, or an older build of the same head) never overwrites a newer one.
func (j *job) report(ctx context.Context) {
	s := j.s
	b, err := s.drone.Build(s.owner, s.name, int(j.r.Build))
	if err != nil {
		// The sweep's reconcile asks again; nothing is lost.
		j.log.Warn("ask Drone about the finished build", "build", j.r.Build, "err", err)
		return
	}
	if !ended(b.Status) {
		return
	}
	run := j.run(j.r.Build)
	res, why := j.results(b.Status)
	if res != nil && (b.Status == "success") != (res.Verdict == results.VerdictPass) {
		// The plugin exits 0 exactly on a pass: a document that disagrees with how the build
		// ended is not this build's verdict (a forged log line, a killed build).
		res, why = nil, fmt.Sprintf("the build ended %q but its results say %q", b.Status, res.Verdict)
	}
	var (
		body string
		st   forge.Status
	)
	if res != nil {
		base, berr := report.Baseline(s.cfg.RunsDir, run.Recipe)
		if berr != nil {
			j.log.Warn("baseline", "err", berr)
		}
		links := report.Links{Dashboard: s.cfg.DashboardURL}
		if s.cfg.RunsURL != "" {
			links.Results = strings.TrimRight(s.cfg.RunsURL, "/") + "/" + runID(j.r.Build) + "/" + rundir.ResultsName
		}
		body, st = report.Verdict(run, res, base, links)
	} else {
		body, st = report.BuildError(run, b.Status, why)
	}
	p, err := s.store.PR(j.prKey())
	if err != nil {
		j.log.Error("load PR", "err", err)
		return
	}
	switch {
	case p.Current == j.r.Key:
		err = errors.Join(j.status(ctx, st), j.sticky(ctx, body))
	case p.SHA != j.r.SHA:
		// An older head's verdict is still that commit's truth; only the sticky is the newer run's.
		err = j.status(ctx, st)
	}
	if err != nil {
		j.r = s.retry(j.log, j.r, fmt.Errorf("post the verdict of build %d: %w", j.r.Build, err))
		return
	}
	j.log.Info("verdict posted", "build", j.r.Build, "state", st.State, "stale", p.Current != j.r.Key)
	s.finish(j.log, j.r, store.Reported, string(st.State))
}

// results reads the run's results.json from the runs dir, else from the build's step log; the
// second value says why there are none.
func (j *job) results(status string) (*results.Results, string) {
	s := j.s
	path := rundir.ResultsFile(s.cfg.RunsDir, runID(j.r.Build))
	res, err := results.ReadFile(path)
	if err == nil {
		err = res.Validate()
	}
	if err == nil {
		return j.ours(res)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		j.log.Warn("read results.json", "path", path, "err", err)
	}
	lines, lerr := s.drone.Logs(s.owner, s.name, int(j.r.Build), 1, 1)
	if lerr == nil {
		out := make([]string, 0, len(lines))
		for _, l := range lines {
			out = append(out, l.Message)
		}
		if res, err := results.FromLog(out); err == nil {
			return j.ours(res)
		}
	}
	return nil, fmt.Sprintf("the build ended %q without results.json", status)
}

// ours refuses results that are not this request's run (a wrong runs dir or a forged log line).
func (j *job) ours(res *results.Results) (*results.Results, string) {
	recipe, _ := j.s.cfg.Recipe(j.r.Event.Forge, j.r.Event.Repo)
	if res.RunID != runID(j.r.Build) || res.Ref != j.r.SHA || res.PR != strconv.Itoa(j.r.Event.PR) ||
		res.Recipe != recipe || (res.Repo != "" && res.Repo != j.r.Event.Repo) {
		return nil, fmt.Sprintf("results.json of build %d is run %s of %s at %s PR %s, not this request",
			j.r.Build, res.RunID, res.Recipe, short(res.Ref), res.PR)
	}
	return res, ""
}

// runID is the plugin's run id for a Drone build (DESIGN 3).
func runID(build int64) string { return rundir.DroneRunID(uint64(build)) }
