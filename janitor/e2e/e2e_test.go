// Package e2e kills real cc-ci-plugin runs on the real local swarm the way Drone does (SIGKILL,
// no teardown) and checks that ONE pass of the real cc-ci-janitor binary leaves nothing of them,
// and that a new run of the same recipe and PR then passes. abra is the FAKE test double (abra
// cannot be installed here); the engine, swarm, flocks and signals are real.
package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"coopcloud.tech/cc-ci/internal/applock"
	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/internal/swarm"
	"coopcloud.tech/cc-ci/internal/testkit"
)

// env is what TestMain prepared once for every case.
var env testkit.E2E

func TestMain(m *testing.M) {
	os.Exit(setup(m))
}

func setup(m *testing.M) int {
	// Orphans of the killed runs (the guarded child, abra) are reparented to us, so awaitGone can
	// reap them instead of leaving zombies behind.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "set child subreaper:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	tmp, err := os.MkdirTemp("", "ccci-janitor-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if env, err = testkit.PrepareE2E(ctx, tmp, "plugin/cc-ci-plugin", "janitor/cc-ci-janitor"); err != nil {
		fmt.Fprintf(os.Stderr, "e2e setup: %v\n", err)
		return 1
	}
	return m.Run()
}

// host is one case's share of the machine: the lock dir, runs dir and canonical abra dir that the
// plugin runs and the janitor have in common, and a domain suffix no other case uses, so a
// janitor pass of one case never sees another case's (live) stacks.
type host struct{ testkit.Host }

func newHost(t *testing.T, suffix string) host {
	return host{testkit.NewHost(t.TempDir(), suffix)}
}

// environ is the plugin's settings as Drone would pass them for recipe src at ref, PR pr.
func (h host) environ(src, ref, pr string) []string { return env.PluginEnv(h.Host, src, ref, pr) }

// marker is in the environment of every process of this host's plugin runs.
func (h host) marker() string { return "CCCI_APP_LOCK_DIR=" + h.LockDir }

// killedRun is a plugin run started in its own process group, with its output scanned for the
// moment to kill it.
type killedRun struct {
	cmd *exec.Cmd

	mu  sync.Mutex
	out strings.Builder
}

// startRun starts the plugin and returns once a line containing every one of trigger's words has
// appeared in its output (stdout and stderr, as in the Drone log).
func startRun(t *testing.T, h host, src, ref, pr string, trigger ...string) *killedRun {
	t.Helper()
	r := &killedRun{cmd: exec.Command(env.Bins["cc-ci-plugin"])}
	r.cmd.Env = h.environ(src, ref, pr)
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	rd, pw, err := os.Pipe()
	require.NoError(t, err)
	r.cmd.Stdout, r.cmd.Stderr = pw, pw
	require.NoError(t, r.cmd.Start())
	require.NoError(t, pw.Close())
	t.Cleanup(func() {
		_ = unix.Kill(-r.cmd.Process.Pid, unix.SIGKILL)
		_ = r.cmd.Wait()
		if t.Failed() || os.Getenv("DEBUG_E2E") != "" {
			t.Logf("killed run's output:\n%s", r.output())
		}
	})
	seen := make(chan struct{})
	go func() {
		defer rd.Close()
		var once sync.Once
		sc := bufio.NewScanner(rd)
		for sc.Scan() {
			line := sc.Text()
			r.mu.Lock()
			r.out.WriteString(line + "\n")
			r.mu.Unlock()
			if containsAll(line, trigger) {
				once.Do(func() { close(seen) })
			}
		}
	}()
	select {
	case <-seen:
	case <-time.After(4 * time.Minute):
		require.FailNow(t, "the run never got to the kill point", "want a line with %q:\n%s", trigger, r.output())
	}
	return r
}

func (r *killedRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

func containsAll(line string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(line, w) {
			return false
		}
	}
	return true
}

// janitorPass runs ONE pass of the real janitor binary on h and returns its JSON log lines.
func janitorPass(t *testing.T, h host) []map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.Bins["cc-ci-janitor"], "--log-format", "json")
	cmd.Env = append(os.Environ(), "CCCI_APP_LOCK_DIR="+h.LockDir, "CCCI_ABRA_DIR="+h.AbraDir,
		"CCCI_DOMAIN_SUFFIX="+h.Suffix, "CCCI_DEADLINE="+testkit.E2EDeadline.String())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "janitor pass failed:\n%s\n%s", out, stderr.String())
	var lines []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		var e map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &e), "janitor log line %q", line)
		lines = append(lines, e)
	}
	return lines
}

// candidateLine returns the janitor's one line about domain.
func candidateLine(t *testing.T, lines []map[string]any, domain string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, e := range lines {
		if e["msg"] == "candidate" && e["domain"] == domain {
			found = append(found, e)
		}
	}
	require.Len(t, found, 1, "one janitor line for %s in %v", domain, lines)
	return found[0]
}

// residue lists what of stack is on the swarm (services, containers, volumes, secrets, configs,
// networks).
func residue(t *testing.T, stack string) swarm.TeardownReport {
	t.Helper()
	c, err := swarm.New(t.Context())
	require.NoError(t, err)
	defer c.Close()
	r, err := c.Residue(t.Context(), stack)
	require.NoError(t, err)
	return r
}

// requireNothingLeft checks that no object of stack is on the swarm.
func requireNothingLeft(t *testing.T, stack string) {
	t.Helper()
	r := residue(t, stack)
	require.True(t, r.Empty(), "left on the swarm: %+v", r)
}

// completeRun runs the plugin to its end and returns its exit code and output.
func completeRun(t *testing.T, h host, src, ref, pr string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.Bins["cc-ci-plugin"])
	cmd.Env = h.environ(src, ref, pr)
	out, err := cmd.CombinedOutput()
	if err != nil && cmd.ProcessState == nil {
		require.NoError(t, err, "plugin did not run")
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// applockPath is the lockfile of domain on h.
func (h host) applockPath(domain string) string { return applock.Path(h.LockDir, domain) }

// domainOf is the app domain of the sample recipe at ref for PR pr on h.
func (h host) domainOf(ref, pr string) string { return naming.Domain("sample", pr, ref, h.Suffix) }

// assertKilledBy checks how the wrapper died.
func assertKilledBy(t *testing.T, r *killedRun) {
	t.Helper()
	err := r.cmd.Wait()
	ws, ok := r.cmd.ProcessState.Sys().(syscall.WaitStatus)
	require.True(t, ok, "wait: %v", err)
	assert.Equal(t, syscall.SIGKILL, ws.Signal(), "the wrapper died of SIGKILL")
}
