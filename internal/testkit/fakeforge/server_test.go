package fakeforge

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startTest starts a Server whose front strips /api, wants "Authorization: ok", answers a forced
// failure with "failed" and a refusal with "refused", and whose one route answers 204.
func startTest(t *testing.T) *Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/thing", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	s := Start(New("bot"), Front{
		Route: func(r *http.Request) (string, *http.Request) {
			path, _ := CutPrefix(r.URL.Path, "/api")
			return path, r
		},
		Authorized: func(r *http.Request, path string) bool {
			return path == "/public" || r.Header.Get("Authorization") == "ok"
		},
		Failure: func(w http.ResponseWriter, status int) {
			w.WriteHeader(status)
			_, _ = w.Write([]byte("failed"))
		},
		Unauthorized: func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte("refused"))
		},
	}, mux)
	t.Cleanup(s.Close)
	return s
}

func get(t *testing.T, s *Server, path, auth string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+path, nil)
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestServerFront(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		fail     string // a State.Fail prefix, "" for none
		path     string
		auth     string
		want     int
		wantBody string
	}{
		{name: "a request with the token reaches the routes", path: "/api/thing", auth: "ok", want: http.StatusNoContent},
		{name: "a request without the token gets the forge's refusal", path: "/api/thing", want: http.StatusUnauthorized, wantBody: "refused"},
		{name: "a forced failure answers before the token is looked at", fail: "/thing", path: "/api/thing", want: http.StatusBadGateway, wantBody: "failed"},
		{name: "a forced failure matches the routed path, not the wire path", fail: "/api", path: "/api/thing", auth: "ok", want: http.StatusNoContent},
		{name: "a route the forge serves without a token passes on to the routes", path: "/api/public", want: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startTest(t)
			if tt.fail != "" {
				s.State().Fail(tt.fail, http.StatusBadGateway)
			}
			status, body := get(t, s, tt.path, tt.auth)
			assert.Equal(t, tt.want, status)
			if tt.wantBody != "" {
				assert.Equal(t, tt.wantBody, body)
			}
			wantPath, _ := CutPrefix(tt.path, "/api")
			assert.Equal(t, []Call{{Method: http.MethodGet, Path: wantPath, Status: tt.want}}, s.State().Calls(),
				"every request is recorded under its routed path with the status it got")
		})
	}
}

func TestCutPrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path, want string
		ok               bool
	}{
		{"a path under the prefix loses it", "/api/v1/user", "/user", true},
		{"the prefix itself is the empty path", "/api/v1", "", true},
		{"a longer segment is not under the prefix", "/api/v10/user", "/api/v10/user", false},
		{"a path elsewhere is kept", "/user", "/user", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := CutPrefix(tt.path, "/api/v1")
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.ok, ok)
		})
	}
}

func TestCommentRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		path     string
		wantRepo string
		wantID   int64
		wantOK   bool
	}{
		{"a numeric id names the comment of the repo", "/repos/o/r/issues/comments/42", "o/r", 42, true},
		{"an id that is no number is no comment", "/repos/o/r/issues/comments/x", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mux := http.NewServeMux()
			var repo string
			var id int64
			var ok bool
			mux.HandleFunc("/repos/{owner}/{repo}/issues/comments/{id}", func(_ http.ResponseWriter, r *http.Request) {
				repo, id, ok = CommentRef(r)
			})
			mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, tt.path, nil))
			assert.Equal(t, tt.wantRepo, repo)
			assert.Equal(t, tt.wantID, id)
			assert.Equal(t, tt.wantOK, ok)
		})
	}
}

func TestAddReactionReportsWhetherItIsNew(t *testing.T) {
	t.Parallel()
	s := New("bot")
	r := Reaction{Repo: "o/r", CommentID: 1, User: "bot", Content: "eyes"}
	assert.True(t, s.AddReaction(r), "the first reaction is new")
	assert.False(t, s.AddReaction(r), "the same reaction again is not")
	assert.True(t, s.AddReaction(Reaction{Repo: "o/r", CommentID: 1, User: "bot", Content: "rocket"}), "another content is new")
	assert.Len(t, s.Reactions("o/r", 1), 2, "the repeat is kept once")
}
