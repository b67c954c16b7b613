package forge

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/bridge/event"
	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
	"coopcloud.tech/cc-ci/internal/testkit/fakegitea"
)

const (
	giteaTestToken = "gitea-test-token"
	giteaTestBot   = "ccci-bot"
	giteaTestRepo  = "coop-cloud/traefik"
	giteaTestSHA   = "0123456789abcdef0123456789abcdef01234567"
)

// newGiteaFake starts a fake Gitea on fresh state, closed with the test.
func newGiteaFake(t *testing.T) *fakegitea.Server {
	t.Helper()
	srv := fakegitea.New(fakeforge.New(giteaTestBot), giteaTestToken)
	t.Cleanup(srv.Close)
	return srv
}

// newGiteaForge is the real client, with token, pointed at srv.
func newGiteaForge(t *testing.T, srv *fakegitea.Server, token string) *Gitea {
	t.Helper()
	g, err := NewGitea(srv.URL, token, nil)
	require.NoError(t, err)
	return g
}

// giteaCalls counts the requests the fake served for method and path.
func giteaCalls(st *fakeforge.State, method, path string) int {
	n := 0
	for _, c := range st.Calls() {
		if c.Method == method && c.Path == path {
			n++
		}
	}
	return n
}

func TestGiteaNameIsTheGiteaEventForge(t *testing.T) {
	t.Parallel()
	g := newGiteaForge(t, newGiteaFake(t), giteaTestToken)
	assert.Equal(t, event.Gitea, g.Name())
}

func TestNewGitea(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url, token string
		wantErr          string
	}{
		{"an https instance URL and a token are accepted", "https://git.coopcloud.tech", "t", ""},
		{"a URL with a trailing slash and a sub-path is accepted", "http://example.org/gitea/", "t", ""},
		{"a dead server is no start-up error: nothing is asked at construction", "http://127.0.0.1:1", "t", ""},
		{"an empty token is refused", "https://git.coopcloud.tech", "", "empty API token"},
		{"an empty URL is refused", "", "t", "want http(s)://host"},
		{"a URL of another scheme is refused", "ftp://git.coopcloud.tech", "t", "want http(s)://host"},
		{"an unparsable URL is refused", "http://[::1", "t", "base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, err := NewGitea(tt.url, tt.token, nil)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.NotNil(t, g)
		})
	}
}

func TestNewGiteaDoesNoNetworkIO(t *testing.T) {
	t.Parallel()
	srv := newGiteaFake(t)
	newGiteaForge(t, srv, giteaTestToken)
	assert.Empty(t, srv.State().Calls(), "no version probe, no request of any kind")
}

func TestGiteaBotLoginIsTheTokensUserAskedOnce(t *testing.T) {
	t.Parallel()
	srv := newGiteaFake(t)
	g := newGiteaForge(t, srv, giteaTestToken)
	for range 2 {
		bot, err := g.BotLogin(context.Background())
		require.NoError(t, err)
		assert.Equal(t, giteaTestBot, bot)
	}
	assert.Equal(t, 1, giteaCalls(srv.State(), http.MethodGet, "/user"))
}

// giteaEveryMethod calls each Forge method once on repo; a non-nil error is the method's.
var giteaEveryMethod = []struct {
	name string
	call func(context.Context, *Gitea) error
}{
	{"BotLogin", func(ctx context.Context, g *Gitea) error { _, err := g.BotLogin(ctx); return err }},
	{"PullRequest", func(ctx context.Context, g *Gitea) error { _, err := g.PullRequest(ctx, giteaTestRepo, 1); return err }},
	{"OpenPullRequests", func(ctx context.Context, g *Gitea) error {
		_, err := g.OpenPullRequests(ctx, giteaTestRepo)
		return err
	}},
	{"Comments", func(ctx context.Context, g *Gitea) error {
		_, err := g.Comments(ctx, giteaTestRepo, 1, time.Time{})
		return err
	}},
	{"CreateComment", func(ctx context.Context, g *Gitea) error {
		_, err := g.CreateComment(ctx, giteaTestRepo, 1, "hi")
		return err
	}},
	{"EditComment", func(ctx context.Context, g *Gitea) error { return g.EditComment(ctx, giteaTestRepo, 1001, "edited") }},
	{"React", func(ctx context.Context, g *Gitea) error { return g.React(ctx, giteaTestRepo, 1001, "eyes") }},
	{"SetStatus", func(ctx context.Context, g *Gitea) error {
		return g.SetStatus(ctx, giteaTestRepo, giteaTestSHA, Status{State: StatePending, Context: StatusContext})
	}},
	{"IsOrgMember", func(ctx context.Context, g *Gitea) error {
		_, err := g.IsOrgMember(ctx, "coop-cloud", "alice")
		return err
	}},
	{"Permission", func(ctx context.Context, g *Gitea) error {
		_, err := g.Permission(ctx, giteaTestRepo, "alice")
		return err
	}},
}

// seedGitea gives srv's state one open PR #1 with comment 1001, and the bot the org membership
// and repo admin a real deployment needs: with all that, every method succeeds.
func seedGitea(st *fakeforge.State) {
	st.AddPR(fakeforge.PR{Repo: giteaTestRepo, Number: 1, Open: true, HeadSHA: giteaTestSHA, Author: "alice"})
	st.AddComment(giteaTestRepo, 1, "alice", "!testme") // the first id the state hands out is 1001
	st.AddMember("coop-cloud", giteaTestBot)
	st.SetPermission(giteaTestRepo, giteaTestBot, "admin")
}

func TestGiteaEveryMethodSucceedsOnASeededForge(t *testing.T) {
	t.Parallel()
	for _, m := range giteaEveryMethod {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			srv := newGiteaFake(t)
			seedGitea(srv.State())
			assert.NoError(t, m.call(context.Background(), newGiteaForge(t, srv, giteaTestToken)))
		})
	}
}

func TestGiteaEveryMethodFailsWithABadToken(t *testing.T) {
	t.Parallel()
	for _, m := range giteaEveryMethod {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			srv := newGiteaFake(t)
			seedGitea(srv.State())
			err := m.call(context.Background(), newGiteaForge(t, srv, "not-the-token"))
			require.Error(t, err)
			calls := srv.State().Calls()
			require.NotEmpty(t, calls)
			assert.Equal(t, http.StatusUnauthorized, calls[0].Status)
		})
	}
}

func TestGiteaEveryMethodFailsOnA5xxAndNamesWhatItAsked(t *testing.T) {
	t.Parallel()
	for _, m := range giteaEveryMethod {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			srv := newGiteaFake(t)
			seedGitea(srv.State())
			for _, prefix := range []string{"/user", "/repos/", "/orgs/"} {
				srv.State().Fail(prefix, http.StatusBadGateway)
			}
			err := m.call(context.Background(), newGiteaForge(t, srv, giteaTestToken))
			require.Error(t, err)
			assert.ErrorContains(t, err, "HTTP 502")
			switch m.name {
			case "BotLogin":
				assert.ErrorContains(t, err, "authenticated user")
			case "IsOrgMember":
				assert.ErrorContains(t, err, "coop-cloud")
			default:
				assert.ErrorContains(t, err, giteaTestRepo)
			}
		})
	}
}

func TestGiteaAMalformedRepoIsAnErrorWithoutARequest(t *testing.T) {
	t.Parallel()
	srv := newGiteaFake(t)
	g := newGiteaForge(t, srv, giteaTestToken)
	for _, repo := range []string{"", "traefik", "/traefik", "coop-cloud/", "a/b/c"} {
		_, err := g.PullRequest(context.Background(), repo, 1)
		assert.ErrorContains(t, err, "is not owner/name", repo)
	}
	assert.Empty(t, srv.State().Calls())
}

func TestGiteaPullRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pr      fakeforge.PR
		number  int
		want    PullRequest
		wantErr string
	}{
		{
			name:   "an open PR has its head, the base clone URL and its author",
			pr:     fakeforge.PR{Repo: giteaTestRepo, Number: 7, Open: true, HeadSHA: giteaTestSHA, Author: "alice", CloneURL: "https://git.coopcloud.tech/coop-cloud/traefik.git"},
			number: 7,
			want:   PullRequest{Number: 7, Open: true, HeadSHA: giteaTestSHA, CloneURL: "https://git.coopcloud.tech/coop-cloud/traefik.git", Author: "alice"},
		},
		{
			name:   "a closed PR is returned, not open",
			pr:     fakeforge.PR{Repo: giteaTestRepo, Number: 8, Open: false, HeadSHA: giteaTestSHA, Author: "bob", CloneURL: "https://x/c.git"},
			number: 8,
			want:   PullRequest{Number: 8, Open: false, HeadSHA: giteaTestSHA, CloneURL: "https://x/c.git", Author: "bob"},
		},
		{
			name:    "a PR that does not exist is an error naming it",
			pr:      fakeforge.PR{Repo: giteaTestRepo, Number: 9, Open: true},
			number:  99,
			wantErr: giteaTestRepo + "#99: HTTP 404",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newGiteaFake(t)
			srv.State().AddPR(tt.pr)
			got, err := newGiteaForge(t, srv, giteaTestToken).PullRequest(context.Background(), giteaTestRepo, tt.number)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestGiteaOpenPullRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		open, closed      int
		wantPageRequests  int
		wantFirst, wantLn int
	}{
		{"70 open PRs come back in full over two pages of 50", 70, 5, 2, 1, 70},
		{"exactly one full page is one request", 50, 0, 1, 1, 50},
		{"a repo without open PRs is an empty list after one request", 0, 3, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newGiteaFake(t)
			for i := 1; i <= tt.open+tt.closed; i++ {
				srv.State().AddPR(fakeforge.PR{Repo: giteaTestRepo, Number: i, Open: i <= tt.open, HeadSHA: fmt.Sprintf("%040d", i)})
			}
			srv.State().AddPR(fakeforge.PR{Repo: "coop-cloud/other", Number: 1000, Open: true})
			got, err := newGiteaForge(t, srv, giteaTestToken).OpenPullRequests(context.Background(), giteaTestRepo)
			require.NoError(t, err)
			require.Len(t, got, tt.wantLn)
			for i, pr := range got {
				assert.Equal(t, i+1, pr.Number, "by number, each once")
				assert.True(t, pr.Open)
				assert.Equal(t, fmt.Sprintf("%040d", i+1), pr.HeadSHA)
			}
			assert.Equal(t, tt.wantPageRequests, giteaCalls(srv.State(), http.MethodGet, "/repos/"+giteaTestRepo+"/pulls"))
		})
	}
}

func TestGiteaComments(t *testing.T) {
	t.Parallel()
	srv := newGiteaFake(t)
	st := srv.State()
	for i := range 130 {
		st.AddComment(giteaTestRepo, 3, "alice", fmt.Sprintf("comment %d", i))
	}
	st.AddComment(giteaTestRepo, 4, "alice", "another PR's comment")
	first := st.Comments(giteaTestRepo, 3)[0].Created
	last := st.Comments(giteaTestRepo, 3)[129].Updated
	g := newGiteaForge(t, srv, giteaTestToken)

	tests := []struct {
		name  string
		since time.Time
		want  int
	}{
		{"no since is every comment, 130 in one answer (Gitea does not page comments)", time.Time{}, 130},
		{"a since before the first comment is every comment", first.Add(-time.Hour), 130},
		{"a since late in the second of the last update still includes it: Gitea keeps whole seconds", last.Truncate(time.Second).Add(999 * time.Millisecond), -1},
		{"a since in the next second is nothing", last.Truncate(time.Second).Add(time.Second), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := giteaCalls(st, http.MethodGet, "/repos/"+giteaTestRepo+"/issues/3/comments")
			got, err := g.Comments(context.Background(), giteaTestRepo, 3, tt.since)
			require.NoError(t, err)
			if tt.want >= 0 {
				assert.Len(t, got, tt.want)
			} else {
				require.NotEmpty(t, got)
				assert.Equal(t, "comment 129", got[len(got)-1].Body)
			}
			for i := 1; i < len(got); i++ {
				assert.False(t, got[i].Created.Before(got[i-1].Created), "oldest first")
				assert.Less(t, got[i-1].ID, got[i].ID)
			}
			for _, c := range got {
				assert.Equal(t, "alice", c.Author)
				assert.True(t, strings.HasPrefix(c.Body, "comment "), c.Body)
			}
			assert.Equal(t, before+1, giteaCalls(st, http.MethodGet, "/repos/"+giteaTestRepo+"/issues/3/comments"))
		})
	}
}

func TestGiteaCreateAndEditComment(t *testing.T) {
	t.Parallel()
	srv := newGiteaFake(t)
	st := srv.State()
	g := newGiteaForge(t, srv, giteaTestToken)
	ctx := context.Background()

	id, err := g.CreateComment(ctx, giteaTestRepo, 5, "<!-- cc-ci -->\nrunning")
	require.NoError(t, err)
	c, ok := st.Comment(giteaTestRepo, id)
	require.True(t, ok, "the returned id is the new comment's")
	assert.Equal(t, giteaTestBot, c.Author)
	assert.Equal(t, 5, c.PR)

	require.NoError(t, g.EditComment(ctx, giteaTestRepo, id, "<!-- cc-ci -->\npassed"))
	c, _ = st.Comment(giteaTestRepo, id)
	assert.Equal(t, "<!-- cc-ci -->\npassed", c.Body)
	assert.Equal(t, 1, c.Edits)

	other := st.AddComment(giteaTestRepo, 5, "alice", "!testme")
	err = g.EditComment(ctx, giteaTestRepo, other.ID, "hijacked")
	assert.ErrorContains(t, err, "HTTP 403", "someone else's comment needs write access")
	assert.ErrorContains(t, g.EditComment(ctx, giteaTestRepo, 424242, "x"), "comment 424242 of "+giteaTestRepo+": HTTP 404")
	assert.ErrorContains(t, g.EditComment(ctx, "coop-cloud/other", id, "x"), "HTTP 404", "a comment id of another repo")
	_, err = g.CreateComment(ctx, giteaTestRepo, 5, "")
	assert.Error(t, err, "an empty body is refused")
}

func TestGiteaReact(t *testing.T) {
	t.Parallel()
	srv := newGiteaFake(t)
	st := srv.State()
	c := st.AddComment(giteaTestRepo, 1, "alice", "!testme")
	g := newGiteaForge(t, srv, giteaTestToken)
	path := fmt.Sprintf("/repos/%s/issues/comments/%d/reactions", giteaTestRepo, c.ID)

	require.NoError(t, g.React(context.Background(), giteaTestRepo, c.ID, "eyes"))
	require.NoError(t, g.React(context.Background(), giteaTestRepo, c.ID, "eyes"), "an existing reaction is success")
	assert.Equal(t, []fakeforge.Reaction{{Repo: giteaTestRepo, CommentID: c.ID, User: giteaTestBot, Content: "eyes"}},
		st.Reactions(giteaTestRepo, c.ID))
	var statuses []int
	for _, call := range st.Calls() {
		if call.Path == path {
			statuses = append(statuses, call.Status)
		}
	}
	assert.Equal(t, []int{http.StatusCreated, http.StatusOK}, statuses)

	assert.ErrorContains(t, g.React(context.Background(), giteaTestRepo, c.ID, "thumbsup"), "HTTP 403")
	assert.ErrorContains(t, g.React(context.Background(), giteaTestRepo, 9999, "eyes"), "comment 9999 of "+giteaTestRepo)
}

func TestGiteaSetStatus(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 200)
	tests := []struct {
		name     string
		status   Status
		wantDesc string
		wantErr  string
	}{
		{"a short description is kept", Status{StatePending, "https://drone/1", "running", StatusContext}, "running", ""},
		{"a description of 140 characters is kept", Status{StateSuccess, "", strings.Repeat("é", 140), StatusContext}, strings.Repeat("é", 140), ""},
		{"a longer description is cut to 140 characters", Status{StateFailure, "", long, StatusContext}, strings.Repeat("é", 139) + "…", ""},
		{"an unknown state is refused before any request", Status{"warning", "", "", StatusContext}, "", `unknown state "warning"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newGiteaFake(t)
			err := newGiteaForge(t, srv, giteaTestToken).SetStatus(context.Background(), giteaTestRepo, giteaTestSHA, tt.status)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				assert.Empty(t, srv.State().Calls())
				return
			}
			require.NoError(t, err)
			got := srv.State().Statuses(giteaTestRepo, giteaTestSHA)
			require.Len(t, got, 1)
			assert.Equal(t, string(tt.status.State), got[0].State)
			assert.Equal(t, tt.status.TargetURL, got[0].TargetURL)
			assert.Equal(t, tt.wantDesc, got[0].Description)
			assert.Equal(t, StatusContext, got[0].Context)
		})
	}
}

func TestGiteaIsOrgMember(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		botMember        bool
		members          []string
		org, user        string
		want             bool
		wantPublicLookup bool
	}{
		{"a member is a member when the bot is one too", true, []string{"alice"}, "coop-cloud", "alice", true, false},
		{"a non-member is not", true, []string{"alice"}, "coop-cloud", "mallory", false, false},
		{"a private member is invisible to a bot outside the org", false, []string{"alice"}, "coop-cloud", "alice", false, true},
		{"a user-owned repo's owner is no org: false, not an error", false, nil, "alice", "alice", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newGiteaFake(t)
			for _, m := range tt.members {
				srv.State().AddMember(tt.org, m)
			}
			if tt.botMember {
				srv.State().AddMember(tt.org, giteaTestBot)
			}
			got, err := newGiteaForge(t, srv, giteaTestToken).IsOrgMember(context.Background(), tt.org, tt.user)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			public := giteaCalls(srv.State(), http.MethodGet, "/orgs/"+tt.org+"/public_members/"+tt.user)
			assert.Equal(t, tt.wantPublicLookup, public == 1, "followed Gitea's 303 to public_members")
		})
	}
}

func TestGiteaPermission(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		botPerm  string
		user     string
		userPerm string
		want     Permission
		wantErr  string
	}{
		{"admin is admin", "admin", "alice", "admin", PermAdmin, ""},
		{"owner counts as admin", "admin", "alice", "owner", PermAdmin, ""},
		{"write is write", "admin", "alice", "write", PermWrite, ""},
		{"read is read", "admin", "alice", "read", PermRead, ""},
		{"no access is none", "admin", "alice", "none", PermNone, ""},
		{"a word Gitea does not use is an error, never a guess", "admin", "alice", "maintain", PermNone, `unknown word "maintain"`},
		{"a bot that is no repo admin cannot ask about others: an error", "write", "alice", "admin", PermNone, "permission of alice on " + giteaTestRepo + ": HTTP 403"},
		{"a bot may always ask about itself", "write", giteaTestBot, "write", PermWrite, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newGiteaFake(t)
			srv.State().SetPermission(giteaTestRepo, giteaTestBot, tt.botPerm)
			srv.State().SetPermission(giteaTestRepo, tt.user, tt.userPerm)
			got, err := newGiteaForge(t, srv, giteaTestToken).Permission(context.Background(), giteaTestRepo, tt.user)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestGiteaACancelledContextStopsTheCall(t *testing.T) {
	t.Parallel()
	srv := newGiteaFake(t)
	seedGitea(srv.State())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newGiteaForge(t, srv, giteaTestToken).PullRequest(ctx, giteaTestRepo, 1)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, srv.State().Calls())
}

func TestGiteaPagesFollowsNextAndStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		next      func(page int) int
		wantPages int
		wantErr   string
	}{
		{"no next page is one request", func(int) int { return 0 }, 1, ""},
		{"next pages are followed until there is none", func(p int) int { return (p + 1) % 4 }, 3, ""},
		{"a next that points back at the same page stops", func(p int) int { return p }, 1, ""},
		{"a next that never ends is an error, not a hang", func(p int) int { return p + 1 }, giteaMaxPages, "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pages := 0
			err := giteaPages(func(page int) (int, error) {
				pages++
				assert.Equal(t, pages, page, "pages in order from 1")
				return tt.next(page), nil
			})
			assert.Equal(t, tt.wantPages, pages)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			assert.NoError(t, err)
		})
	}
}
