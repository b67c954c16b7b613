package reap_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"coopcloud.tech/cc-ci/internal/applock"
	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/internal/swarm"
	"coopcloud.tech/cc-ci/janitor/reap"
)

// Environment of the janitor-pass helper (besides envHelper and applock.EnvDir).
const (
	envAbraDir  = "CCCI_JANITOR_TEST_ABRA_DIR"  // the canonical abra dir of the test's world
	envSwarmDir = "CCCI_JANITOR_TEST_SWARM_DIR" // the fileSwarm's dir
)

// Files in a fileSwarm's dir, which is NOT the lock dir: the janitors must not see them.
const (
	swarmStacks    = "stacks"        // the stacks present on the fake swarm, one a line
	swarmStateLock = "stacks.lock"   // flocked around every read and write of swarmStacks
	swarmTeardowns = "teardowns.log" // every Teardown call appends "<stack>\n" (O_APPEND)
	swarmContended = "contended"     // domains whose teardown waits for the other janitor's probe
	janitorLogGlob = "janitor-*.log" // each helper's JSON pass log, janitor-<pid>.log

	// contendWait bounds how long a contended teardown waits for the other janitor to probe the
	// domain. It is no correctness condition: when it runs out the teardown just goes on (and
	// fewer domains were raced for); a healthy pass never waits that long.
	contendWait = 500 * time.Millisecond
)

// fileSwarm is a FAKE swarm like fakeswarm.Swarm, but shared by janitor PROCESSES through files:
// the present stacks live in a file guarded by its own flock (not an app lock), and every
// Teardown is appended to a shared log, so the test counts teardowns across processes.
//
// To make the two janitors really race, the teardown of a contended domain (held under the
// app lock by the janitor reaping it) waits until the other janitor's log shows it visited that
// domain, i.e. probed the lock while this one held it. Uncontended domains are torn down at once,
// so the other janitor can also arrive at a domain only after it was reaped (lockfile gone, or
// no lockfile and the stack gone: the janitor's second listing).
type fileSwarm struct {
	dir    string
	ownLog string // this process's janitor log: the other logs are the other janitor's

	contendTimeouts int // contended teardowns that went on without seeing the other's probe
}

// Stacks returns the present stacks.
func (s *fileSwarm) Stacks(context.Context) ([]string, error) {
	var stacks []string
	err := s.locked(func() error {
		var err error
		stacks, err = s.read()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list stacks: %w", err)
	}
	return stacks, nil
}

// Teardown records the call, waits for the other janitor when the domain is contended, then
// removes the stack from the present ones and the file at envPath, reporting what it removed.
func (s *fileSwarm) Teardown(ctx context.Context, stack, envPath string) (swarm.TeardownReport, error) {
	var r swarm.TeardownReport
	if err := appendLine(filepath.Join(s.dir, swarmTeardowns), stack); err != nil {
		return r, fmt.Errorf("teardown of stack %s: record: %w", stack, err)
	}
	if err := s.awaitOtherProbe(ctx, stack); err != nil {
		return r, fmt.Errorf("teardown of stack %s: %w", stack, err)
	}
	err := s.locked(func() error {
		stacks, err := s.read()
		if err != nil {
			return err
		}
		i := slices.Index(stacks, stack)
		if i < 0 {
			return nil
		}
		r.Services = []string{stack + "_app"}
		return writeStacks(filepath.Join(s.dir, swarmStacks), slices.Delete(stacks, i, i+1))
	})
	if err != nil {
		return r, fmt.Errorf("teardown of stack %s: %w", stack, err)
	}
	if envPath != "" {
		switch err := os.Remove(envPath); {
		case err == nil:
			r.EnvRemoved = true
		case !errors.Is(err, fs.ErrNotExist):
			return r, fmt.Errorf("teardown of stack %s: remove env file %s: %w", stack, envPath, err)
		}
	}
	return r, nil
}

// awaitOtherProbe returns at once for an uncontended stack; for a contended one it polls the
// other janitors' logs until one logged its candidate line for the domain (contendWait at most).
func (s *fileSwarm) awaitOtherProbe(ctx context.Context, stack string) error {
	domain, ok := naming.DomainOfStack(stack, suffix)
	if !ok {
		return fmt.Errorf("stack %s is not a CI stack", stack)
	}
	contended, err := os.ReadFile(filepath.Join(s.dir, swarmContended))
	if err != nil {
		return err
	}
	if !slices.Contains(strings.Fields(string(contended)), domain) {
		return nil
	}
	deadline := time.Now().Add(contendWait)
	for {
		seen, err := s.otherLogged(domain)
		if err != nil || seen {
			return err
		}
		if time.Now().After(deadline) {
			s.contendTimeouts++
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Microsecond): // poll interval, not a wait for an event
		}
	}
}

// otherLogged reports whether another janitor's log has a complete candidate line for domain.
func (s *fileSwarm) otherLogged(domain string) (bool, error) {
	logs, err := filepath.Glob(filepath.Join(s.dir, janitorLogGlob))
	if err != nil {
		return false, err
	}
	for _, path := range logs {
		if path == s.ownLog {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return false, err
		}
		complete := data[:strings.LastIndexByte(string(data), '\n')+1] // the last line may be half-written
		for line := range strings.SplitSeq(string(complete), "\n") {
			var e struct{ Msg, Domain string }
			if line != "" && json.Unmarshal([]byte(line), &e) == nil && e.Msg == reap.LineMsg && e.Domain == domain {
				return true, nil
			}
		}
	}
	return false, nil
}

// locked runs fn holding an exclusive flock on the state lock, which every reader and writer of
// the stacks file takes: the file is never seen half-written.
func (s *fileSwarm) locked(fn func() error) error {
	f, err := os.OpenFile(filepath.Join(s.dir, swarmStateLock), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close() // releases the flock
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return fn()
}

func (s *fileSwarm) read() ([]string, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, swarmStacks))
	return strings.Fields(string(data)), err
}

func writeStacks(path string, stacks []string) error {
	return os.WriteFile(path, []byte(strings.Join(append(stacks, ""), "\n")), 0o644)
}

// appendLine appends line in one write to a file opened O_APPEND, so lines from several
// processes never interleave.
func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// passReport is the janitor-pass helper's last stdout line, after "done ".
type passReport struct {
	Summary         reap.Summary
	Log             string // its JSON pass log
	ContendTimeouts int
}

// runJanitorPass is a janitor started by a timer: one real reap.Pass on the lock dir and abra
// dir of the test's world, against the fileSwarm. It prints "ready" and starts the pass once it
// reads a byte from stdin, so that the test releases two janitors at the same moment; then it
// prints "done <passReport JSON>" and exits 0 if the pass ran.
func runJanitorPass() int {
	dir := os.Getenv(envSwarmDir)
	logPath := filepath.Join(dir, strings.Replace(janitorLogGlob, "*", fmt.Sprint(os.Getpid()), 1))
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "janitor-pass:", err)
		return 1
	}
	defer logFile.Close()
	s := reap.Settings{LockDir: applock.DirFromEnv(), AbraDir: os.Getenv(envAbraDir), Server: "default",
		DomainSuffix: suffix, Deadline: time.Hour, LogFormat: reap.FormatJSON, LogLevel: "debug"}
	if err := s.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "janitor-pass:", err)
		return 1
	}
	sw := &fileSwarm{dir: dir, ownLog: logPath}
	j := reap.New(s, sw, s.Logger(logFile))
	fmt.Println("ready")
	if _, err := io.ReadFull(os.Stdin, make([]byte, 1)); err != nil {
		fmt.Fprintln(os.Stderr, "janitor-pass: waiting for the start signal:", err)
		return 1
	}
	sum, err := j.Pass(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "janitor-pass:", err)
		return 1
	}
	out, err := json.Marshal(passReport{Summary: sum, Log: logPath, ContendTimeouts: sw.contendTimeouts})
	if err != nil {
		fmt.Fprintln(os.Stderr, "janitor-pass:", err)
		return 1
	}
	fmt.Println("done", string(out))
	return 0
}

// TestTwoJanitorProcessesExactlyOneReaps: two janitor processes (two timer firings that
// overlapped), released at the same moment on the same lock dir, abra dir and swarm. Real flocks
// in two processes decide: every orphan is torn down exactly once, by one of them. Half the
// orphans have a free lockfile (their run was SIGKILLed), half have none (after a reboot), so both
// janitors create the same fresh lockfile and race for it.
func TestTwoJanitorProcessesExactlyOneReaps(t *testing.T) {
	t.Parallel()
	const orphans = 50
	w := newWorld(t)
	swarmDir := t.TempDir()
	var stacks, contended []string
	for i := range orphans {
		d := domain(i)
		stacks = append(stacks, naming.Stack(d))
		require.NoError(t, os.WriteFile(w.envPath(d), []byte("TYPE=sample\n"), 0o644))
		if i < orphans/2 {
			w.lockfile(t, d)
		}
		if i%2 == 0 {
			contended = append(contended, d)
		}
	}
	require.NoError(t, writeStacks(filepath.Join(swarmDir, swarmStacks), stacks))
	require.NoError(t, os.WriteFile(filepath.Join(swarmDir, swarmContended), []byte(strings.Join(contended, "\n")), 0o644))

	env := []string{envAbraDir + "=" + w.abraDir, envSwarmDir + "=" + swarmDir}
	janitors := []*helper{
		startHelperEnv(t, env, w.lockDir, "janitor-pass"),
		startHelperEnv(t, env, w.lockDir, "janitor-pass"),
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		logs, _ := filepath.Glob(filepath.Join(swarmDir, janitorLogGlob))
		for _, path := range logs {
			data, _ := os.ReadFile(path)
			t.Logf("%s:\n%s", filepath.Base(path), data)
		}
	})
	for _, j := range janitors {
		j.expect(t, "ready")
	}
	for _, j := range janitors {
		_, err := j.Stdin.Write([]byte{'\n'}) // go
		require.NoError(t, err)
	}
	reports := make([]passReport, len(janitors))
	for i, j := range janitors {
		line := j.next(t)
		out, ok := strings.CutPrefix(line, "done ")
		require.True(t, ok, "janitor %d said %q, want done", i+1, line)
		require.NoError(t, json.Unmarshal([]byte(out), &reports[i]))
		require.NoError(t, j.Wait(), "janitor %d exits 0", i+1)
	}

	data, err := os.ReadFile(filepath.Join(swarmDir, swarmTeardowns))
	require.NoError(t, err)
	got := map[string]int{}
	for _, stack := range strings.Fields(string(data)) {
		got[stack]++
	}
	var notOnce []string
	for _, stack := range slices.Sorted(maps.Keys(got)) {
		if got[stack] != 1 {
			notOnce = append(notOnce, fmt.Sprintf("%s x%d", stack, got[stack]))
		}
	}
	assert.Empty(t, notOnce, "every stack torn down exactly once, across both processes")
	assert.Len(t, got, orphans, "every stack torn down")
	left, err := (&fileSwarm{dir: swarmDir}).Stacks(context.Background())
	require.NoError(t, err)
	assert.Empty(t, left, "no stack left on the swarm")
	for i := range orphans {
		assert.NoFileExists(t, w.envPath(domain(i)))
	}
	assert.Empty(t, names(t, w.lockDir), "every lockfile, old or fresh, is unlinked")
	a, b := reports[0].Summary, reports[1].Summary
	assert.Equal(t, orphans, a.Reaped+b.Reaped, "each orphan is reaped by one of the two")
	assert.Zero(t, a.Failed+b.Failed)
	// With no live run here, every "leave" is one janitor finding the lock held by the other.
	assert.Positive(t, a.Left+b.Left, "the two passes never raced for a lock")
	for i, r := range reports {
		data, err := os.ReadFile(r.Log)
		require.NoError(t, err)
		log := &logBuffer{}
		_, _ = log.Write(data)
		relisted := 0 // no lockfile, fresh lock taken after the other janitor reaped: the second listing
		for _, e := range log.entries(t) {
			if e["msg"] == reap.LineMsg && strings.Contains(fmt.Sprint(e["reason"]), "already gone") {
				relisted++
			}
		}
		t.Logf("janitor %d (pid %d): reaped %d, left %d (held by the other), skipped %d (reaped by the other; %d of them found gone by the second listing), %d contended teardowns not probed within %s",
			i+1, janitors[i].Pid(), r.Summary.Reaped, r.Summary.Left, r.Summary.Skipped, relisted, r.ContendTimeouts, contendWait)
	}
}
