package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// execSpec is one external command (docker or git) the fake runs.
type execSpec struct {
	name   string
	args   []string
	dir    string
	env    []string // full environment; nil inherits the fake's
	stdin  io.Reader
	stdout io.Writer // nil: captured and returned
}

// execRun runs spec, streaming stderr to the fake's stderr, and returns stdout when it was not
// streamed. A failure carries the command and the tail of its stderr.
func (f *fake) execRun(ctx context.Context, spec execSpec) (string, error) {
	cmd := exec.CommandContext(ctx, spec.name, spec.args...)
	cmd.Dir, cmd.Env, cmd.Stdin = spec.dir, spec.env, spec.stdin
	var out, errBuf bytes.Buffer
	cmd.Stdout = &out
	if spec.stdout != nil {
		cmd.Stdout = spec.stdout
	}
	cmd.Stderr = io.MultiWriter(f.stderr, &errBuf)
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errBuf.String())
		if len(msg) > 2000 {
			msg = "..." + msg[len(msg)-2000:]
		}
		return "", fmt.Errorf("%s %s: %w: %s", spec.name, strings.Join(spec.args, " "), err, msg)
	}
	return out.String(), nil
}

// dockerCmd runs `docker args...` with captured stdout.
func (f *fake) dockerCmd(ctx context.Context, args ...string) (string, error) {
	return f.execRun(ctx, execSpec{name: "docker", args: args})
}

// git runs git in dir and returns trimmed stdout.
func (f *fake) git(ctx context.Context, dir string, args ...string) (string, error) {
	out, err := f.execRun(ctx, execSpec{name: "git", args: args, dir: dir,
		env: append(append([]string{}, f.environ...), "GIT_TERMINAL_PROMPT=0")})
	return strings.TrimSpace(out), err
}
