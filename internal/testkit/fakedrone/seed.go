package fakedrone

import (
	"fmt"
	"time"

	"github.com/drone/drone-go/drone"
)

// History is one build for Seed: a build that was created through the API and ran (or is still
// pending or running) before the test looks at the server, as on a Drone server that has been in
// use for a while. Every field it does not name is what handleCreate, setup and teardown would
// have set, so the list, find and logs endpoints answer for it exactly as for a build they ran.
type History struct {
	// Status is the build's status: drone.StatusPending or StatusRunning (not finished), or a
	// final one: StatusPassing, StatusFailing, StatusKilled or StatusError (drone-go's
	// drone/const.go; operator/manager/teardown.go and handler/api/repos/builds/cancel.go set
	// them).
	Status string
	// Params are the build's params, as the create request's query keys became them.
	Params map[string]string
	// Commit is the commit built (Before and After); Branch its branch ("main" when empty).
	Commit, Branch string
	// Created, Started and Finished are the build's times; a zero Created is now, a zero
	// Started of a running or final build is Created, a zero Finished of a final one is Started.
	Created, Started, Finished time.Time
	// ExitCode is the step's exit code of a failed build (1 when 0); success is 0 and killed 130,
	// as teardown.go and cancel.go record them.
	ExitCode int
	// Error is the message of a build that errored (runner.go handleError puts it on the stage and
	// the step).
	Error string
	// Log is the step's output, served by the logs endpoint once the build is final (Drone serves
	// a step's log from the log store once the runner uploaded it, logs/find.go).
	Log string
}

// Seed appends builds to owner/name's history, oldest first, numbered after the builds the
// repository already has, and returns their numbers. Nothing runs and no webhook is sent: the
// builds happened before now. A repository that Config.Repos does not allow, or a status Drone
// does not use, is an error and seeds nothing.
func (s *Server) Seed(owner, name string, builds ...History) ([]int64, error) {
	for i, h := range builds {
		if !seedable(h.Status) {
			return nil, fmt.Errorf("seed %s/%s: build %d: status %q is not one Drone gives a build", owner, name, i, h.Status)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, ok := s.repoLocked(owner, name)
	if !ok {
		return nil, fmt.Errorf("seed %s/%s: not one of Config.Repos", owner, name)
	}
	numbers := make([]int64, 0, len(builds))
	for _, h := range builds {
		rec := s.seedLocked(rs, h)
		numbers = append(numbers, rec.build.Number)
	}
	s.notifyLocked()
	return numbers, nil
}

// seedable reports whether status is one a seeded build may have.
func seedable(status string) bool {
	switch status {
	case drone.StatusPending, drone.StatusRunning, drone.StatusPassing, drone.StatusFailing,
		drone.StatusKilled, drone.StatusError:
		return true
	}
	return false
}

// seedLocked builds one record the way handleCreate, setup and teardown would have left it.
func (s *Server) seedLocked(rs *repoState, h History) *record {
	branch := h.Branch
	if branch == "" {
		branch = rs.repo.Branch
	}
	created := h.Created
	if created.IsZero() {
		created = time.Now()
	}
	rs.repo.Counter++
	s.nextID++
	rec := &record{repo: rs, log: newLineLog()}
	rec.build = drone.Build{
		ID: s.nextID, RepoID: rs.repo.ID, Trigger: s.cfg.User, Number: rs.repo.Counter,
		Status: drone.StatusPending, Event: "custom", Link: rs.repo.Link + "/commit/" + h.Commit,
		Before: h.Commit, After: h.Commit, Ref: "refs/heads/" + branch, Source: branch, Target: branch,
		Sender: s.cfg.User, Params: maps(h.Params), Created: created.Unix(), Updated: created.Unix(), Version: 1,
	}
	s.nextID++
	rec.stage = drone.Stage{
		ID: s.nextID, BuildID: rec.build.ID, Number: 1, Name: s.cfg.StageName, Kind: "pipeline",
		Type: "exec", Status: drone.StatusPending, OS: "linux", Arch: "amd64", OnSuccess: true,
		Created: created.Unix(), Updated: created.Unix(), Version: 1,
	}
	rs.builds = append(rs.builds, rec)
	if h.Status == drone.StatusPending {
		return rec
	}
	// setup.go: the build and its stage run on this machine, the step is created running.
	started := h.Started
	if started.IsZero() {
		started = created
	}
	b, st := &rec.build, &rec.stage
	b.Status, b.Started, b.Updated = drone.StatusRunning, started.Unix(), started.Unix()
	st.Status, st.Started, st.Updated, st.Machine = drone.StatusRunning, started.Unix(), started.Unix(), machine
	s.nextID++
	rec.step = &drone.Step{ID: s.nextID, StageID: st.ID, Number: 1, Name: s.cfg.StepName,
		Status: drone.StatusRunning, Started: started.Unix(), Version: 1}
	if h.Status == drone.StatusRunning {
		return rec
	}
	finished := h.Finished
	if finished.IsZero() {
		finished = started
	}
	s.endLocked(rec, h.Status, h.ExitCode, h.Error, h.Log, finished)
	return rec
}

// endLocked is teardown.go (or cancel.go for killed) for a seeded build: the step, stage and
// build take the final status, and the log is uploaded.
func (s *Server) endLocked(rec *record, status string, exitCode int, errMsg, log string, at time.Time) {
	now := at.Unix()
	st := rec.step
	switch status {
	case drone.StatusPassing:
		exitCode = 0
	case drone.StatusFailing:
		if exitCode == 0 {
			exitCode = 1
		}
		rec.stage.ExitCode = exitCode
	case drone.StatusKilled:
		exitCode = 130 // cancel.go
	case drone.StatusError:
		st.Error, rec.stage.Error = errMsg, errMsg
	}
	st.Status, st.Stopped, st.ExitCode, st.Version = status, now, exitCode, st.Version+1
	rec.stage.Status, rec.stage.Stopped, rec.stage.Updated = status, now, now
	rec.stage.Version++
	b := &rec.build
	b.Status, b.Finished, b.Updated = status, now, now
	b.Version++
	_, _ = rec.log.Write([]byte(log)) // never fails
	rec.log.flush()
	rec.logsReady, rec.finished = true, true
}

// EndSeeded ends a seeded build that is still running, as the runner's teardown would: it takes
// a final status (see History.Status), its log is uploaded, and Drone's "updated" and
// "completed" webhooks go out (teardown.go). A build that is not running is an error.
func (s *Server) EndSeeded(owner, name string, number int64, status, log string, at time.Time) error {
	if !seedable(status) || status == drone.StatusPending || status == drone.StatusRunning {
		return fmt.Errorf("end build %s/%s#%d: %q is not a final status", owner, name, number, status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.lookupLocked(owner, name, number)
	if rec == nil || rec.build.Status != drone.StatusRunning || rec.step == nil || rec.cancel != nil {
		return fmt.Errorf("end build %s/%s#%d: not a seeded running build", owner, name, number)
	}
	s.endLocked(rec, status, 0, "", log, at)
	s.sendLocked(rec, "updated", fromTeardown)
	s.sendLocked(rec, "completed", fromTeardown)
	s.notifyLocked()
	return nil
}
