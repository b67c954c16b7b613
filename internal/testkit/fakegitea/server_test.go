package fakegitea

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

const testToken = "tok"

// answer is one raw exchange with the fake, for checks of the wire format itself.
type answer struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, s *Server, method, path, auth, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	// Redirects are part of the wire format under test: do not follow them.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func newServer(t *testing.T) *Server {
	t.Helper()
	s := New(fakeforge.New("bot"), testToken)
	t.Cleanup(s.Close)
	return s
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tests := []struct {
		name, method, path, auth string
		want                     int
	}{
		{"the SDK's token header is accepted", "GET", "/api/v1/user", "token " + testToken, 200},
		{"a bearer header is accepted", "GET", "/api/v1/user", "Bearer " + testToken, 200},
		{"a wrong token is 401", "GET", "/api/v1/user", "token nope", 401},
		{"no token is 401", "GET", "/api/v1/user", "", 401},
		{"basic auth is not a token", "GET", "/api/v1/user", "Basic " + testToken, 401},
		{"the version needs no token", "GET", "/api/v1/version", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, s, tt.method, tt.path, tt.auth, "")
			assert.Equal(t, tt.want, a.status)
			if tt.want == 401 {
				assert.JSONEq(t, `{"message":"token is required","url":"/api/swagger"}`, a.body)
			}
		})
	}
}

func TestVersionUserAndUnknownRoutes(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	assert.JSONEq(t, `{"version":"1.22.0"}`, do(t, s, "GET", "/api/v1/version", "", "").body)

	var u map[string]any
	require.NoError(t, json.Unmarshal([]byte(do(t, s, "GET", "/api/v1/user", "token "+testToken, "").body), &u))
	assert.Equal(t, "bot", u["login"])

	for _, p := range []string{"/api/v1/repos/o/r/issues", "/api/v2/user", "/user"} {
		a := do(t, s, "GET", p, "token "+testToken, "")
		assert.Equal(t, 404, a.status, p)
		assert.JSONEq(t, `{"message":"The target couldn't be found.","url":"/api/swagger","errors":[]}`, a.body, p)
	}
	calls := s.State().Calls()
	assert.Equal(t, fakeforge.Call{Method: "GET", Path: "/version", Status: 200}, calls[0], "recorded without /api/v1")
}

func TestPullListPagination(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for i := 1; i <= 120; i++ {
		s.State().AddPR(fakeforge.PR{Repo: "o/r", Number: i, Open: true})
	}
	numbers := func(body string) []int {
		var prs []struct {
			Number int `json:"number"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &prs))
		var out []int
		for _, p := range prs {
			out = append(out, p.Number)
		}
		return out
	}
	link := func(page int, rel string) string {
		return fmt.Sprintf(`<%s/api/v1/repos/o/r/pulls?limit=50&page=%d&state=open>; rel="%s"`, s.URL, page, rel)
	}
	tests := []struct {
		name, query  string
		wantFirst    int
		wantLen      int
		wantLink     string
		wantOnlyLink bool
	}{
		{"page 1 is the newest 50, with next and last", "state=open&page=1&limit=50", 120, 50, link(2, "next") + "," + link(3, "last"), true},
		{"a middle page links every way", "state=open&page=2&limit=50", 70, 50, link(3, "next") + "," + link(3, "last") + "," + link(1, "first") + "," + link(1, "prev"), true},
		{"the last page is short and has no next", "state=open&page=3&limit=50", 20, 20, link(1, "first") + "," + link(2, "prev"), true},
		{"a limit over MAX_RESPONSE_ITEMS is cut to 50", "state=open&page=1&limit=500", 120, 50, "", false},
		{"no limit is DEFAULT_PAGING_NUM, 30", "state=open", 120, 30, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, s, "GET", "/api/v1/repos/o/r/pulls?"+tt.query, "token "+testToken, "")
			require.Equal(t, 200, a.status)
			got := numbers(a.body)
			require.Len(t, got, tt.wantLen)
			assert.Equal(t, tt.wantFirst, got[0])
			assert.Equal(t, "120", a.header.Get("X-Total-Count"))
			if tt.wantOnlyLink {
				assert.Equal(t, tt.wantLink, a.header.Get("Link"))
			}
		})
	}
}

func TestCommentsAreOneUnpagedAnswer(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for i := range 60 {
		s.State().AddComment("o/r", 1, "alice", fmt.Sprint(i))
	}
	a := do(t, s, "GET", "/api/v1/repos/o/r/issues/1/comments?page=2&limit=10", "token "+testToken, "")
	require.Equal(t, 200, a.status)
	var cs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(a.body), &cs))
	assert.Len(t, cs, 60, "page and limit are ignored")
	assert.Empty(t, a.header.Get("Link"))
	assert.Equal(t, "60", a.header.Get("X-Total-Count"))
	assert.Equal(t, "alice", cs[0]["user"].(map[string]any)["login"])
	assert.NotContains(t, cs[0]["created_at"], ".", "whole seconds")

	bad := do(t, s, "GET", "/api/v1/repos/o/r/issues/1/comments?since=yesterday", "token "+testToken, "")
	assert.Equal(t, 422, bad.status)
}

func TestWritesAnswerLikeGitea(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := s.State().AddComment("o/r", 1, "alice", "!testme")
	auth := "token " + testToken
	react := fmt.Sprintf("/api/v1/repos/o/r/issues/comments/%d/reactions", c.ID)

	assert.Equal(t, 201, do(t, s, "POST", react, auth, `{"content":"eyes"}`).status)
	assert.Equal(t, 200, do(t, s, "POST", react, auth, `{"content":"eyes"}`).status, "an existing reaction")
	assert.Equal(t, 403, do(t, s, "POST", react, auth, `{"content":"tada"}`).status, "not an allowed reaction")
	assert.Equal(t, 422, do(t, s, "POST", "/api/v1/repos/o/r/issues/1/comments", auth, `{}`).status, "body is required")
	assert.Equal(t, 403, do(t, s, "PATCH", fmt.Sprintf("/api/v1/repos/o/r/issues/comments/%d", c.ID), auth, `{"body":"x"}`).status,
		"editing another's comment without write access")

	st := do(t, s, "POST", "/api/v1/repos/o/r/statuses/abc", auth, `{"state":"pending","context":"cc-ci/testme","description":"d"}`)
	assert.Equal(t, 201, st.status)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(st.body), &got))
	assert.Equal(t, "pending", got["status"], "the state goes out as status")
}

func TestMembershipAndPermissionVisibility(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	auth := "token " + testToken
	s.State().AddMember("org", "alice")

	a := do(t, s, "GET", "/api/v1/orgs/org/members/alice", auth, "")
	assert.Equal(t, http.StatusSeeOther, a.status, "a bot outside the org is sent to the public list")
	assert.Equal(t, "/api/v1/orgs/org/public_members/alice", a.header.Get("Location"))
	assert.Equal(t, 404, do(t, s, "GET", "/api/v1/orgs/org/public_members/alice", auth, "").status)

	s.State().AddMember("org", "bot")
	assert.Equal(t, 204, do(t, s, "GET", "/api/v1/orgs/org/members/alice", auth, "").status)
	assert.Equal(t, 404, do(t, s, "GET", "/api/v1/orgs/org/members/mallory", auth, "").status)

	perm := "/api/v1/repos/o/r/collaborators/alice/permission"
	assert.Equal(t, 403, do(t, s, "GET", perm, auth, "").status, "the bot is no repo admin")
	s.State().SetPermission("o/r", "bot", "admin")
	s.State().SetPermission("o/r", "alice", "owner")
	p := do(t, s, "GET", perm, auth, "")
	require.Equal(t, 200, p.status)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(p.body), &got))
	assert.Equal(t, "owner", got["permission"])
	assert.Equal(t, "owner", got["role_name"])
	assert.Equal(t, "alice", got["user"].(map[string]any)["login"])
}

func TestFailForcesAStatusOnAPathPrefix(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.State().Fail("/repos/o/r/statuses", http.StatusServiceUnavailable)
	a := do(t, s, "POST", "/api/v1/repos/o/r/statuses/abc", "", `{}`)
	assert.Equal(t, 503, a.status, "before authentication, like an outage would")
	assert.Empty(t, s.State().Statuses("o/r", "abc"))
	s.State().Fail("/repos/o/r/statuses", 0)
	assert.Equal(t, 201, do(t, s, "POST", "/api/v1/repos/o/r/statuses/abc", "token "+testToken, `{"state":"success"}`).status)
}
