package swarm

import (
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// serviceState is what one evaluation saw of one service.
type serviceState struct {
	name    string // full service name
	job     bool
	desired uint64
	ready   uint64 // current-spec tasks running (and healthy) for the stability window, or complete for jobs
	// settleAt is when the youngest running-and-healthy task that is not yet counted (it is still
	// inside the stability window) will count; zero when there is none.
	settleAt time.Time
	// stale counts tasks of an older spec that swarm still means to run: until they are replaced,
	// the deployment has not taken, whatever the update status says (it is reset, to nil, when a
	// spec is updated, before swarm's updater starts).
	stale  int
	update *swarm.UpdateStatus
	latest *swarm.Task // newest task, preferring the current spec, for the state line
	health string      // container health of the newest running task when not healthy
}

// failingUpdate lists the update states that mean the deployment did not take. rollback_started
// must be among them: the rollback it begins takes about 70 s here, and waiting for
// rollback_completed would only delay the verdict (or, with a short step timeout, turn a failed
// update into a timeout). rollback_completed is among them too: the service then runs the previous
// spec, so it can never converge on what was deployed.
var failingUpdate = map[swarm.UpdateState]bool{
	swarm.UpdateStatePaused:            true,
	swarm.UpdateStateRollbackStarted:   true,
	swarm.UpdateStateRollbackPaused:    true,
	swarm.UpdateStateRollbackCompleted: true,
}

// updateFailed reports whether a service's update status says its deployment failed.
func updateFailed(u *swarm.UpdateStatus) bool {
	return u != nil && failingUpdate[u.State]
}

func (s serviceState) converged() bool {
	if s.update != nil && s.update.State != swarm.UpdateStateCompleted {
		return false
	}
	if s.stale > 0 {
		return false
	}
	if s.job {
		return s.ready >= s.desired
	}
	return s.ready == s.desired
}

// line is the one-line human summary used in timeouts and progress logs.
func (s serviceState) line(stack string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d/%d", shortName(stack, s.name), s.ready, s.desired)
	if s.latest == nil {
		b.WriteString(": no tasks yet")
	} else {
		st := s.latest.Status
		fmt.Fprintf(&b, ": task state '%s'", st.State)
		if st.Err != "" {
			fmt.Fprintf(&b, " error %q", st.Err)
		} else if st.Message != "" && st.Message != string(st.State) {
			fmt.Fprintf(&b, " (%s)", st.Message)
		}
	}
	if s.health != "" {
		fmt.Fprintf(&b, ", health '%s'", s.health)
	}
	if !s.settleAt.IsZero() {
		b.WriteString(", settling")
	}
	if s.stale > 0 {
		fmt.Fprintf(&b, ", %d task(s) of an older spec not yet replaced", s.stale)
	}
	if s.update != nil && s.update.State != swarm.UpdateStateCompleted {
		fmt.Fprintf(&b, ", update '%s'", s.update.State)
	}
	return b.String()
}

// assess evaluates one service from its tasks in snap at time now. A running task counts only
// once it has been running for stableFor: a task that crashes a moment after starting is briefly
// "running", and converging on that moment would be a false green. Pure, so it is tested with
// plain values.
func assess(svc swarm.Service, snap snapshot, now time.Time, stableFor time.Duration) serviceState {
	s := serviceState{name: svc.Spec.Name, job: isJob(svc), update: svc.UpdateStatus, desired: desiredTasks(svc)}
	tasks := snap.tasks[svc.ID]
	var newestCurrent, newestAny *swarm.Task
	for i := range tasks {
		t := &tasks[i]
		if newestAny == nil || t.Status.Timestamp.After(newestAny.Status.Timestamp) {
			newestAny = t
		}
		if !currentSpec(svc, *t, snap.nodes) {
			if t.DesiredState == swarm.TaskStateRunning && active(t.Status.State) {
				s.stale++
			}
			continue
		}
		if newestCurrent == nil || t.Status.Timestamp.After(newestCurrent.Status.Timestamp) {
			newestCurrent = t
		}
		if s.job {
			if t.Status.State == swarm.TaskStateComplete {
				s.ready++
			}
			continue
		}
		if t.DesiredState != swarm.TaskStateRunning || t.Status.State != swarm.TaskStateRunning {
			continue
		}
		if h := snap.health[containerID(*t)]; h != "" && h != "healthy" {
			s.health = h
			continue
		}
		if at := t.Status.Timestamp.Add(stableFor); at.After(now) {
			if at.After(s.settleAt) {
				s.settleAt = at
			}
			continue
		}
		s.ready++
	}
	s.latest = newestCurrent
	if s.latest == nil {
		s.latest = newestAny
	}
	return s
}

// failedSince reports whether t is a failure of svc's current spec at or after since: failed,
// rejected (e.g. image missing), or — for a long-running service — exited at all, because a
// replicated service that completes is a crash too.
func failedSince(svc swarm.Service, t swarm.Task, since time.Time, nodes map[string]swarm.Node) bool {
	if t.Status.Timestamp.Before(since) || !currentSpec(svc, t, nodes) {
		return false
	}
	switch t.Status.State {
	case swarm.TaskStateFailed, swarm.TaskStateRejected:
		return true
	case swarm.TaskStateComplete:
		return !isJob(svc)
	}
	return false
}

// active reports whether a task in state st has not ended yet (new up to running).
func active(st swarm.TaskState) bool {
	switch st {
	case swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateFailed, swarm.TaskStateRejected,
		swarm.TaskStateRemove, swarm.TaskStateOrphaned:
		return false
	}
	return true
}

func isJob(svc swarm.Service) bool {
	return svc.Spec.Mode.ReplicatedJob != nil || svc.Spec.Mode.GlobalJob != nil
}

// desiredTasks prefers the daemon's own count (it knows the eligible nodes of a global service),
// falling back to the replica count. For a replicated job it is the completions wanted (Docker's
// defaults: TotalCompletions = MaxConcurrent = 1); job services are rare in recipes.
func desiredTasks(svc swarm.Service) uint64 {
	if j := svc.Spec.Mode.ReplicatedJob; j != nil {
		switch {
		case j.TotalCompletions != nil:
			return *j.TotalCompletions
		case j.MaxConcurrent != nil:
			return *j.MaxConcurrent
		}
		return 1
	}
	if svc.ServiceStatus != nil {
		return svc.ServiceStatus.DesiredTasks
	}
	if r := svc.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
		return *r.Replicas
	}
	return 0
}

func containerID(t swarm.Task) string {
	if t.Status.ContainerStatus == nil {
		return ""
	}
	return t.Status.ContainerStatus.ContainerID
}
