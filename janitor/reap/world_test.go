package reap_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/applock"
	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/janitor/fakeswarm"
	"coopcloud.tech/cc-ci/janitor/reap"
)

const suffix = "ci.example.org"

// domain returns the n-th CI app domain, shaped exactly like naming.Domain's output.
func domain(n int) string { return fmt.Sprintf("samp-%06x.%s", n, suffix) }

// world is one test's host: its own lock dir and abra dir on disk (real files, real flocks), a
// FAKE swarm, and the JSON log of every pass.
type world struct {
	lockDir string
	abraDir string
	swarm   *fakeswarm.Swarm
	log     *logBuffer
	s       reap.Settings
}

func newWorld(t testing.TB) *world {
	t.Helper()
	root := t.TempDir()
	w := &world{
		lockDir: filepath.Join(root, "lock"),
		abraDir: filepath.Join(root, "abra"),
		swarm:   &fakeswarm.Swarm{},
		log:     &logBuffer{},
	}
	require.NoError(t, os.MkdirAll(w.lockDir, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(w.abraDir, "servers", "default"), 0o755))
	w.s = reap.Settings{LockDir: w.lockDir, AbraDir: w.abraDir, Server: "default", DomainSuffix: suffix,
		Deadline: time.Hour, LogFormat: reap.FormatJSON, LogLevel: "debug"}
	require.NoError(t, w.s.Validate())
	return w
}

// janitor returns a janitor on this world's settings and fake swarm.
func (w *world) janitor() *reap.Janitor {
	return reap.New(w.s, w.swarm, w.s.Logger(w.log))
}

// pass runs one pass and requires that it ran.
func (w *world) pass(t testing.TB) reap.Summary {
	t.Helper()
	sum, err := w.janitor().Pass(context.Background())
	require.NoError(t, err)
	return sum
}

func (w *world) lockPath(d string) string { return applock.Path(w.lockDir, d) }

func (w *world) envPath(d string) string {
	return filepath.Join(w.abraDir, "servers", "default", d+".env")
}

// lockfile creates a free lockfile for d, as a run that was SIGKILLed leaves it.
func (w *world) lockfile(t testing.TB, d string) {
	t.Helper()
	require.NoError(t, os.WriteFile(w.lockPath(d), nil, 0o644))
}

// deployed puts d's stack on the fake swarm and its .env on disk.
func (w *world) deployed(t testing.TB, d string) {
	t.Helper()
	w.swarm.Present = append(w.swarm.Present, naming.Stack(d))
	require.NoError(t, os.WriteFile(w.envPath(d), []byte("TYPE=sample\n"), 0o644))
}

// snapshot is what the janitor could change on disk: names and mtimes under the lock dir and the
// abra server dir.
func (w *world) snapshot(t testing.TB) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	for _, dir := range []string{w.lockDir, filepath.Join(w.abraDir, "servers", "default")} {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range entries {
			fi, err := e.Info()
			require.NoError(t, err)
			out[filepath.Join(dir, e.Name())] = fi.ModTime()
		}
	}
	return out
}

// setMtime moves a file's mtime to ago before now.
func setMtime(t testing.TB, path string, ago time.Duration) time.Time {
	t.Helper()
	at := time.Now().Add(-ago).Truncate(time.Second)
	require.NoError(t, os.Chtimes(path, at, at))
	return at
}

// logBuffer collects the JSON log of the passes; safe for two janitors at once.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// entries parses every log line.
func (b *logBuffer) entries(t testing.TB) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var e map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &e), "log line %q", line)
		out = append(out, e)
	}
	return out
}

// lines returns the candidate lines logged for name (a domain, or a stack for ignored stacks).
func (b *logBuffer) lines(t testing.TB, name string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, e := range b.entries(t) {
		if e["msg"] == reap.LineMsg && e["domain"] == name {
			out = append(out, e)
		}
	}
	return out
}

// line returns the one candidate line for name.
func (b *logBuffer) line(t testing.TB, name string) map[string]any {
	t.Helper()
	got := b.lines(t, name)
	require.Len(t, got, 1, "exactly one line for %s in:\n%s", name, b.String())
	return got[0]
}

// decisions returns every decision logged for name.
func (b *logBuffer) decisions(t testing.TB, name string) []string {
	t.Helper()
	var out []string
	for _, e := range b.lines(t, name) {
		out = append(out, e["decision"].(string))
	}
	return out
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// names lists a directory's entries, sorted.
func names(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}
