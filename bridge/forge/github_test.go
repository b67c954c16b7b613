package forge

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/bridge/event"
	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
	"coopcloud.tech/cc-ci/internal/testkit/fakegithub"
)

const (
	ghToken = "ghp_test-token"
	ghBot   = "cc-ci-bot"
	ghRepo  = "coop-cloud/keycloak"
	ghSHA   = "0123456789abcdef0123456789abcdef01234567"
)

// newGitHubFake starts a fake GitHub with an empty state that belongs to ghBot.
func newGitHubFake(t *testing.T) *fakegithub.Server {
	t.Helper()
	srv := fakegithub.New(fakeforge.New(ghBot), ghToken)
	t.Cleanup(srv.Close)
	return srv
}

// newGitHubClient is the real go-github client, pointed at srv as a GitHub Enterprise Server.
func newGitHubClient(t *testing.T, srv *fakegithub.Server, token string) *GitHub {
	t.Helper()
	g, err := NewGitHub(srv.URL, token, nil)
	require.NoError(t, err)
	return g
}

// gets counts the GET requests the fake served on path.
func gets(st *fakeforge.State, path string) int {
	n := 0
	for _, c := range st.Calls() {
		if c.Method == http.MethodGet && c.Path == path {
			n++
		}
	}
	return n
}

func TestNewGitHubRefusesAnEmptyToken(t *testing.T) {
	t.Parallel()
	_, err := NewGitHub("", "", nil)
	require.Error(t, err)
}

func TestGitHubNameAndBotLogin(t *testing.T) {
	t.Parallel()
	srv := newGitHubFake(t)
	g := newGitHubClient(t, srv, ghToken)
	assert.Equal(t, event.GitHub, g.Name())

	for range 2 {
		login, err := g.BotLogin(t.Context())
		require.NoError(t, err)
		assert.Equal(t, ghBot, login)
	}
	assert.Equal(t, 1, gets(srv.State(), "/user"), "the login is asked once, then remembered")
}

func TestGitHubPullRequest(t *testing.T) {
	t.Parallel()
	srv := newGitHubFake(t)
	st := srv.State()
	st.AddPR(fakeforge.PR{Repo: ghRepo, Number: 7, Open: true, HeadSHA: ghSHA, HeadRef: "fix", Author: "alice", Title: "Fix"})
	st.AddPR(fakeforge.PR{Repo: ghRepo, Number: 8, Open: false, HeadSHA: ghSHA, Author: "bob", CloneURL: "https://github.com/coop-cloud/keycloak.git"})
	g := newGitHubClient(t, srv, ghToken)

	tests := []struct {
		name    string
		repo    string
		number  int
		want    PullRequest
		wantErr string
	}{
		{name: "an open PR has its head, author and the base clone URL", repo: ghRepo, number: 7,
			want: PullRequest{Number: 7, Open: true, HeadSHA: ghSHA, CloneURL: srv.URL + "/" + ghRepo + ".git", Author: "alice"}},
		{name: "a closed PR is returned, not open", repo: ghRepo, number: 8,
			want: PullRequest{Number: 8, Open: false, HeadSHA: ghSHA, CloneURL: "https://github.com/coop-cloud/keycloak.git", Author: "bob"}},
		{name: "an unknown PR is an error naming it", repo: ghRepo, number: 9, wantErr: ghRepo + "#9"},
		{name: "a repo that is not owner/name is an error", repo: "keycloak", number: 7, wantErr: `"keycloak"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := g.PullRequest(t.Context(), tt.repo, tt.number)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestGitHubOpenPullRequestsFollowsEveryPage(t *testing.T) {
	t.Parallel()
	srv := newGitHubFake(t)
	st := srv.State()
	const open = 250 // three pages of 100
	for n := 1; n <= open+20; n++ {
		st.AddPR(fakeforge.PR{Repo: ghRepo, Number: n, Open: n <= open, HeadSHA: ghSHA, Author: "alice"})
	}
	st.AddPR(fakeforge.PR{Repo: "other/repo", Number: 1, Open: true})
	g := newGitHubClient(t, srv, ghToken)

	prs, err := g.OpenPullRequests(t.Context(), ghRepo)
	require.NoError(t, err)
	require.Len(t, prs, open)
	for i, p := range prs {
		assert.Equal(t, i+1, p.Number, "sorted by number")
		assert.True(t, p.Open)
	}
	assert.Equal(t, 3, gets(st, "/repos/"+ghRepo+"/pulls"), "one request per page")

	none, err := g.OpenPullRequests(t.Context(), "other/empty")
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestGitHubCommentsFollowsEveryPageOldestFirst(t *testing.T) {
	t.Parallel()
	srv := newGitHubFake(t)
	st := srv.State()
	st.AddPR(fakeforge.PR{Repo: ghRepo, Number: 7, Open: true})
	var want []int64
	for i := range 130 {
		want = append(want, st.AddComment(ghRepo, 7, "alice", fmt.Sprintf("comment %d", i)).ID)
	}
	st.AddComment(ghRepo, 8, "alice", "on another PR")
	g := newGitHubClient(t, srv, ghToken)

	got, err := g.Comments(t.Context(), ghRepo, 7, time.Time{})
	require.NoError(t, err)
	require.Len(t, got, 130)
	for i, c := range got {
		assert.Equal(t, want[i], c.ID)
		assert.Equal(t, fmt.Sprintf("comment %d", i), c.Body)
		assert.Equal(t, "alice", c.Author)
	}
	assert.Equal(t, 2, gets(st, "/repos/"+ghRepo+"/issues/7/comments"), "two pages of 100")
}

func TestGitHubCommentsSince(t *testing.T) {
	t.Parallel()
	srv := newGitHubFake(t)
	st := srv.State()
	st.AddPR(fakeforge.PR{Repo: ghRepo, Number: 7, Open: true})
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	at := func(t time.Time) { st.SetClock(func() time.Time { return t }) }

	at(t0)
	old := st.AddComment(ghRepo, 7, "alice", "old")
	edited := st.AddComment(ghRepo, 7, "alice", "old, edited later")
	at(t0.Add(time.Hour))
	recent := st.AddComment(ghRepo, 7, "bob", "!testme")
	at(t0.Add(2 * time.Hour))
	_, ok := st.EditComment(ghRepo, edited.ID, "edited")
	require.True(t, ok)
	g := newGitHubClient(t, srv, ghToken)

	tests := []struct {
		name  string
		since time.Time
		want  []int64
	}{
		{name: "a zero since lists every comment", since: time.Time{}, want: []int64{old.ID, edited.ID, recent.ID}},
		{name: "since keeps comments created or edited at or after it, by id",
			since: t0.Add(30 * time.Minute), want: []int64{edited.ID, recent.ID}},
		{name: "since equal to a comment's time keeps it", since: t0.Add(time.Hour), want: []int64{edited.ID, recent.ID}},
		{name: "since in another zone is the same instant", since: t0.Add(90 * time.Minute).In(time.FixedZone("CET", 3600)),
			want: []int64{edited.ID}},
		{name: "since after everything lists nothing", since: t0.Add(3 * time.Hour), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := g.Comments(t.Context(), ghRepo, 7, tt.since)
			require.NoError(t, err)
			var ids []int64
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			assert.Equal(t, tt.want, ids)
		})
	}
	t.Run("created is the comment's creation time, not its edit", func(t *testing.T) {
		got, err := g.Comments(t.Context(), ghRepo, 7, time.Time{})
		require.NoError(t, err)
		require.Len(t, got, 3)
		assert.True(t, got[1].Created.Equal(t0), "got %s", got[1].Created)
	})
}

func TestGitHubCreateAndEditComment(t *testing.T) {
	t.Parallel()
	srv := newGitHubFake(t)
	st := srv.State()
	st.AddPR(fakeforge.PR{Repo: ghRepo, Number: 7, Open: true})
	g := newGitHubClient(t, srv, ghToken)
	ctx := t.Context()

	id, err := g.CreateComment(ctx, ghRepo, 7, "<!-- cc-ci -->\nqueued")
	require.NoError(t, err)
	c, ok := st.Comment(ghRepo, id)
	require.True(t, ok, "the returned id is the comment's")
	assert.Equal(t, ghBot, c.Author)
	assert.Equal(t, "<!-- cc-ci -->\nqueued", c.Body)

	require.NoError(t, g.EditComment(ctx, ghRepo, id, "<!-- cc-ci -->\nrunning"))
	c, _ = st.Comment(ghRepo, id)
	assert.Equal(t, "<!-- cc-ci -->\nrunning", c.Body)
	assert.Equal(t, 1, c.Edits)
	assert.Len(t, st.Comments(ghRepo, 7), 1, "an edit adds no comment")

	_, err = g.CreateComment(ctx, ghRepo, 99, "x")
	require.ErrorContains(t, err, ghRepo+"#99", "no such PR")
	err = g.EditComment(ctx, ghRepo, id+1000, "x")
	require.ErrorContains(t, err, fmt.Sprintf("comment %d of %s", id+1000, ghRepo))
}

func TestGitHubReactTwiceIsOneReaction(t *testing.T) {
	t.Parallel()
	srv := newGitHubFake(t)
	st := srv.State()
	st.AddPR(fakeforge.PR{Repo: ghRepo, Number: 7, Open: true})
	c := st.AddComment(ghRepo, 7, "alice", "!testme")
	g := newGitHubClient(t, srv, ghToken)
	path := fmt.Sprintf("/repos/%s/issues/comments/%d/reactions", ghRepo, c.ID)

	require.NoError(t, g.React(t.Context(), ghRepo, c.ID, "eyes"))
	require.NoError(t, g.React(t.Context(), ghRepo, c.ID, "eyes"), "an existing identical reaction is success")
	assert.Equal(t, []fakeforge.Reaction{{Repo: ghRepo, CommentID: c.ID, User: ghBot, Content: "eyes"}},
		st.Reactions(ghRepo, c.ID))
	var statuses []int
	for _, call := range st.Calls() {
		if call.Path == path {
			statuses = append(statuses, call.Status)
		}
	}
	assert.Equal(t, []int{http.StatusCreated, http.StatusOK}, statuses, "GitHub's answers: created, then already there")

	require.Error(t, g.React(t.Context(), ghRepo, c.ID, "party"), "not a GitHub reaction")
	require.ErrorContains(t, g.React(t.Context(), ghRepo, c.ID+1000, "eyes"), fmt.Sprint(c.ID+1000))
}

func TestGitHubSetStatus(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 200) // multi-byte: GitHub counts characters, not bytes
	tests := []struct {
		name    string
		in      Status
		want    fakeforge.Status
		wantErr bool
	}{
		{name: "a status is posted with every field",
			in:   Status{State: StatePending, TargetURL: "https://drone.example/cc-ci/42", Description: "build 42 running", Context: StatusContext},
			want: fakeforge.Status{State: "pending", TargetURL: "https://drone.example/cc-ci/42", Description: "build 42 running", Context: StatusContext}},
		{name: "an empty context is cc-ci's own",
			in:   Status{State: StateSuccess, Description: "level 3"},
			want: fakeforge.Status{State: "success", Description: "level 3", Context: StatusContext}},
		{name: "a long description is cut to 140 characters, which GitHub accepts",
			in:   Status{State: StateFailure, Description: long, Context: StatusContext},
			want: fakeforge.Status{State: "failure", Description: strings.Repeat("é", 139) + "…", Context: StatusContext}},
		{name: "a state GitHub does not know is an error", in: Status{State: "running"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newGitHubFake(t)
			g := newGitHubClient(t, srv, ghToken)
			err := g.SetStatus(t.Context(), ghRepo, ghSHA, tt.in)
			got := srv.State().Statuses(ghRepo, ghSHA)
			if tt.wantErr {
				require.ErrorContains(t, err, ghRepo+"@"+ghSHA)
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, 1)
			tt.want.Repo, tt.want.SHA, tt.want.Created = ghRepo, ghSHA, got[0].Created
			assert.Equal(t, tt.want, got[0])
			assert.LessOrEqual(t, utf8.RuneCountInString(got[0].Description), 140)
		})
	}
}

func TestGitHubIsOrgMember(t *testing.T) {
	t.Parallel()
	srv := newGitHubFake(t)
	st := srv.State()
	st.AddMember("coop-cloud", "alice")
	st.Fail("/orgs/broken/", http.StatusBadGateway)
	g := newGitHubClient(t, srv, ghToken)

	tests := []struct {
		name    string
		org     string
		user    string
		want    bool
		wantErr bool
	}{
		{name: "a member is a member", org: "coop-cloud", user: "alice", want: true},
		{name: "a non-member is false, not an error", org: "coop-cloud", user: "mallory"},
		{name: "a user-owned repo's owner is no org: false, not an error", org: "alice", user: "alice"},
		{name: "a server error is an error, never a no", org: "broken", user: "alice", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := g.IsOrgMember(t.Context(), tt.org, tt.user)
			if tt.wantErr {
				require.ErrorContains(t, err, tt.org)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestGitHubPermissionWords(t *testing.T) {
	t.Parallel()
	srv := newGitHubFake(t)
	st := srv.State()
	roles := map[string]Permission{
		"admin": PermAdmin, "maintain": PermWrite, "write": PermWrite,
		"triage": PermRead, "read": PermRead, "none": PermNone,
	}
	for role := range roles {
		st.SetPermission(ghRepo, "u-"+role, role)
	}
	st.SetPermission(ghRepo, "u-custom", "security-manager")
	g := newGitHubClient(t, srv, ghToken)

	for role, want := range roles {
		t.Run("GitHub's "+role+" is "+want.String(), func(t *testing.T) {
			t.Parallel()
			got, err := g.Permission(t.Context(), ghRepo, "u-"+role)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
	t.Run("a user never granted anything has none", func(t *testing.T) {
		t.Parallel()
		got, err := g.Permission(t.Context(), ghRepo, "stranger")
		require.NoError(t, err)
		assert.Equal(t, PermNone, got)
	})
	t.Run("an undocumented word is an error, not a guess", func(t *testing.T) {
		t.Parallel()
		_, err := g.Permission(t.Context(), ghRepo, "u-custom")
		require.ErrorContains(t, err, "security-manager")
	})
}

// TestGitHubErrorsFailClosed: every method answers an error, never a default, when the token is
// bad or GitHub is down, so callers treat the answer as unknown.
func TestGitHubErrorsFailClosed(t *testing.T) {
	t.Parallel()
	calls := map[string]func(context.Context, *GitHub) error{
		"BotLogin":         func(ctx context.Context, g *GitHub) error { _, err := g.BotLogin(ctx); return err },
		"PullRequest":      func(ctx context.Context, g *GitHub) error { _, err := g.PullRequest(ctx, ghRepo, 7); return err },
		"OpenPullRequests": func(ctx context.Context, g *GitHub) error { _, err := g.OpenPullRequests(ctx, ghRepo); return err },
		"Comments": func(ctx context.Context, g *GitHub) error {
			_, err := g.Comments(ctx, ghRepo, 7, time.Time{})
			return err
		},
		"CreateComment": func(ctx context.Context, g *GitHub) error { _, err := g.CreateComment(ctx, ghRepo, 7, "x"); return err },
		"EditComment":   func(ctx context.Context, g *GitHub) error { return g.EditComment(ctx, ghRepo, 1001, "x") },
		"React":         func(ctx context.Context, g *GitHub) error { return g.React(ctx, ghRepo, 1001, "eyes") },
		"SetStatus": func(ctx context.Context, g *GitHub) error {
			return g.SetStatus(ctx, ghRepo, ghSHA, Status{State: StatePending})
		},
		"IsOrgMember": func(ctx context.Context, g *GitHub) error {
			_, err := g.IsOrgMember(ctx, "coop-cloud", "alice")
			return err
		},
		"Permission": func(ctx context.Context, g *GitHub) error { _, err := g.Permission(ctx, ghRepo, "alice"); return err },
	}
	breakages := []struct {
		name   string
		token  string
		status int // forced on every path
	}{
		{name: "a bad token", token: "wrong"},
		{name: "a 500", token: ghToken, status: http.StatusInternalServerError},
		{name: "a 503", token: ghToken, status: http.StatusServiceUnavailable},
	}
	for _, b := range breakages {
		for method, call := range calls {
			t.Run(method+" fails on "+b.name, func(t *testing.T) {
				t.Parallel()
				srv := newGitHubFake(t)
				st := srv.State()
				st.AddPR(fakeforge.PR{Repo: ghRepo, Number: 7, Open: true, HeadSHA: ghSHA})
				st.AddComment(ghRepo, 7, "alice", "!testme") // id 1001
				st.AddMember("coop-cloud", "alice")
				st.SetPermission(ghRepo, "alice", "admin")
				require.NoError(t, call(t.Context(), newGitHubClient(t, srv, ghToken)), "works when healthy")
				if b.status != 0 {
					st.Fail("/", b.status)
				}
				require.Error(t, call(t.Context(), newGitHubClient(t, srv, b.token)))
			})
		}
	}
}

func TestGitHubRespectsContext(t *testing.T) {
	t.Parallel()
	srv := newGitHubFake(t)
	g := newGitHubClient(t, srv, ghToken)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := g.BotLogin(ctx)
	require.ErrorIs(t, err, context.Canceled)
}
