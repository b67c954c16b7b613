// Package lifetime keeps a plugin run from outliving the Drone step that started it.
//
// The step process is a thin wrapper (Wrap) that re-executes the same binary as the guarded
// child, which does the real run. The kernel sends the child SIGTERM when the wrapper dies,
// even by SIGKILL (PR_SET_PDEATHSIG), and the child refuses to start when its wrapper is
// already gone (Enter). Inside the child, SIGTERM/SIGINT and the run deadline all end in one
// teardown funnel that runs at most once, then exit with ExitSignal or ExitDeadline.
package lifetime

import (
	"errors"
	"os"
)

// Exit codes owned by the lifetime guards (DESIGN.md section 3).
const (
	// ExitDeadline is the child's exit code when the run deadline fired.
	ExitDeadline = 142
	// ExitSignal is the child's exit code after SIGTERM or SIGINT (128 + SIGTERM).
	ExitSignal = 143
	// ExitOrphaned is the child's exit code when it refused to start because its wrapper was
	// already gone; it equals the plugin's "infrastructure could not run the ladder" code.
	ExitOrphaned = 3
)

// EnvChild is set by Wrap in the child's environment to the wrapper's pid. Its presence makes
// the process a guarded child; its value lets Enter detect a wrapper that died early.
const EnvChild = "CCCI_GUARDED_CHILD"

var (
	// ErrOrphaned is returned by Enter when the process that started the child is not the
	// wrapper named in EnvChild any more: the run must not start (exit ExitOrphaned).
	ErrOrphaned = errors.New("guarded child orphaned: wrapper is gone")
	// ErrSignalled is the cause of the run context's cancellation after SIGTERM or SIGINT.
	ErrSignalled = errors.New("run terminated by signal")
	// ErrDeadline is the cause of the run context's cancellation when the deadline fired.
	ErrDeadline = errors.New("run deadline exceeded")
	// ErrFinished is the cause of the run context's cancellation after Finish.
	ErrFinished = errors.New("run finished")
)

// IsChild reports whether this process was started by Wrap as the guarded child. Call it before
// Enter, which removes EnvChild from the environment.
func IsChild() bool {
	_, ok := os.LookupEnv(EnvChild)
	return ok
}
