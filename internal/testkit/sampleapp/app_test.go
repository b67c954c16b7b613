package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func do(t *testing.T, h http.Handler, method, path, body string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec.Code, rec.Body.String()
}

func TestHandlerServesThePageHealthAndKV(t *testing.T) {
	t.Parallel()
	st := store{path: filepath.Join(t.TempDir(), "db.json"), mu: &sync.Mutex{}}
	require.NoError(t, st.init())
	h := newHandler(localKV{st}, options{version: "2.1.0", domain: "samp-1a2b3c.ci.local", title: "cc-ci sample app"})

	code, body := do(t, h, http.MethodGet, "/", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "<title>cc-ci sample app</title>")
	assert.Contains(t, body, "<h1>cc-ci sample app</h1>")
	assert.Contains(t, body, "2.1.0")
	assert.Contains(t, body, "samp-1a2b3c.ci.local")

	code, _ = do(t, h, http.MethodGet, "/healthz", "")
	assert.Equal(t, http.StatusOK, code)
	code, _ = do(t, h, http.MethodGet, "/nope", "")
	assert.Equal(t, http.StatusNotFound, code)

	code, _ = do(t, h, http.MethodGet, "/kv/x", "")
	assert.Equal(t, http.StatusNotFound, code, "an unknown key")
	code, _ = do(t, h, http.MethodPut, "/kv/x", "1")
	assert.Equal(t, http.StatusOK, code)
	code, body = do(t, h, http.MethodGet, "/kv/x", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "1", body)

	// The store is read on every request: a file rewritten behind the server's back (as a
	// restore hook does) is served at once.
	require.NoError(t, os.WriteFile(st.path, []byte(`{"x":"restored"}`), 0o644))
	_, body = do(t, h, http.MethodGet, "/kv/x", "")
	assert.Equal(t, "restored", body)
}

func TestFallbackAnswersEveryPageWithTraefiks404BodyAndStatus200(t *testing.T) {
	t.Parallel()
	h := newHandler(localKV{store{path: filepath.Join(t.TempDir(), "db.json")}}, options{version: "1.0.0", domain: "d", fallback: true})
	for _, p := range []string{"/", "/healthz", "/kv/x", "/anything"} {
		code, body := do(t, h, http.MethodGet, p, "")
		assert.Equal(t, http.StatusOK, code, p)
		assert.Equal(t, "404 page not found\n", body, p)
	}
}

func TestDumpAndLoadRoundTripAndLoadRejectsBadDumps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := store{path: filepath.Join(dir, "db.json")}
	require.NoError(t, st.put("x", "1"))

	dump := filepath.Join(dir, "dump", "nested", "dump.json")
	require.NoError(t, st.dump(dump), "dump creates the directories it needs")
	require.NoError(t, st.put("x", "2"))
	require.NoError(t, st.load(dump))
	v, ok, err := st.get("x")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "1", v)

	tests := []struct{ name, content, want string }{
		{"an empty dump", "", "empty"},
		{"a garbled dump", "{not json", "not a JSON object"},
		{"a null dump", "null", "null"},
		{"an array dump", "[1]", "not a JSON object"},
	}
	for _, tc := range tests {
		bad := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
		require.NoError(t, os.WriteFile(bad, []byte(tc.content), 0o644))
		assert.ErrorContains(t, st.load(bad), tc.want, tc.name)
	}
	v, _, err = st.get("x")
	require.NoError(t, err)
	assert.Equal(t, "1", v, "a rejected load leaves the store alone")
}

func TestDumpOfAnEmptyStoreIsAnEmptyObject(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "d.json")
	require.NoError(t, store{path: filepath.Join(dir, "db.json")}.dump(out))
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "{}", string(data))
}

func TestRunSubcommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == "DATA_DIR" {
			return dir
		}
		return ""
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"crash exits 1 with its message", []string{"crash"}, 1, "fatal: sample app crashed on purpose (known-bad variant)"},
		{"no subcommand is a usage error", nil, 2, "usage:"},
		{"an unknown subcommand is a usage error", []string{"bogus"}, 2, "usage:"},
		{"load without a file is a usage error", []string{"load"}, 2, "usage:"},
		{"load of a missing file fails", []string{"load", filepath.Join(dir, "missing")}, 1, "read dump"},
		{"dump writes a file", []string{"dump", filepath.Join(dir, "out", "d.json")}, 0, ""},
		{"migrate before first-boot init fails naming the store", []string{"migrate"}, 1, "no database at " + dir + "/db.json to migrate"},
		{"healthcheck takes at most one URL", []string{"healthcheck", "a", "b"}, 2, "usage:"},
		{"db without its password refuses to start", []string{"db"}, 1, "db password missing"},
		{"worker without DB_HOST refuses to start", []string{"worker"}, 1, "DB_HOST is not set"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, getenv, &stdout, &stderr)
		assert.Equal(t, tc.wantCode, code, tc.name)
		assert.Contains(t, stderr.String(), tc.wantErr, tc.name)
	}
}

func TestServeRefusesToStartWithoutTheSecret(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "api_key")
	err := serve(context.Background(), store{path: filepath.Join(t.TempDir(), "db.json")},
		func(k string) string { return map[string]string{"APP_SECRET_FILE": missing}[k] }, io.Discard)
	assert.ErrorContains(t, err, "secret api_key missing")
}

func TestHealthcheckNeedsA200(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer bad.Close()
	assert.NoError(t, healthcheck(context.Background(), ok.URL))
	assert.ErrorContains(t, healthcheck(context.Background(), bad.URL), "503")
}
