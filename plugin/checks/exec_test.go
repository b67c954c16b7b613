package checks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
)

// forkMu keeps writing a script apart from starting one. A file open for writing in this process
// is inherited by any child forked meanwhile (until its exec closes it), and executing a file that
// some process holds open for writing fails with ETXTBSY (https://go.dev/issue/22315).
var forkMu sync.RWMutex

// script writes body as an executable /bin/sh script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "check.sh")
	forkMu.Lock()
	defer forkMu.Unlock()
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755))
	return p
}

func run(ctx context.Context, e Exec) ExecOutcome {
	forkMu.RLock()
	defer forkMu.RUnlock()
	return RunExec(ctx, e)
}

// logBuf is a Drone log: it records what was written and signals when a marker line appears.
type logBuf struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	seen   chan struct{}
	once   sync.Once
}

func newLog(marker string) *logBuf { return &logBuf{marker: marker, seen: make(chan struct{})} }

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if l.marker != "" && bytes.Contains(p, []byte(l.marker)) {
		l.once.Do(func() { close(l.seen) })
	}
	return len(p), nil
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// env is the explicit environment a caller builds for a test executable.
func env(runDir string) []string {
	return []string{"PATH=/usr/bin:/bin", "CCCI_APP_DOMAIN=" + appDomain, "CCCI_BASE_URL=http://127.0.0.1:1", "CCCI_RUN_DIR=" + runDir}
}

// grandchild reads the pid a script wrote to runDir/pid.
func grandchild(t *testing.T, runDir string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(runDir, "pid"))
	require.NoError(t, err, "the script never started its grandchild")
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, err)
	return pid
}

// alive reports whether pid is still the running `sleep <marker>` the script started: a zombie
// waiting for its new parent to reap it is dead, and a reused pid is not ours.
func alive(t *testing.T, pid int, marker string) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	require.NoError(t, err)
	i := bytes.LastIndexByte(stat, ')') // the state follows the parenthesised command name
	require.Greater(t, len(stat), i+2)
	if state := stat[i+2]; state == 'Z' || state == 'X' {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.Contains(cmdline, []byte(marker))
}

// requireGone waits for pid to be dead. The kill is already done when RunExec returns (its
// pipes reached EOF, so every holder has closed them); only the kernel's last step from exiting
// to zombie may still be in flight, and no event announces it to a process that is not the
// parent, hence the short poll.
func requireGone(t *testing.T, pid int, marker string) {
	t.Helper()
	require.Eventually(t, func() bool { return !alive(t, pid, marker) }, 5*time.Second, 10*time.Millisecond,
		"the grandchild %d (sleep %s) outlived RunExec", pid, marker)
}

func TestRunExecVerdicts(t *testing.T) {
	t.Parallel()
	junitFail := `<testsuite name="s" tests="2" failures="1"><testcase name="ok one"/><testcase name="bad one"><failure message="nope"/></testcase></testsuite>`
	junitPass := `<testsuites><testsuite name="s"><testcase classname="s" name="a"/><testcase classname="s" name="b"><skipped/></testcase></testsuite></testsuites>`
	tests := []struct {
		name       string
		body       string
		want       results.Status
		wantReason []string
		wantRows   []results.Status
		wantNames  []string
	}{
		{name: "exit 0 without output passes", body: "exit 0\n", want: results.Pass, wantReason: []string{"check exited 0"}, wantRows: []results.Status{}},
		{name: "a non-zero exit fails and names the executable and the code", body: "echo failing >&2\nexit 3\n", want: results.Fail,
			wantReason: []string{"check exited with code 3"}},
		{name: "a signal fails and names it", body: "kill -SEGV $$\n", want: results.Fail, wantReason: []string{"check was killed by signal segmentation fault"}},
		{name: "passing TAP passes with a row per test", body: "echo 1..2\necho 'ok 1 - home'\necho 'ok 2 - login # SKIP no sso'\n", want: results.Pass,
			wantReason: []string{"2 tests reported, none failed"}, wantRows: []results.Status{results.Pass, results.Skip}, wantNames: []string{"check: 1 home", "check: 2 login"}},
		{name: "exit 0 with a failing TAP point fails", body: "echo 1..2\necho 'ok 1'\necho 'not ok 2 - login works'\nexit 0\n", want: results.Fail,
			wantReason: []string{"check exited 0, but: 1 of its tests failed (check: 2 login works)"}, wantRows: []results.Status{results.Pass, results.Fail}},
		{name: "exit 0 with a TAP plan that does not match fails", body: "echo 1..3\necho 'ok 1'\n", want: results.Fail,
			wantReason: []string{"TAP: the plan 1..3 does not match the 1 test points run"}},
		{name: "a non-zero exit with passing TAP still fails", body: "echo 1..1\necho 'ok 1'\nexit 1\n", want: results.Fail,
			wantReason: []string{"exited with code 1"}, wantRows: []results.Status{results.Pass}},
		{name: "a TAP skip-all is a skip", body: "echo '1..0 # no browser on this box'\n", want: results.Skip, wantReason: []string{"skipped all its tests", "no browser on this box"}},
		{name: "exit 0 with a failing JUnit testcase fails", body: "cat > \"$CCCI_REPORT_DIR/junit.xml\" <<'EOF'\n" + junitFail + "\nEOF\n", want: results.Fail,
			wantReason: []string{"exited 0, but: 1 of its tests failed (check: bad one)"}, wantRows: []results.Status{results.Pass, results.Fail}},
		{name: "a passing JUnit report passes with a row per testcase", body: "mkdir -p \"$CCCI_REPORT_DIR/sub\"\ncat > \"$CCCI_REPORT_DIR/sub/r.xml\" <<'EOF'\n" + junitPass + "\nEOF\n",
			want: results.Pass, wantRows: []results.Status{results.Pass, results.Skip}, wantNames: []string{"check: s.a", "check: s.b"}},
		{name: "exit 0 with a broken JUnit report fails", body: "echo '<testsuite><testcase name=\"a\">' > \"$CCCI_REPORT_DIR/cut.xml\"\n", want: results.Fail,
			wantReason: []string{"JUnit report cut.xml: not well-formed XML"}},
		{name: "TAP and JUnit rows are both kept", body: "echo 1..1\necho 'ok 1 - tap'\necho '" + junitPass + "' > \"$CCCI_REPORT_DIR/j.xml\"\n", want: results.Pass,
			wantRows: []results.Status{results.Pass, results.Pass, results.Skip}},
		{name: "a bail out fails even with exit 0", body: "echo 1..2\necho 'ok 1'\necho 'Bail out! database gone'\n", want: results.Fail,
			wantReason: []string{"it bailed out: database gone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runDir := t.TempDir()
			got := run(t.Context(), Exec{Path: script(t, tt.body), Name: "check", Env: env(runDir), ReportDir: filepath.Join(runDir, "reports"), Timeout: time.Minute})
			assert.Equal(t, tt.want, got.Status, "reason: %s\noutput: %s", got.Reason, got.Output)
			for _, w := range tt.wantReason {
				assert.Contains(t, got.Reason, w)
			}
			if tt.wantRows != nil {
				assert.Equal(t, tt.wantRows, statusesOf(got.Checks))
			}
			for i, w := range tt.wantNames {
				require.Greater(t, len(got.Checks), i)
				assert.Equal(t, w, got.Checks[i].Name)
			}
		})
	}
}

func TestRunExecCannotRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	forkMu.Lock()
	noShebang := filepath.Join(dir, "no-shebang")
	require.NoError(t, os.WriteFile(noShebang, []byte("echo hi\n"), 0o755))
	noInterp := filepath.Join(dir, "no-interp")
	require.NoError(t, os.WriteFile(noInterp, []byte("#!/nonexistent/python9\nprint(1)\n"), 0o755))
	notExec := filepath.Join(dir, "not-exec")
	require.NoError(t, os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644))
	forkMu.Unlock()
	full := filepath.Join(dir, "full")
	require.NoError(t, os.MkdirAll(full, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(full, "old.xml"), []byte("<testsuite/>"), 0o600))

	tests := []struct {
		name       string
		e          Exec
		want       results.Status
		wantReason string
	}{
		{name: "a missing file fails: the overlay names it", e: Exec{Path: filepath.Join(dir, "missing")}, want: results.Fail, wantReason: "no such file"},
		{name: "a file without the executable bit fails with the fix", e: Exec{Path: notExec}, want: results.Fail, wantReason: "chmod +x"},
		{name: "a directory fails", e: Exec{Path: dir}, want: results.Fail, wantReason: "not a regular file"},
		{name: "a script without a #! line fails with the fix", e: Exec{Path: noShebang}, want: results.Fail, wantReason: "needs a #! line"},
		{name: "an interpreter missing from the CI box is unverified", e: Exec{Path: noInterp}, want: results.Unverified, wantReason: "not installed on the CI box"},
		{name: "a relative path is cc-ci's bug, unverified", e: Exec{Path: "tests/check.sh"}, want: results.Unverified, wantReason: "not absolute"},
		{name: "a report dir holding old reports is unverified", e: Exec{Path: noShebang, ReportDir: full}, want: results.Unverified, wantReason: "is not empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := run(t.Context(), tt.e)
			assert.Equal(t, tt.want, got.Status, got.Reason)
			assert.Contains(t, got.Reason, tt.wantReason)
		})
	}
}

// TestRunExecEnvIsExactlyWhatWasPassed: the child sees the caller's list and CCCI_REPORT_DIR,
// nothing of the runner's environment. Not parallel: it sets a variable in this process.
func TestRunExecEnvIsExactlyWhatWasPassed(t *testing.T) {
	t.Setenv("CCCI_LEAK_PROBE", "from-the-runner")
	t.Setenv("DRONE_TOKEN", "runner-secret")
	reports := filepath.Join(t.TempDir(), "reports")
	log := newLog("")
	given := []string{"CCCI_APP_DOMAIN=" + appDomain, "B=two words"}
	got := run(t.Context(), Exec{Name: "env", Path: "/usr/bin/env", Env: given, ReportDir: reports, Out: log})
	require.Equal(t, results.Pass, got.Status, got.Reason)
	var seen []string
	for _, l := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		seen = append(seen, strings.TrimPrefix(l, "[env] "))
	}
	assert.Equal(t, append(given, "CCCI_REPORT_DIR="+reports), seen)

	log = newLog("")
	got = run(t.Context(), Exec{Name: "env", Path: "/usr/bin/env", Out: log})
	require.Equal(t, results.Pass, got.Status, got.Reason)
	assert.Empty(t, log.String(), "a nil Env is an empty environment, not the runner's")
}

func TestRunExecStreamsPrefixedAndMasked(t *testing.T) {
	t.Parallel()
	const secret = "QQQQ-s3cr3t-value-0042"
	mask := func(s string) string { return strings.ReplaceAll(s, secret, "****") }
	long := strings.Repeat("x", maxLine-4) + secret + strings.Repeat("y", 30000)
	body := fmt.Sprintf(`echo "hello"
echo "oops $SECRET" >&2
echo 1..2
echo "ok 1 - logs in as $SECRET"
echo "not ok 2 - token $SECRET accepted"
echo "  ---"
echo "  got: $SECRET"
echo "  ..."
echo "%s"
exit 0
`, long)
	log := newLog("")
	got := run(t.Context(), Exec{Name: "smoke", Path: script(t, body), Env: append(env(t.TempDir()), "SECRET="+secret), Out: log, Mask: mask})
	require.Equal(t, results.Fail, got.Status, got.Reason)
	out := log.String()
	assert.Contains(t, out, "[smoke] hello\n")
	assert.Contains(t, out, "[smoke:err] oops ****\n")
	assert.Contains(t, out, "[smoke] ok 1 - logs in as ****\n")
	assert.Contains(t, out, " …[line cut at 16384 bytes]\n")
	assert.NotContains(t, out, "yyy", "the rest of a cut line is dropped")
	assert.NotContains(t, out, "QQQQ", "a secret straddling the cut is masked, not half-shown")
	for _, c := range got.Checks {
		assert.NotContains(t, c.Name+c.Detail, "QQQQ")
	}
	assert.Equal(t, "smoke: 2 token **** accepted", got.Checks[1].Name)
	assert.Equal(t, "got: ****", got.Checks[1].Detail)
	assert.NotContains(t, got.Reason, "QQQQ")
	assert.Contains(t, got.Reason, "smoke: 2 token **** accepted")
	assert.NotContains(t, got.Output, "QQQQ")
	assert.Contains(t, got.Output, "oops ****")
}

func TestRunExecCapsRows(t *testing.T) {
	t.Parallel()
	body := `echo 1..500
i=1
while [ $i -le 500 ]; do
  if [ $i = 450 ]; then echo "not ok $i - the one failure"; else echo "ok $i"; fi
  i=$((i+1))
done
`
	got := run(t.Context(), Exec{Name: "many", Path: script(t, body), Env: env(t.TempDir())})
	require.Equal(t, results.Fail, got.Status, got.Reason)
	require.Len(t, got.Checks, MaxRows)
	assert.Contains(t, got.Checks, results.Check{Name: "many: 450 the one failure", Status: results.Fail, Detail: "not ok"}, "a failure is kept past the cap")
	last := got.Checks[MaxRows-1]
	assert.Equal(t, "more rows", last.Name)
	assert.Equal(t, "and 301 more rows left out (at most 200 are kept)", last.Detail)
}

// TestRunExecStops: a run that outlives its timeout, or the run's ctx, is stopped with its whole
// process group, grandchildren included, and is unverified.
func TestRunExecStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		body       string
		timeout    time.Duration
		grace      time.Duration
		cancel     bool // cancel the run's ctx once the script says "started"
		want       results.Status
		wantReason string
		minElapsed time.Duration
		// maxElapsed is under the time it would take if the group kill missed the grandchild
		// (which holds stdout): then only the pipe drain's give-up, drainDelay later, would end
		// the wait.
		maxElapsed time.Duration
	}{
		{name: "a timeout kills the process group, grandchild included", timeout: 2 * time.Second,
			body: "sleep %s &\necho $! > \"$CCCI_RUN_DIR/pid\"\necho started\nwait\n", want: results.Unverified, wantReason: "check did not finish within 2s",
			maxElapsed: 2*time.Second + drainDelay/2},
		{name: "an aborted run kills the process group, grandchild included", timeout: time.Minute, cancel: true,
			body: "sleep %s &\necho $! > \"$CCCI_RUN_DIR/pid\"\necho started\nwait\n", want: results.Unverified, wantReason: "run aborted",
			maxElapsed: drainDelay / 2},
		{name: "a group that ignores SIGTERM is killed after the grace", timeout: 2 * time.Second, grace: time.Second,
			body: "trap '' TERM\nsleep %s &\necho $! > \"$CCCI_RUN_DIR/pid\"\necho started\nwait\nwait\n", want: results.Unverified,
			wantReason: "did not finish within", minElapsed: 3 * time.Second, maxElapsed: 3*time.Second + drainDelay/2},
		{name: "a background job left by a passing executable is killed", timeout: time.Minute,
			body: "sleep %s &\necho $! > \"$CCCI_RUN_DIR/pid\"\necho started\nexit 0\n", want: results.Pass, wantReason: "check exited 0",
			maxElapsed: drainDelay / 2},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			marker := strconv.Itoa(4200 + i) // sleep's argument: tells our grandchild from a reused pid
			runDir := t.TempDir()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			log := newLog("] started")
			e := Exec{Name: "check", Path: script(t, fmt.Sprintf(tt.body, marker)), Env: env(runDir), Timeout: tt.timeout, KillGrace: tt.grace, Out: log}
			if tt.cancel {
				go func() {
					select {
					case <-log.seen:
						cancel()
					case <-ctx.Done():
					}
				}()
			}
			start := time.Now()
			got := run(ctx, e)
			elapsed := time.Since(start)
			t.Logf("%s: returned after %s", tt.name, elapsed)
			assert.Equal(t, tt.want, got.Status, got.Reason)
			assert.Contains(t, got.Reason, tt.wantReason)
			assert.Contains(t, got.Output, "started")
			assert.GreaterOrEqual(t, elapsed, tt.minElapsed)
			assert.Less(t, elapsed, tt.maxElapsed)
			requireGone(t, grandchild(t, runDir), marker)
		})
	}
}

func TestRunExecAbortedBeforeStart(t *testing.T) {
	t.Parallel()
	runDir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	got := run(ctx, Exec{Name: "check", Path: script(t, "touch \"$CCCI_RUN_DIR/ran\"\n"), Env: env(runDir)})
	assert.Equal(t, results.Unverified, got.Status)
	assert.Contains(t, got.Reason, "run aborted (context canceled) before check started")
	assert.NoFileExists(t, filepath.Join(runDir, "ran"), "nothing runs once the run is over")
}
