package fakegithub

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
)

const token = "ghp_fake"

// do sends one request to srv and returns the status, the Link header and the body.
func do(t *testing.T, srv *Server, method, path, auth, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Link"), string(b)
}

func TestAuthAndRouting(t *testing.T) {
	t.Parallel()
	srv := New(fakeforge.New("bot"), token)
	t.Cleanup(srv.Close)

	tests := []struct {
		name, method, path, auth string
		wantStatus               int
		wantBody                 string
	}{
		{name: "a Bearer token is accepted at the root", method: "GET", path: "/user", auth: "Bearer " + token,
			wantStatus: 200, wantBody: `"login":"bot"`},
		{name: "the legacy token scheme is accepted under /api/v3", method: "GET", path: "/api/v3/user", auth: "token " + token,
			wantStatus: 200, wantBody: `"login":"bot"`},
		{name: "no token is 401 Bad credentials", method: "GET", path: "/user",
			wantStatus: 401, wantBody: `"message":"Bad credentials"`},
		{name: "a wrong token is 401 Bad credentials", method: "GET", path: "/user", auth: "Bearer nope",
			wantStatus: 401, wantBody: `"message":"Bad credentials"`},
		{name: "an unknown route is 404 Not Found", method: "GET", path: "/repos/o/r/branches", auth: "Bearer " + token,
			wantStatus: 404, wantBody: `"message":"Not Found"`},
		{name: "a known route with another method is 404 Not Found", method: "DELETE", path: "/user", auth: "Bearer " + token,
			wantStatus: 404, wantBody: `"message":"Not Found"`},
		{name: "a path that only starts like /api/v3 is not stripped", method: "GET", path: "/api/v3user", auth: "Bearer " + token,
			wantStatus: 404, wantBody: `"message":"Not Found"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, _, body := do(t, srv, tt.method, tt.path, tt.auth, "")
			assert.Equal(t, tt.wantStatus, status)
			assert.Contains(t, body, tt.wantBody)
		})
	}
}

func TestEveryRequestIsRecordedAndFailuresAreForced(t *testing.T) {
	t.Parallel()
	st := fakeforge.New("bot")
	srv := New(st, token)
	t.Cleanup(srv.Close)

	st.Fail("/orgs/", http.StatusBadGateway)
	status, _, _ := do(t, srv, "GET", "/api/v3/orgs/o/members/u", "Bearer "+token, "")
	assert.Equal(t, http.StatusBadGateway, status)
	st.Fail("/orgs/", 0)
	status, _, _ = do(t, srv, "GET", "/orgs/o/members/u", "", "")
	assert.Equal(t, http.StatusUnauthorized, status)

	assert.Equal(t, []fakeforge.Call{
		{Method: "GET", Path: "/orgs/o/members/u", Status: http.StatusBadGateway},
		{Method: "GET", Path: "/orgs/o/members/u", Status: http.StatusUnauthorized},
	}, st.Calls())
}

func TestListsLinkTheirPagesLikeGitHub(t *testing.T) {
	t.Parallel()
	st := fakeforge.New("bot")
	st.AddPR(fakeforge.PR{Repo: "o/r", Number: 1, Open: true})
	for i := range 75 {
		st.AddComment("o/r", 1, "alice", fmt.Sprint(i))
	}
	srv := New(st, token)
	t.Cleanup(srv.Close)
	base := srv.URL + "/api/v3/repos/o/r/issues/1/comments"

	tests := []struct {
		name, query string
		wantN       int
		wantLink    string
	}{
		{name: "the first page of 30 links next and last", query: "",
			wantN: 30, wantLink: `<` + base + `?page=2>; rel="next", <` + base + `?page=3>; rel="last"`},
		{name: "a middle page links every relation", query: "?page=2",
			wantN: 30, wantLink: `<` + base + `?page=1>; rel="prev", <` + base + `?page=3>; rel="next", <` + base + `?page=3>; rel="last", <` + base + `?page=1>; rel="first"`},
		{name: "the last page has no next", query: "?page=3",
			wantN: 15, wantLink: `<` + base + `?page=2>; rel="prev", <` + base + `?page=1>; rel="first"`},
		{name: "per_page is capped at 100, so one page holds all", query: "?per_page=500", wantN: 75},
		{name: "a page past the end is empty", query: "?page=9&per_page=50", wantN: 0,
			wantLink: `<` + base + `?page=8&per_page=50>; rel="prev", <` + base + `?page=1&per_page=50>; rel="first"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, link, body := do(t, srv, "GET", "/api/v3/repos/o/r/issues/1/comments"+tt.query, "Bearer "+token, "")
			require.Equal(t, http.StatusOK, status)
			var got []comment
			require.NoError(t, json.Unmarshal([]byte(body), &got))
			assert.Len(t, got, tt.wantN)
			assert.Equal(t, tt.wantLink, link)
		})
	}
}

func TestWritesAnswerGitHubStatusCodes(t *testing.T) {
	t.Parallel()
	st := fakeforge.New("bot")
	st.AddPR(fakeforge.PR{Repo: "o/r", Number: 1, Open: true})
	c := st.AddComment("o/r", 1, "alice", "!testme")
	srv := New(st, token)
	t.Cleanup(srv.Close)
	auth := "Bearer " + token
	reactions := fmt.Sprintf("/repos/o/r/issues/comments/%d/reactions", c.ID)

	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{name: "a new comment is 201", method: "POST", path: "/repos/o/r/issues/1/comments", body: `{"body":"hi"}`, want: 201},
		{name: "a comment on no issue is 404", method: "POST", path: "/repos/o/r/issues/2/comments", body: `{"body":"hi"}`, want: 404},
		{name: "a comment without body is 422", method: "POST", path: "/repos/o/r/issues/1/comments", body: `{}`, want: 422},
		{name: "a body that is not JSON is 400", method: "POST", path: "/repos/o/r/issues/1/comments", body: `{`, want: 400},
		{name: "an edit is 200", method: "PATCH", path: fmt.Sprintf("/repos/o/r/issues/comments/%d", c.ID), body: `{"body":"x"}`, want: 200},
		{name: "an edit of a comment of another repo is 404", method: "PATCH", path: fmt.Sprintf("/repos/o/other/issues/comments/%d", c.ID), body: `{"body":"x"}`, want: 404},
		{name: "an unknown reaction is 422", method: "POST", path: reactions, body: `{"content":"party"}`, want: 422},
		{name: "a status with an unknown state is 422", method: "POST", path: "/repos/o/r/statuses/abc", body: `{"state":"running"}`, want: 422},
		{name: "a status description over 140 characters is 422", method: "POST", path: "/repos/o/r/statuses/abc",
			body: `{"state":"success","description":"` + strings.Repeat("x", 141) + `"}`, want: 422},
		{name: "a valid status is 201", method: "POST", path: "/repos/o/r/statuses/abc", body: `{"state":"success"}`, want: 201},
		{name: "listing closed PRs is refused, not answered wrongly", method: "GET", path: "/repos/o/r/pulls?state=closed", want: 501},
	}
	// The group returns only when its parallel cases are done, so the check below sees them all.
	t.Run("answers", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				status, _, body := do(t, srv, tt.method, tt.path, auth, tt.body)
				assert.Equal(t, tt.want, status, body)
			})
		}
	})
	t.Run("a status without context gets GitHub's default context", func(t *testing.T) {
		got := st.Statuses("o/r", "abc")
		require.Len(t, got, 1, "only the valid status was recorded")
		assert.Equal(t, "default", got[0].Context)
	})
}
