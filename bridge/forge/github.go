package forge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v62/github"

	"coopcloud.tech/cc-ci/bridge/event"
)

// ghPerPage is GitHub's largest page size: fewer round trips for the poll's full listings.
// https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api
const ghPerPage = 100

// ghTimeout bounds one API call when the caller brings no http.Client of its own, so a
// hung connection cannot hold a worker forever even if a caller forgets a deadline.
const ghTimeout = 30 * time.Second

// GitHub is the Forge for github.com or a GitHub Enterprise Server, through go-github.
type GitHub struct {
	client *github.Client

	mu  sync.Mutex
	bot string // the token's login, once known: it cannot change while the token lives
}

var _ Forge = (*GitHub)(nil)

// NewGitHub returns a GitHub forge authenticated with token. An empty baseURL is api.github.com;
// otherwise it is a GitHub Enterprise Server URL, with or without the /api/v3/ suffix (go-github
// adds it unless the host is api.*). httpClient may be nil.
func NewGitHub(baseURL, token string, httpClient *http.Client) (*GitHub, error) {
	if token == "" {
		return nil, errors.New("github: empty API token")
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: ghTimeout}
	}
	c := github.NewClient(httpClient).WithAuthToken(token)
	if baseURL != "" {
		var err error
		if c, err = c.WithEnterpriseURLs(baseURL, baseURL); err != nil {
			return nil, fmt.Errorf("github: base URL %q: %w", baseURL, err)
		}
	}
	return &GitHub{client: c}, nil
}

// Name is event.GitHub.
func (g *GitHub) Name() string { return event.GitHub }

// BotLogin is the login of the token's own account (GET /user), asked once.
func (g *GitHub) BotLogin(ctx context.Context) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.bot != "" {
		return g.bot, nil
	}
	u, _, err := g.client.Users.Get(ctx, "")
	if err != nil {
		return "", fmt.Errorf("github: authenticated user: %w", err)
	}
	if u.GetLogin() == "" {
		return "", errors.New("github: authenticated user has no login")
	}
	g.bot = u.GetLogin()
	return g.bot, nil
}

// ghSplitRepo splits "owner/name".
func ghSplitRepo(repo string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("github: repo %q is not owner/name", repo)
	}
	return owner, name, nil
}

func ghPullRequest(p *github.PullRequest) PullRequest {
	return PullRequest{
		Number:   p.GetNumber(),
		Open:     p.GetState() == "open",
		HeadSHA:  p.GetHead().GetSHA(),
		CloneURL: p.GetBase().GetRepo().GetCloneURL(),
		Author:   p.GetUser().GetLogin(),
	}
}

// PullRequest returns PR number of repo as GitHub sees it now, open or closed.
func (g *GitHub) PullRequest(ctx context.Context, repo string, number int) (PullRequest, error) {
	owner, name, err := ghSplitRepo(repo)
	if err != nil {
		return PullRequest{}, err
	}
	p, _, err := g.client.PullRequests.Get(ctx, owner, name, number)
	if err != nil {
		return PullRequest{}, fmt.Errorf("github: pull request %s#%d: %w", repo, number, err)
	}
	return ghPullRequest(p), nil
}

// OpenPullRequests returns every open PR of repo, following every page, by number.
func (g *GitHub) OpenPullRequests(ctx context.Context, repo string) ([]PullRequest, error) {
	owner, name, err := ghSplitRepo(repo)
	if err != nil {
		return nil, err
	}
	opts := &github.PullRequestListOptions{State: "open", ListOptions: github.ListOptions{PerPage: ghPerPage}}
	var out []PullRequest
	for {
		page, resp, err := g.client.PullRequests.List(ctx, owner, name, opts)
		if err != nil {
			return nil, fmt.Errorf("github: open pull requests of %s (page %d): %w", repo, max(opts.Page, 1), err)
		}
		for _, p := range page {
			out = append(out, ghPullRequest(p))
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	slices.SortFunc(out, func(a, b PullRequest) int { return cmp.Compare(a.Number, b.Number) })
	return out, nil
}

// Comments returns the comments on PR number updated at or after since (all of them for a zero
// since), oldest first. GitHub's since is to the second, so the answer may hold comments up to a
// second older than since; callers deduplicate by comment id anyway.
func (g *GitHub) Comments(ctx context.Context, repo string, number int, since time.Time) ([]Comment, error) {
	owner, name, err := ghSplitRepo(repo)
	if err != nil {
		return nil, err
	}
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: ghPerPage}}
	if !since.IsZero() {
		opts.Since = &since
	}
	var out []Comment
	for {
		page, resp, err := g.client.Issues.ListComments(ctx, owner, name, number, opts)
		if err != nil {
			return nil, fmt.Errorf("github: comments on %s#%d (page %d): %w", repo, number, max(opts.Page, 1), err)
		}
		for _, c := range page {
			out = append(out, Comment{
				ID:      c.GetID(),
				Author:  c.GetUser().GetLogin(),
				Body:    c.GetBody(),
				Created: c.GetCreatedAt().Time,
				Updated: c.GetUpdatedAt().Time,
			})
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	// GitHub lists by ascending id, which is creation order; keep that promise even if a page
	// boundary moved under a concurrent edit.
	slices.SortStableFunc(out, func(a, b Comment) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// CreateComment posts body on PR number as the token's user and returns the comment's id.
func (g *GitHub) CreateComment(ctx context.Context, repo string, number int, body string) (int64, error) {
	owner, name, err := ghSplitRepo(repo)
	if err != nil {
		return 0, err
	}
	c, _, err := g.client.Issues.CreateComment(ctx, owner, name, number, &github.IssueComment{Body: &body})
	if err != nil {
		return 0, fmt.Errorf("github: comment on %s#%d: %w", repo, number, err)
	}
	return c.GetID(), nil
}

// EditComment replaces the body of comment id of repo.
func (g *GitHub) EditComment(ctx context.Context, repo string, id int64, body string) error {
	owner, name, err := ghSplitRepo(repo)
	if err != nil {
		return err
	}
	if _, _, err := g.client.Issues.EditComment(ctx, owner, name, id, &github.IssueComment{Body: &body}); err != nil {
		return fmt.Errorf("github: edit comment %d of %s: %w", id, repo, err)
	}
	return nil
}

// React adds reaction to comment id of repo. GitHub answers 200 with the existing reaction when
// the token's user already reacted so, which go-github reports as success, as Forge asks.
func (g *GitHub) React(ctx context.Context, repo string, id int64, reaction string) error {
	owner, name, err := ghSplitRepo(repo)
	if err != nil {
		return err
	}
	if _, _, err := g.client.Reactions.CreateIssueCommentReaction(ctx, owner, name, id, reaction); err != nil {
		return fmt.Errorf("github: react %q to comment %d of %s: %w", reaction, id, repo, err)
	}
	return nil
}

// SetStatus sets a commit status on sha of repo. The description is cut to GitHub's 140
// characters, ending in an ellipsis; an empty context is StatusContext.
func (g *GitHub) SetStatus(ctx context.Context, repo, sha string, s Status) error {
	owner, name, err := ghSplitRepo(repo)
	if err != nil {
		return err
	}
	st := &github.RepoStatus{
		State:       github.String(string(s.State)),
		Description: github.String(description(s.Description)),
		Context:     github.String(cmp.Or(s.Context, StatusContext)),
	}
	if s.TargetURL != "" {
		st.TargetURL = github.String(s.TargetURL)
	}
	if _, _, err := g.client.Repositories.CreateStatus(ctx, owner, name, sha, st); err != nil {
		return fmt.Errorf("github: status %s on %s@%s: %w", s.State, repo, sha, err)
	}
	return nil
}

// IsOrgMember reports whether user is a member of org. GitHub answers 404 both for a non-member
// and for an "org" that is a user account, and go-github turns that 404 into (false, nil); any
// other failure is an error. When the token's user is not in org, GitHub redirects to the
// public-membership check, so only public members are seen: the bot should be an org member.
// https://docs.github.com/rest/orgs/members#check-organization-membership-for-a-user
func (g *GitHub) IsOrgMember(ctx context.Context, org, user string) (bool, error) {
	ok, _, err := g.client.Organizations.IsMember(ctx, org, user)
	if err != nil {
		return false, fmt.Errorf("github: is %s a member of org %s: %w", user, org, err)
	}
	return ok, nil
}

// githubPermissions maps GitHub's permission words to Permission. GitHub reports the legacy base
// permission (admin, write, read, none; maintain shows as write and triage as read); the role
// names are mapped too in case a server reports them.
// https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user
var githubPermissions = map[string]Permission{
	"admin":    PermAdmin,
	"maintain": PermWrite,
	"write":    PermWrite,
	"triage":   PermRead,
	"read":     PermRead,
	"none":     PermNone,
}

// Permission returns user's permission on repo. A word GitHub never documented is an error, not
// a guess: the trust check fails closed on it.
func (g *GitHub) Permission(ctx context.Context, repo, user string) (Permission, error) {
	owner, name, err := ghSplitRepo(repo)
	if err != nil {
		return PermNone, err
	}
	lvl, _, err := g.client.Repositories.GetPermissionLevel(ctx, owner, name, user)
	if err != nil {
		return PermNone, fmt.Errorf("github: permission of %s on %s: %w", user, repo, err)
	}
	p, ok := githubPermissions[lvl.GetPermission()]
	if !ok {
		return PermNone, fmt.Errorf("github: permission of %s on %s: unknown word %q", user, repo, lvl.GetPermission())
	}
	return p, nil
}
