package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedirectsOfTheFrontPage(t *testing.T) {
	t.Parallel()
	st := store{path: filepath.Join(t.TempDir(), "db.json")}
	require.NoError(t, st.init())
	tests := []struct {
		name, host string
		o          options
		wantCode   int
		wantLoc    string
	}{
		{"an SSO login URL sends / to the login page", "app.ci.local",
			options{loginURL: "https://sso.example.org/login"}, http.StatusFound, "https://sso.example.org/login"},
		{"a base URL on another host sends / to that host (a placeholder left in the recipe)", "samp-1a2b3c.ci.local",
			options{baseURL: "https://sample.example.com"}, http.StatusFound, "https://sample.example.com/"},
		{"a base URL on the asked host serves the page", "samp-1a2b3c.ci.local",
			options{baseURL: "https://samp-1a2b3c.ci.local"}, http.StatusOK, ""},
		{"the host's port and case do not matter", "SAMP-1a2b3c.ci.local:8080",
			options{baseURL: "https://samp-1a2b3c.ci.local/"}, http.StatusOK, ""},
		{"no base URL serves the page under any host", "anything", options{}, http.StatusOK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Host = tc.host
			newHandler(localKV{st}, tc.o).ServeHTTP(rec, req)
			assert.Equal(t, tc.wantCode, rec.Code)
			assert.Equal(t, tc.wantLoc, rec.Header().Get("Location"))
		})
	}
	code, _ := do(t, newHandler(localKV{st}, options{loginURL: "https://sso.example.org/login"}), http.MethodGet, "/healthz", "")
	assert.Equal(t, http.StatusOK, code, "the healthcheck is never redirected")
}

func TestRequireAuthWantsALoginEverywhereButTheHealthcheck(t *testing.T) {
	t.Parallel()
	st := localStore(t)
	o := optionsFrom(func(k string) string { return map[string]string{"APP_REQUIRE_AUTH": "1"}[k] })
	require.True(t, o.requireAuth, "APP_REQUIRE_AUTH=1 switches it on")
	h := newHandler(localKV{st}, o)
	tests := []struct{ name, method, path, body string }{
		{"the front page", http.MethodGet, "/", ""},
		{"the notes form", http.MethodGet, "/notes", ""},
		{"a note posted without a login", http.MethodPost, "/notes", "note=x"},
		{"the key-value API", http.MethodPut, "/kv/x", "1"},
		{"a page that does not exist", http.MethodGet, "/nope", ""},
	}
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		req.SetBasicAuth("admin", "admin") // no credentials are ever accepted
		h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusUnauthorized, rec.Code, tc.name)
		assert.Equal(t, `Basic realm="sample"`, rec.Header().Get("WWW-Authenticate"), tc.name)
	}
	n, err := st.count()
	require.NoError(t, err)
	assert.Zero(t, n, "nothing got through to the store")

	code, body := do(t, h, http.MethodGet, "/healthz", "")
	assert.Equal(t, http.StatusOK, code, "the orchestrator's healthcheck never logs in")
	assert.Equal(t, "ok\n", body)
	code, _ = do(t, newHandler(localKV{st}, optionsFrom(func(string) string { return "" })), http.MethodGet, "/", "")
	assert.Equal(t, http.StatusOK, code, "without the knob the app is open")
}

func TestFailOnceFailsTheFirstStartOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	assert.ErrorContains(t, failOnce(dir), "first start")
	assert.NoError(t, failOnce(dir))
	assert.NoError(t, failOnce(dir))
}

func TestInitCreatesAnEmptyStoreAndKeepsAnExistingOne(t *testing.T) {
	t.Parallel()
	st := store{path: filepath.Join(t.TempDir(), "db.json")}
	require.NoError(t, st.init())
	data, err := os.ReadFile(st.path)
	require.NoError(t, err)
	assert.Equal(t, "{}", string(data))
	require.NoError(t, st.put("x", "1"))
	require.NoError(t, st.init())
	v, ok, err := st.get("x")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "1", v)
	require.NoError(t, st.migrate(), "migrate works on an initialised store")
	v, _, err = st.get("x")
	require.NoError(t, err)
	assert.Equal(t, "1", v, "migrate keeps the data")
}

// dbServer runs the db stand-in over a fresh store, as the notes recipe's db service.
func dbServer(t *testing.T, password string) (*httptest.Server, store) {
	t.Helper()
	st := store{path: filepath.Join(t.TempDir(), "db.json"), mu: &sync.Mutex{}}
	require.NoError(t, st.init())
	srv := httptest.NewServer(newDBHandler(st, password))
	t.Cleanup(srv.Close)
	return srv, st
}

func TestDBNeedsItsPasswordExceptForHealth(t *testing.T) {
	t.Parallel()
	srv, _ := dbServer(t, "s3cret")
	get := func(path, auth string) int {
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, get("/healthz", ""))
	assert.Equal(t, http.StatusUnauthorized, get("/kv", ""))
	assert.Equal(t, http.StatusUnauthorized, get("/kv", "Bearer wrong"))
	assert.Equal(t, http.StatusUnauthorized, get("/kv/x", "s3cret"), "the scheme is part of the header")
	assert.Equal(t, http.StatusOK, get("/kv", "Bearer s3cret"))
	assert.Equal(t, http.StatusNotFound, get("/kv/x", "Bearer s3cret"))
}

func remoteFor(t *testing.T, srv *httptest.Server, password string) remoteKV {
	t.Helper()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	env := map[string]string{"DB_HOST": u.Hostname(), "DB_PORT": u.Port(), "DB_PASSWORD": password}
	r, ok, err := remoteFrom(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.True(t, ok)
	return r
}

func TestTheAppKeepsItsDataInTheDB(t *testing.T) {
	t.Parallel()
	srv, st := dbServer(t, "pw")
	app := newHandler(remoteFor(t, srv, "pw"), options{version: "1.6.0", title: "Our notes"})

	code, _ := do(t, app, http.MethodPut, "/kv/note", "hello")
	require.Equal(t, http.StatusOK, code)
	v, ok, err := st.get("note")
	require.NoError(t, err)
	assert.True(t, ok, "the value landed in the db's store")
	assert.Equal(t, "hello", v)
	code, body := do(t, app, http.MethodGet, "/kv/note", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "hello", body)
	code, _ = do(t, app, http.MethodGet, "/kv/other", "")
	assert.Equal(t, http.StatusNotFound, code)
	code, body = do(t, app, http.MethodGet, "/", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "<title>Our notes</title>")
	assert.Contains(t, body, `<span id="count">1</span> entries`)

	// A restore hook rewrites the db's store behind its back: the app sees it at once.
	require.NoError(t, os.WriteFile(st.path, []byte(`{}`), 0o644))
	code, _ = do(t, app, http.MethodGet, "/kv/note", "")
	assert.Equal(t, http.StatusNotFound, code)
}

func TestTheAppIsUnhealthyWhileTheDBIsNot(t *testing.T) {
	t.Parallel()
	srv, _ := dbServer(t, "pw")
	wrong := newHandler(remoteFor(t, srv, "not-the-password"), options{})
	code, body := do(t, wrong, http.MethodGet, "/healthz", "")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "401")
	code, _ = do(t, wrong, http.MethodGet, "/", "")
	assert.Equal(t, http.StatusServiceUnavailable, code, "no page without the db")

	srv.Close()
	gone := newHandler(remoteFor(t, srv, "pw"), options{})
	code, _ = do(t, gone, http.MethodGet, "/healthz", "")
	assert.Equal(t, http.StatusServiceUnavailable, code)
}

func TestRemoteReadsThePasswordFileWhenNoPasswordIsInTheEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pw := filepath.Join(dir, "db_password")
	require.NoError(t, os.WriteFile(pw, []byte("from-file\n"), 0o600))
	env := map[string]string{"DB_HOST": "db", "DB_PASSWORD_FILE": pw}
	r, ok, err := remoteFrom(func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "from-file", r.password, "the trailing newline is not part of the password")
	assert.Equal(t, "http://db:7000", r.base)

	env["DB_PASSWORD_FILE"] = filepath.Join(dir, "missing")
	_, _, err = remoteFrom(func(k string) string { return env[k] })
	assert.ErrorContains(t, err, "db password")

	_, ok, err = remoteFrom(func(string) string { return "" })
	require.NoError(t, err)
	assert.False(t, ok, "no DB_HOST: the local store")
}

func TestWorkerWaitsForTheDBThenGivesUp(t *testing.T) {
	t.Parallel()
	srv, _ := dbServer(t, "pw")
	assert.NoError(t, waitForDB(context.Background(), remoteFor(t, srv, "pw"), time.Second, 10*time.Millisecond))
	err := waitForDB(context.Background(), remoteFor(t, srv, "wrong"), 50*time.Millisecond, 10*time.Millisecond)
	assert.ErrorContains(t, err, "db did not answer within 50ms")

	env := map[string]string{"DB_HOST": "db", "DB_PASSWORD": "x", "WORKER_INTERVAL": "soon"}
	err = worker(context.Background(), func(k string) string { return env[k] }, os.Stdout)
	assert.ErrorContains(t, err, `WORKER_INTERVAL "soon"`)
}
