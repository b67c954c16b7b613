package forge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"code.gitea.io/sdk/gitea"

	"coopcloud.tech/cc-ci/bridge/event"
)

// giteaPageSize is Gitea's default [api] MAX_RESPONSE_ITEMS: a larger limit is cut to it anyway.
// https://docs.gitea.com/administration/config-cheat-sheet#api-api
const giteaPageSize = 50

// giteaMaxPages stops a listing that never ends (a server whose Link header always points
// further): 50,000 items is far beyond any repository cc-ci enrols.
const giteaMaxPages = 1000

// giteaTimeout bounds one API call when the caller brings no http.Client of its own, so a hung
// connection cannot hold a worker forever even if a caller forgets a deadline.
const giteaTimeout = 30 * time.Second

// Gitea is the Forge for a Gitea or Forgejo instance, through the Gitea SDK.
//
// The SDK keeps one context per client (SetContext), not one per call, so each call builds a
// throwaway client bound to the caller's context: no call can cancel or outlive another's, and
// the methods are safe for concurrent use. Building one is free: SetGiteaVersion("") turns off
// the SDK's server-version probe, which is network I/O that NewClient would otherwise do (and,
// with a context that never ends, could hang a start-up on a dead server). Nothing cc-ci calls
// depends on the version: every route exists since Gitea 1.14 and in every Forgejo.
type Gitea struct {
	baseURL string
	token   string
	http    *http.Client

	mu  sync.Mutex
	bot string // the token's login, once known: it cannot change while the token lives
}

var _ Forge = (*Gitea)(nil)

// NewGitea returns a Gitea forge for the instance at baseURL (e.g. https://git.coopcloud.tech,
// without /api/v1), authenticated with token. httpClient may be nil. It does no network I/O.
func NewGitea(baseURL, token string, httpClient *http.Client) (*Gitea, error) {
	if token == "" {
		return nil, errors.New("gitea: empty API token")
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("gitea: base URL %q: %w", baseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("gitea: base URL %q: want http(s)://host[/path]", baseURL)
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: giteaTimeout}
	}
	g := &Gitea{baseURL: strings.TrimSuffix(baseURL, "/"), token: token, http: httpClient}
	if _, err := g.client(context.Background()); err != nil {
		return nil, err
	}
	return g, nil
}

// client is an SDK client whose every request carries ctx.
func (g *Gitea) client(ctx context.Context) (*gitea.Client, error) {
	c, err := gitea.NewClient(g.baseURL,
		gitea.SetHTTPClient(g.http),
		gitea.SetToken(g.token),
		gitea.SetGiteaVersion(""),
		gitea.SetContext(ctx),
	)
	if err != nil {
		return nil, fmt.Errorf("gitea: client for %s: %w", g.baseURL, err)
	}
	return c, nil
}

// giteaErr wraps an SDK error with what was asked and, when there was an answer, its status.
func giteaErr(resp *gitea.Response, err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if resp != nil && resp.Response != nil {
		return fmt.Errorf("gitea: %s: HTTP %d: %w", what, resp.StatusCode, err)
	}
	return fmt.Errorf("gitea: %s: %w", what, err)
}

// giteaSplitRepo splits "owner/name".
func giteaSplitRepo(repo string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("gitea: repo %q is not owner/name", repo)
	}
	return owner, name, nil
}

// withRepo runs f with a client bound to ctx and repo split into owner and name.
func (g *Gitea) withRepo(ctx context.Context, repo string, f func(c *gitea.Client, owner, name string) error) error {
	owner, name, err := giteaSplitRepo(repo)
	if err != nil {
		return err
	}
	c, err := g.client(ctx)
	if err != nil {
		return err
	}
	return f(c, owner, name)
}

// Name is event.Gitea (Gitea and Forgejo alike).
func (g *Gitea) Name() string { return event.Gitea }

// BotLogin is the login of the token's own account (GET /user), asked once.
func (g *Gitea) BotLogin(ctx context.Context) (string, error) {
	g.mu.Lock()
	bot := g.bot
	g.mu.Unlock()
	if bot != "" {
		return bot, nil
	}
	c, err := g.client(ctx)
	if err != nil {
		return "", err
	}
	u, resp, err := c.GetMyUserInfo()
	if err != nil {
		return "", giteaErr(resp, err, "authenticated user")
	}
	if u.UserName == "" {
		return "", errors.New("gitea: authenticated user has no login")
	}
	g.mu.Lock()
	g.bot = u.UserName
	g.mu.Unlock()
	return u.UserName, nil
}

// giteaPullRequest converts the SDK's PR; head and base are required, because a PR without a
// head SHA or clone URL cannot be built.
func giteaPullRequest(repo string, p *gitea.PullRequest) (PullRequest, error) {
	if p.Head == nil || p.Base == nil || p.Base.Repository == nil {
		return PullRequest{}, fmt.Errorf("gitea: pull request %s#%d: answer has no head or base repository", repo, p.Index)
	}
	out := PullRequest{
		Number:   int(p.Index),
		Open:     p.State == gitea.StateOpen,
		HeadSHA:  p.Head.Sha,
		CloneURL: p.Base.Repository.CloneURL,
	}
	if p.Poster != nil {
		out.Author = p.Poster.UserName
	}
	return out, nil
}

// PullRequest returns PR number of repo as Gitea sees it now, open or closed.
func (g *Gitea) PullRequest(ctx context.Context, repo string, number int) (pr PullRequest, err error) {
	err = g.withRepo(ctx, repo, func(c *gitea.Client, owner, name string) error {
		p, resp, err := c.GetPullRequest(owner, name, int64(number))
		if err != nil {
			return giteaErr(resp, err, "pull request %s#%d", repo, number)
		}
		pr, err = giteaPullRequest(repo, p)
		return err
	})
	return pr, err
}

// OpenPullRequests returns every open PR of repo, by number. Gitea pages this route and says in
// the Link header whether another page follows; a PR seen twice (the list shifted between pages)
// is kept once.
func (g *Gitea) OpenPullRequests(ctx context.Context, repo string) ([]PullRequest, error) {
	seen := map[int64]bool{}
	var out []PullRequest
	err := g.withRepo(ctx, repo, func(c *gitea.Client, owner, name string) error {
		return giteaPages(func(page int) (int, error) {
			prs, resp, err := c.ListRepoPullRequests(owner, name, gitea.ListPullRequestsOptions{
				ListOptions: gitea.ListOptions{Page: page, PageSize: giteaPageSize},
				State:       gitea.StateOpen,
			})
			if err != nil {
				return 0, giteaErr(resp, err, "open pull requests of %s, page %d", repo, page)
			}
			for _, p := range prs {
				if seen[p.Index] {
					continue
				}
				seen[p.Index] = true
				pr, err := giteaPullRequest(repo, p)
				if err != nil {
					return 0, err
				}
				out = append(out, pr)
			}
			return resp.NextPage, nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b PullRequest) int { return cmp.Compare(a.Number, b.Number) })
	return out, nil
}

// giteaPages calls fetch for page 1, 2, ... while it reports a next page (the Link header's
// rel="next"; 0 when there is none). Following the header, not "until a short page", matters:
// Gitea's issue-comments route ignores page and limit and answers everything each time, with no
// Link header, so a page counter alone would loop forever on it.
func giteaPages(fetch func(page int) (next int, err error)) error {
	for page, n := 1, 0; page > 0; n++ {
		if n == giteaMaxPages {
			return fmt.Errorf("gitea: more than %d pages", giteaMaxPages)
		}
		next, err := fetch(page)
		if err != nil {
			return err
		}
		if next <= page {
			next = 0 // no next page, or a server pointing backwards
		}
		page = next
	}
	return nil
}

// Comments returns the comments on PR number updated at or after since (all of them for a zero
// since), oldest first. Gitea compares since with the updated time in whole seconds: a comment
// from earlier in since's own second is included, which is harmless (callers dedupe by id) and
// safer than cutting at a precision Gitea does not keep.
func (g *Gitea) Comments(ctx context.Context, repo string, number int, since time.Time) ([]Comment, error) {
	seen := map[int64]bool{}
	var out []Comment
	err := g.withRepo(ctx, repo, func(c *gitea.Client, owner, name string) error {
		return giteaPages(func(page int) (int, error) {
			cs, resp, err := c.ListIssueComments(owner, name, int64(number), gitea.ListIssueCommentOptions{
				ListOptions: gitea.ListOptions{Page: page, PageSize: giteaPageSize},
				Since:       since,
			})
			if err != nil {
				return 0, giteaErr(resp, err, "comments on %s#%d, page %d", repo, number, page)
			}
			for _, cm := range cs {
				if seen[cm.ID] {
					continue
				}
				seen[cm.ID] = true
				out = append(out, giteaComment(cm))
			}
			return resp.NextPage, nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b Comment) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func giteaComment(c *gitea.Comment) Comment {
	out := Comment{ID: c.ID, Body: c.Body, Created: c.Created, Updated: c.Updated}
	if c.Poster != nil {
		out.Author = c.Poster.UserName
	}
	return out
}

// CreateComment posts body on PR number (a PR is an issue to Gitea) and returns the comment's id.
func (g *Gitea) CreateComment(ctx context.Context, repo string, number int, body string) (id int64, err error) {
	err = g.withRepo(ctx, repo, func(c *gitea.Client, owner, name string) error {
		cm, resp, err := c.CreateIssueComment(owner, name, int64(number), gitea.CreateIssueCommentOption{Body: body})
		if err != nil {
			return giteaErr(resp, err, "comment on %s#%d", repo, number)
		}
		id = cm.ID
		return nil
	})
	return id, err
}

// EditComment replaces the body of comment id of repo.
func (g *Gitea) EditComment(ctx context.Context, repo string, id int64, body string) error {
	return g.withRepo(ctx, repo, func(c *gitea.Client, owner, name string) error {
		if _, resp, err := c.EditIssueComment(owner, name, id, gitea.EditIssueCommentOption{Body: body}); err != nil {
			return giteaErr(resp, err, "edit comment %d of %s", id, repo)
		}
		return nil
	})
}

// React adds reaction to comment id of repo. Gitea answers 201 for a new reaction and 200 for
// one the bot already left; the SDK takes both as success.
// https://github.com/go-gitea/gitea/blob/main/routers/api/v1/repo/issue_reaction.go
func (g *Gitea) React(ctx context.Context, repo string, id int64, reaction string) error {
	return g.withRepo(ctx, repo, func(c *gitea.Client, owner, name string) error {
		if _, resp, err := c.PostIssueCommentReaction(owner, name, id, reaction); err != nil {
			return giteaErr(resp, err, "react %q to comment %d of %s", reaction, id, repo)
		}
		return nil
	})
}

// SetStatus sets a commit status on sha of repo, its description cut to 140 characters.
func (g *Gitea) SetStatus(ctx context.Context, repo, sha string, s Status) error {
	switch s.State {
	case StatePending, StateSuccess, StateFailure, StateError:
	default:
		return fmt.Errorf("gitea: status on %s@%s: unknown state %q", repo, sha, s.State)
	}
	return g.withRepo(ctx, repo, func(c *gitea.Client, owner, name string) error {
		_, resp, err := c.CreateStatus(owner, name, sha, gitea.CreateStatusOption{
			State:       gitea.StatusState(s.State),
			TargetURL:   s.TargetURL,
			Description: description(s.Description),
			Context:     s.Context,
		})
		if err != nil {
			return giteaErr(resp, err, "status %s on %s@%s", s.State, repo, sha)
		}
		return nil
	})
}

// IsOrgMember reports whether user is a member of org. Gitea answers 204 or 404 (the SDK's
// true/false) to a bot that is itself a member of org; to any other bot it answers with public
// membership only (a 303 to /public_members, followed by the HTTP client), so the bot account
// must be an org member for private members to count. A user-owned repo's owner is no org:
// 404, false.
// https://github.com/go-gitea/gitea/blob/main/routers/api/v1/org/member.go (IsMember)
func (g *Gitea) IsOrgMember(ctx context.Context, org, user string) (bool, error) {
	c, err := g.client(ctx)
	if err != nil {
		return false, err
	}
	ok, resp, err := c.CheckOrgMembership(org, user)
	if err != nil {
		return false, giteaErr(resp, err, "is %s a member of org %s", user, org)
	}
	return ok, nil
}

// giteaPermissions maps Gitea's access mode words (perm.AccessMode.ToString). "owner" is the
// repository's owner (or an owners-team member): admin and more.
// https://github.com/go-gitea/gitea/blob/main/models/perm/access_mode.go
var giteaPermissions = map[gitea.AccessMode]Permission{
	gitea.AccessModeNone:  PermNone,
	gitea.AccessModeRead:  PermRead,
	gitea.AccessModeWrite: PermWrite,
	gitea.AccessModeAdmin: PermAdmin,
	gitea.AccessModeOwner: PermAdmin,
}

// Permission returns user's permission on repo. Gitea answers a bot that is not a repo admin
// with 403 for anyone but itself, which is an error here (fail closed). A word this code does not
// know is an error too, never a guess.
func (g *Gitea) Permission(ctx context.Context, repo, user string) (perm Permission, err error) {
	err = g.withRepo(ctx, repo, func(c *gitea.Client, owner, name string) error {
		res, resp, err := c.CollaboratorPermission(owner, name, user)
		if err != nil {
			return giteaErr(resp, err, "permission of %s on %s", user, repo)
		}
		if res == nil {
			return giteaErr(resp, errors.New("no permission in answer"), "permission of %s on %s", user, repo)
		}
		p, ok := giteaPermissions[res.Permission]
		if !ok {
			return fmt.Errorf("gitea: permission of %s on %s: unknown word %q", user, repo, res.Permission)
		}
		perm = p
		return nil
	})
	return perm, err
}
