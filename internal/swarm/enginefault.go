package swarm

import (
	"errors"
	"strings"

	"github.com/docker/docker/api/types/swarm"
)

// EngineFaultWords begin the reason of a rung that a Docker engine bug kept from being proven:
// the ladder records such a rung as unverified (infrastructure), never as the recipe's failure.
const EngineFaultWords = "the Docker engine failed to start a container"

// engineFaults are task errors that only the engine causes, whatever the recipe says: each with
// the upstream report that names the bug. A task's error is the daemon's own text
// (swarm.TaskStatus.Err).
var engineFaults = []struct{ says, means string }{
	// runc's remount of the secrets tmpfs read-only fails with EBUSY under load; the same spec
	// starts on a retry. Seen here under a loaded 2-CPU box: "starting container failed: unable to
	// remount dir as readonly: mount tmpfs:/var/lib/docker/containers/<id>/mounts/secrets, flags:
	// 0x21, data: uid=0,gid=0: device or resource busy".
	{"unable to remount dir as readonly", "moby/moby#48783: runc could not remount the secrets tmpfs read-only (EBUSY)"},
}

// engineFault names the engine bug a task error shows, or "" when the error is not known to be
// the engine's alone.
func engineFault(taskErr string) string {
	for _, f := range engineFaults {
		if strings.Contains(taskErr, f.says) {
			return f.means
		}
	}
	return ""
}

// sharedEngineFault names the engine bug every one of tasks hit, or "": one task the engine did
// start and that failed is the recipe's.
func sharedEngineFault(tasks []swarm.Task) string {
	fault := ""
	for _, t := range tasks {
		if fault = engineFault(t.Status.Err); fault == "" {
			return ""
		}
	}
	return fault
}

// EngineFaultOf returns the engine bug err shows (a failed update or a crash loop whose tasks the
// engine never started), or "" when err is nil or the recipe's or anything else's failure.
func EngineFaultOf(err error) string {
	var rollback *RollbackError
	var crash *CrashLoopError
	switch {
	case errors.As(err, &rollback):
		return rollback.EngineFault
	case errors.As(err, &crash):
		return crash.EngineFault
	}
	return ""
}
