package fakedrone

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/drone/drone-go/drone"
)

// machine is the runner's name, shown as the stage's machine (DRONE_STAGE_MACHINE).
var machine = func() string {
	if h, err := os.Hostname(); err == nil {
		return h
	}
	return "fakedrone"
}()

// startLocked schedules the build's stage: its runner starts in a goroutine at once.
func (s *Server) startLocked(rec *record) {
	if s.closing {
		return
	}
	ctx, cancel := context.WithCancel(s.baseCtx)
	rec.cancel = cancel
	runner := s.runner
	if runner == nil {
		runner = func(context.Context, drone.Build, io.Writer) (int, error) { return 0, nil }
	}
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		defer cancel()
		s.run(ctx, rec, runner)
	}()
}

// run is the runner's life of one stage: setup (pending -> running), the step, teardown.
func (s *Server) run(ctx context.Context, rec *record, runner Runner) {
	b, env, ok := s.setup(rec)
	if !ok {
		return
	}
	code, err := runner(context.WithValue(ctx, stepEnvKey{}, env), b, rec.log)
	rec.log.flush()
	s.teardown(ctx, rec, code, err)
}

// setup is manager/setup.go: a pending build becomes running (Started set) with its stage
// running on this machine and its step created and running. Setup sends NO webhook: only the
// triggerer ("created"), teardown and cancel ("updated") do. A build cancelled before its
// runner started is not run (runner.go: "cannot run a canceled build").
func (s *Server) setup(rec *record) (drone.Build, map[string]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec.build.Status != drone.StatusPending {
		rec.finished = true
		s.notifyLocked()
		return drone.Build{}, nil, false
	}
	now := time.Now().Unix()
	rec.build.Status, rec.build.Started, rec.build.Updated = drone.StatusRunning, now, now
	rec.build.Version++
	rec.stage.Status, rec.stage.Started, rec.stage.Updated = drone.StatusRunning, now, now
	rec.stage.Machine = machine
	rec.stage.Version++
	s.nextID++
	rec.step = &drone.Step{ID: s.nextID, StageID: rec.stage.ID, Number: 1, Name: s.cfg.StepName,
		Status: drone.StatusRunning, Started: now, Version: 1}
	rec.log.start()
	s.notifyLocked()
	b := rec.snapshot(true)
	return b, s.stepEnviron(rec.repo.repo, b), true
}

// teardown records the step's end and, unless the build was cancelled meanwhile, the build's
// status (operator/manager/teardown.go), then sends "updated" and "completed".
//
// The status words follow Drone: exit code 0 (and 78, Drone's "skip the rest" code) -> success,
// any other exit code -> failure (operator/runner/runner.go AfterEach); a step that could not
// run at all -> error with the message on the stage (runner.go handleError); a cancelled build
// stays killed, because cancel already updated it and the runner's own update loses the
// optimistic lock (teardown.go: "build updated by another goroutine").
func (s *Server) teardown(ctx context.Context, rec *record, code int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notifyLocked()
	rec.logsReady, rec.finished = true, true
	if rec.build.Status != drone.StatusRunning {
		return // cancelled: handleCancel already recorded it
	}
	now := time.Now().Unix()
	st := rec.step
	st.Stopped, st.ExitCode, st.Version = now, code, st.Version+1
	rec.stage.Stopped, rec.stage.Updated, rec.stage.Version = now, now, rec.stage.Version+1
	status := drone.StatusPassing
	switch {
	case ctx.Err() != nil:
		status = drone.StatusKilled // only Close cancels without handleCancel
		st.Status = drone.StatusKilled
	case err != nil:
		status = drone.StatusError
		st.Status, st.Error = drone.StatusError, err.Error()
		rec.stage.Error = err.Error()
	case code != 0 && code != 78:
		status = drone.StatusFailing
		st.Status = drone.StatusFailing
		rec.stage.ExitCode = code
	default:
		st.Status = drone.StatusPassing
	}
	rec.stage.Status = status
	b := &rec.build
	b.Status, b.Finished, b.Updated = status, now, now
	b.Version++
	s.sendLocked(rec, "updated", fromTeardown)
	s.sendLocked(rec, "completed", fromTeardown)
}

// notifyLocked wakes every waiter (WaitCreated, WaitFinished): the current channel is closed
// and a fresh one takes its place.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}
