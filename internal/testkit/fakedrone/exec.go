package fakedrone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/drone/drone-go/drone"
)

// DefaultGrace is ExecConfig.Grace when zero: short, because tests wait it out.
const DefaultGrace = 2 * time.Second

// DefaultDrain is ExecConfig.Drain when zero.
const DefaultDrain = 2 * time.Minute

// hostVars are the only variables of the runner's own environment a step inherits
// (drone-runner-exec engine/compiler/vars.go).
var hostVars = []string{"PATH", "USER"}

// ExecConfig runs a binary as the step of each build, the way drone-runner-exec runs an exec
// pipeline step (cc-ci's .drone.yml: `type: exec`, clone disabled, one step running
// cc-ci-plugin).
//
// The step's environment is built as drone-runner-exec's compiler combines it, later entries
// winning: Env (the runner's DRONE_RUNNER_ENVIRON), the build's params (Drone exposes custom build
// params to steps as environment variables, docs.drone.io/api/builds/build_create), PATH and
// USER from this process (hostVars), Drone's own variables (StepEnviron: DRONE_REPO,
// DRONE_BUILD_NUMBER, DRONE_BUILD_EVENT=custom, DRONE_COMMIT, ...), HOME, DRONE_HOME,
// DRONE_WORKSPACE and GIT_TERMINAL_PROMPT=0 for a fresh workspace, and StepEnv (the step's
// `environment:`). Nothing else of this process's environment is passed on. Note that PATH in
// Env loses to this process's PATH, as in Drone: to put a directory (a fake abra) first on the
// step's PATH, set PATH in StepEnv.
//
// The workspace is a fresh directory tree under os.TempDir() (drone-<random>/home/drone is HOME,
// drone-<random>/drone/src the working directory), removed when the step ends.
//
// Differences from the real runner: the binary is started directly, not through the `/bin/sh
// -e` script the exec runner writes for `commands:`; and a cancel sends SIGTERM first. Drone's
// runners SIGKILL at once (drone-runner-exec engine/exec.go: cmd.Process.Kill(); the docker
// runner: ContainerKill(ctx, id, "9")); a negative Grace reproduces that.
type ExecConfig struct {
	// Bin is the program to run (a path, or a name looked up in this process's PATH).
	Bin string
	// Args are its arguments.
	Args []string
	// Env is the runner's environment for every step ("KEY=value"), the lowest precedence.
	Env []string
	// StepEnv is the step's own environment ("KEY=value"), the highest precedence.
	StepEnv []string
	// Grace is how long a cancelled step has between SIGTERM and SIGKILL (DefaultGrace when
	// zero); negative: SIGKILL at once, as Drone's runners do. Both go to the step process only,
	// not its process group, as drone-runner-exec's cmd.Process.Kill().
	Grace time.Duration
	// Drain is how long the step may leave processes holding its output after it exited (a
	// guarded child finishing its teardown); then the step's process group is SIGKILLed so no
	// test leaks processes (DefaultDrain when zero).
	Drain time.Duration
}

// ExecRunner runs bin as each build's step with extraEnv as the runner's environment (see
// ExecConfig).
func ExecRunner(bin string, extraEnv []string) Runner {
	return ExecConfig{Bin: bin, Env: extraEnv}.Runner()
}

// Runner returns the Runner that executes c.
func (c ExecConfig) Runner() Runner {
	return func(ctx context.Context, b drone.Build, log io.Writer) (int, error) {
		return c.run(ctx, b, log)
	}
}

// run executes the step: start, wait for the exit or the cancel, then drain its output.
func (c ExecConfig) run(ctx context.Context, b drone.Build, log io.Writer) (int, error) {
	root, err := os.MkdirTemp("", "drone-")
	if err != nil {
		return 0, fmt.Errorf("create workspace: %w", err)
	}
	defer func() { _ = os.RemoveAll(root) }() // engine.Destroy: os.RemoveAll(spec.Root)
	home, src := filepath.Join(root, "home", "drone"), filepath.Join(root, "drone", "src")
	for _, dir := range []string{home, src} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return 0, fmt.Errorf("create workspace: %w", err)
		}
	}
	cmd := exec.Command(c.Bin, c.Args...)
	cmd.Env = c.environ(ctx, b, home, src)
	cmd.Dir = src
	// Its own process group, only so the drain can reap what it leaves behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Our own pipe rather than an io.Writer: cmd.Wait returns when the step exits, while the
	// copy goes on until every process holding the pipe (a guarded child) has closed it.
	pr, pw, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("output pipe: %w", err)
	}
	defer func() { _ = pr.Close() }()
	cmd.Stdout, cmd.Stderr = pw, pw
	err = cmd.Start()
	_ = pw.Close() // the child holds its own copy
	if err != nil {
		return 0, fmt.Errorf("start step %s: %w", c.Bin, err)
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(log, pr) // ends at EOF, or when the drain closes pr
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var werr error
	select {
	case werr = <-exited:
	case <-ctx.Done():
		werr = c.stop(cmd.Process, exited)
	}
	c.drain(cmd.Process.Pid, pr, copied)
	if ctx.Err() != nil {
		return 0, context.Cause(ctx)
	}
	var exitErr *exec.ExitError
	switch {
	case werr == nil:
		return 0, nil
	case errors.As(werr, &exitErr):
		return exitErr.ExitCode(), nil // -1 when a signal ended it, as the exec runner reports
	default:
		return 0, fmt.Errorf("wait for step %s: %w", c.Bin, werr)
	}
}

// stop ends a cancelled step: SIGTERM, then SIGKILL once the grace is over (or SIGKILL at once
// for a negative grace), and returns its wait error.
func (c ExecConfig) stop(p *os.Process, exited <-chan error) error {
	if grace := c.grace(); grace > 0 {
		_ = p.Signal(syscall.SIGTERM) // an error means it already exited: Wait reports that
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case err := <-exited:
			return err
		case <-t.C:
		}
	}
	_ = p.Kill()
	return <-exited
}

func (c ExecConfig) grace() time.Duration {
	if c.Grace == 0 {
		return DefaultGrace
	}
	return c.Grace
}

// drain waits for the step's output to end. Processes the step left holding it (a guarded
// child tearing down after a cancel) get the whole Drain, cancelled or not: Drone's runners do
// not signal them at all. After Drain the step's process group is SIGKILLed and the pipe closed.
func (c ExecConfig) drain(pgid int, pr *os.File, copied <-chan struct{}) {
	limit := c.Drain
	if limit == 0 {
		limit = DefaultDrain
	}
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-copied:
		return
	case <-t.C:
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // ESRCH: nobody left in the group
	_ = pr.Close()                           // unblocks the copy if a holder left the group
	<-copied
}

// environ builds the step's environment in drone-runner-exec's order (see ExecConfig).
func (c ExecConfig) environ(ctx context.Context, b drone.Build, home, src string) []string {
	host := map[string]string{}
	for _, k := range hostVars {
		if v := os.Getenv(k); v != "" {
			host[k] = v
		}
	}
	env := combine(
		parseEnv(c.Env),
		b.Params,
		host,
		StepEnviron(ctx),
		map[string]string{"HOME": home, "DRONE_HOME": src, "DRONE_WORKSPACE": src,
			"GIT_TERMINAL_PROMPT": "0"},
		parseEnv(c.StepEnv),
	)
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out) // environ.Slice sorts too
	return out
}

// parseEnv turns "KEY=value" entries into a map; an entry without "=" is ignored.
func parseEnv(kvs []string) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				out[kv[:i]] = kv[i+1:]
				break
			}
		}
	}
	return out
}
