package abra

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeAbraScript is a FAKE abra, not the real Co-op Cloud CLI: it records how it was started
// (argv, $ABRA_DIR, cwd, whether stdin and stdout are terminals) and then behaves as
// $FAKE_ABRA_MODE says. It prints $FAKE_ABRA_SECRET so tests can check the masking.
const fakeAbraScript = `#!/bin/sh
# FAKE abra for the tests of package abra.
if [ -t 0 ] && [ -t 1 ]; then tty=yes; else tty=no; fi
# One write per invocation, so fakes running at once do not interleave their records.
rec=$(
  for a in "$@"; do printf 'arg=%s\n' "$a"; done
  printf 'abra_dir=%s\n' "$ABRA_DIR"
  printf 'cwd=%s\n' "$(pwd)"
  echo "tty=$tty"
  echo end
)
printf '%s\n' "$rec" >> "$FAKE_ABRA_RECORD"
printf 'using secret %s\n' "$FAKE_ABRA_SECRET"
case "$FAKE_ABRA_MODE" in
secrets)
  # Like abra app new --secrets: a table of the secrets it just generated.
  echo "┌─────────────┬──────────────────────────────────┐"
  echo "│ db_password │ Gen3rat3dDbPassw0rdValue         │"
  echo "│ api_key     │ ApiKeyGeneratedByAbra99          │"
  echo "│ short       │ tiny                             │"
  echo "└─────────────┴──────────────────────────────────┘" ;;
fail)
  i=1
  while [ $i -le 60 ]; do echo "step $i"; i=$((i+1)); done
  echo "FATA secret $FAKE_ABRA_SECRET was rejected"
  exit 3 ;;
hang)
  # The background sleep ignores SIGHUP (inherited), so the kernel's hangup when this session
  # leader exits cannot kill it: only a kill of the whole process group does.
  trap '' HUP
  trap 'echo got-term >> "$FAKE_ABRA_RECORD"; exit 143' TERM
  sleep 300 &
  echo $! > "$FAKE_ABRA_PIDFILE"
  echo ready
  wait ;;
stubborn)
  trap '' TERM HUP
  sleep 300 &
  echo $! > "$FAKE_ABRA_PIDFILE"
  echo ready
  wait ;;
leave)
  trap '' HUP
  sleep 300 &
  echo $! > "$FAKE_ABRA_PIDFILE"
  echo done ;;
snapshot)
  # Like a backup: restic's report of the snapshot it saved.
  echo "snapshot 1f2e3d4c saved" ;;
twosnapshots)
  echo "snapshot 1f2e3d4c saved"
  echo "snapshot 99aa88bb saved" ;;
escape)
  # The pidfile is written after setsid, so once it exists the sleep has left the group.
  setsid sh -c 'echo $$ > "$FAKE_ABRA_PIDFILE"; exec sleep 300' &
  while [ ! -s "$FAKE_ABRA_PIDFILE" ]; do :; done
  echo done ;;
esac
`

// fakeAbra is one fake abra installed in a temp dir.
type fakeAbra struct {
	dir     string // holds the script, named abra
	record  string
	pidfile string
	abraDir string
	secret  string
}

// scriptDir holds the fake abra script, written once by TestMain before any test runs: a script
// written while parallel tests fork could be held open for writing by a forked child for a
// moment, and exec-ing it then fails with "text file busy" (ETXTBSY; golang/go#22315).
var scriptDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fake-abra-script-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(filepath.Join(dir, "abra"), []byte(fakeAbraScript), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	scriptDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func newFakeAbra(t *testing.T) *fakeAbra {
	t.Helper()
	state := t.TempDir()
	return &fakeAbra{
		dir:     scriptDir,
		record:  filepath.Join(state, "record"),
		pidfile: filepath.Join(state, "pid"),
		abraDir: t.TempDir(),
		secret:  "s3cret-Value-42xyz",
	}
}

// client returns a Client that runs the fake in mode, found on the PATH of its Env.
func (f *fakeAbra) client(mode string, out *syncBuffer) *Client {
	return &Client{
		Env: []string{
			"PATH=" + f.dir + ":/usr/bin:/bin",
			"ABRA_DIR=" + f.abraDir,
			"FAKE_ABRA_RECORD=" + f.record,
			"FAKE_ABRA_PIDFILE=" + f.pidfile,
			"FAKE_ABRA_SECRET=" + f.secret,
			"FAKE_ABRA_MODE=" + mode,
		},
		Dir:    f.abraDir,
		Out:    out,
		Masker: NewMasker(f.secret),
	}
}

// invocation is what the fake recorded about one start.
type invocation struct {
	args    []string
	abraDir string
	cwd     string
	tty     bool
}

func (f *fakeAbra) invocations(t *testing.T) []invocation {
	t.Helper()
	data, err := os.ReadFile(f.record)
	require.NoError(t, err)
	var all []invocation
	var cur invocation
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		key, val, _ := strings.Cut(line, "=")
		switch key {
		case "arg":
			cur.args = append(cur.args, val)
		case "abra_dir":
			cur.abraDir = val
		case "cwd":
			cur.cwd = val
		case "tty":
			cur.tty = val == "yes"
		case "end":
			all = append(all, cur)
			cur = invocation{}
		}
	}
	return all
}

// grandchild returns the pid of the fake's background sleep.
func (f *fakeAbra) grandchild(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile(f.pidfile)
	require.NoError(t, err, "the fake started its background process")
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, err)
	return pid
}

// requireGone waits until pid has exited. A zombie counts as gone: nothing here reaps
// reparented processes, and a zombie runs nothing.
func requireGone(t *testing.T, pid int) {
	t.Helper()
	require.Eventually(t, func() bool {
		if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
			return true
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return true
		}
		// The state follows the command name in parentheses: "pid (comm) S ...".
		after := string(stat[bytes.LastIndexByte(stat, ')')+1:])
		return strings.HasPrefix(strings.TrimSpace(after), "Z")
	}, 5*time.Second, 10*time.Millisecond, "process %d is still running", pid)
}

// syncBuffer is an Out that calls onLine for every complete line written to it.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	onLine func(line string)
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.onLine != nil {
		for _, line := range strings.Split(strings.TrimSuffix(string(p), "\n"), "\n") {
			b.onLine(line)
		}
	}
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestFakeAbraRecordsEachInvocation(t *testing.T) {
	t.Parallel()
	f := newFakeAbra(t)
	c := f.client("ok", &syncBuffer{})
	_, err := c.Run(t.Context(), "recipe", "fetch", "one word", "--no-input")
	require.NoError(t, err)
	_, err = c.Run(t.Context(), "recipe", "lint", "r")
	require.NoError(t, err)
	got := f.invocations(t)
	require.Len(t, got, 2)
	assert.Equal(t, []string{"recipe", "fetch", "one word", "--no-input"}, got[0].args,
		"an argument with a space stays one argument")
	assert.Equal(t, []string{"recipe", "lint", "r"}, got[1].args)
}
