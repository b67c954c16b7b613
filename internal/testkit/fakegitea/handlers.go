package fakegitea

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
)

// Gitea's paging defaults: [api] DEFAULT_PAGING_NUM (a missing or non-positive limit) and
// MAX_RESPONSE_ITEMS (the cap on limit), applied by convert.ToCorrectPageSize.
// https://docs.gitea.com/administration/config-cheat-sheet#api-api
// https://github.com/go-gitea/gitea/blob/main/routers/api/v1/utils/page.go
const (
	defaultPagingNum = 30
	maxResponseItems = 50
)

// allowedReactions is Gitea's default [ui] REACTIONS; any other content is 403.
// code.gitea.io/sdk/gitea v0.25.1 tests/settings_test.go (AllowedReactions of a default instance)
var allowedReactions = []string{"+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"}

// GET /version. https://github.com/go-gitea/gitea/blob/main/routers/api/v1/misc/version.go
func (s *Server) getVersion(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"version": Version})
}

// GET /user: the token's own account.
// https://github.com/go-gitea/gitea/blob/main/routers/api/v1/user/user.go (GetAuthenticatedUser)
func (s *Server) getUser(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.user(s.State().Bot()))
}

// GET /repos/{owner}/{repo}/pulls/{index}: 404 for an unknown index.
// https://github.com/go-gitea/gitea/blob/main/routers/api/v1/repo/pull.go (GetPullRequest)
func (s *Server) getPull(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("index"))
	if err != nil {
		notFound(w)
		return
	}
	p, ok := s.State().PR(fakeforge.RepoOf(r), n)
	if !ok {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, s.pullRequest(p))
}

// GET /repos/{owner}/{repo}/pulls?state=&page=&limit=: newest first (applySorts' default,
// created_unix DESC), one page of limit, with the Link and X-Total-Count headers.
// https://github.com/go-gitea/gitea/blob/main/routers/api/v1/repo/pull.go (ListPullRequests)
// https://github.com/go-gitea/gitea/blob/main/models/issues/issue_search.go (applySorts)
func (s *Server) listPulls(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// Gitea's default state is open. fakeforge lists open PRs only, so closed and all are refused
	// loudly rather than answered wrongly.
	if st := q.Get("state"); st != "" && st != "open" {
		writeError(w, http.StatusBadRequest, "fakegitea: only state=open is modelled")
		return
	}
	prs := s.State().OpenPRs(fakeforge.RepoOf(r))
	slices.Reverse(prs) // OpenPRs is by number, and a higher index was created later
	page, size := listOptions(q)
	lo, hi := min((page-1)*size, len(prs)), min(page*size, len(prs))
	out := make([]pullRequest, 0, hi-lo)
	for _, p := range prs[lo:hi] {
		out = append(out, s.pullRequest(p))
	}
	s.setLinkHeader(w, r, len(prs), size, page)
	w.Header().Set("X-Total-Count", strconv.Itoa(len(prs)))
	writeJSON(w, http.StatusOK, out)
}

// listOptions is utils.GetListOptions: page at least 1, limit through ToCorrectPageSize.
// https://github.com/go-gitea/gitea/blob/main/routers/api/v1/utils/page.go
func listOptions(q url.Values) (page, size int) {
	page, _ = strconv.Atoi(q.Get("page"))
	size, _ = strconv.Atoi(q.Get("limit"))
	if size <= 0 {
		size = defaultPagingNum
	}
	return max(page, 1), min(size, maxResponseItems)
}

// setLinkHeader is Gitea's genAPILinks: next, last, first, prev, each the request URL with page
// replaced, joined by ",". Nothing when everything fits on one page.
// https://github.com/go-gitea/gitea/blob/main/services/context/api.go (SetLinkHeader, genAPILinks)
func (s *Server) setLinkHeader(w http.ResponseWriter, r *http.Request, total, size, page int) {
	pages := max((total+size-1)/size, 1)
	cur := min(page, pages) // the paginater clamps the current page to the last
	link := func(p int, rel string) string {
		u := *r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(p))
		u.RawQuery = q.Encode()
		return "<" + s.URL + u.RequestURI() + `>; rel="` + rel + `"`
	}
	var links []string
	if total > cur*size {
		links = append(links, link(cur+1, "next"))
	}
	if cur != pages {
		links = append(links, link(pages, "last"))
	}
	if cur != 1 {
		links = append(links, link(1, "first"))
	}
	if cur > 1 {
		links = append(links, link(cur-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ","))
	}
}

// GET /repos/{owner}/{repo}/issues/{index}/comments?since=&before=: Gitea does not paginate this
// route (no page or limit is read; every comment comes in one answer, with X-Total-Count and no
// Link). since and before are RFC 3339, compared with the comment's updated time in whole
// seconds, both inclusive; a malformed one is 422. Oldest first.
// https://github.com/go-gitea/gitea/blob/main/routers/api/v1/repo/issue_comment.go (ListIssueComments)
// https://github.com/go-gitea/gitea/blob/main/models/issues/comment.go (FindCommentsOptions.ToConds)
func (s *Server) listComments(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("index"))
	if err != nil {
		notFound(w)
		return
	}
	q := r.URL.Query()
	since, err1 := unixParam(q.Get("since"))
	before, err2 := unixParam(q.Get("before"))
	if err := cmp.Or(err1, err2); err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	cs := s.State().Comments(fakeforge.RepoOf(r), n)
	slices.SortStableFunc(cs, func(a, b fakeforge.Comment) int {
		return cmp.Or(cmp.Compare(a.Created.Unix(), b.Created.Unix()), cmp.Compare(a.ID, b.ID))
	})
	out := make([]comment, 0, len(cs))
	for _, c := range cs {
		u := c.Updated.Unix()
		if (since > 0 && u < since) || (before > 0 && u > before) {
			continue
		}
		out = append(out, s.comment(c))
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(len(out)))
	writeJSON(w, http.StatusOK, out)
}

// unixParam is context.GetQueryBeforeSince's parse: empty is 0 (no filter), else RFC 3339 to
// Unix seconds.
func unixParam(v string) (int64, error) {
	if v = strings.TrimSpace(v); v == "" {
		return 0, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return 0, err
	}
	return t.Unix(), nil
}

// bodyOption is api.CreateIssueCommentOption / api.EditIssueCommentOption: body is
// binding:"Required", and a missing one is 422 "[Body]: Required" (bind's validationError).
// https://github.com/go-gitea/gitea/blob/main/modules/structs/issue_comment.go
type bodyOption struct {
	Body string `json:"body"`
}

func decodeBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	var opt bodyOption
	if err := json.NewDecoder(r.Body).Decode(&opt); err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return "", false
	}
	if opt.Body == "" {
		writeError(w, http.StatusUnprocessableEntity, "[Body]: Required")
		return "", false
	}
	return opt.Body, true
}

// POST /repos/{owner}/{repo}/issues/{index}/comments: 201 and the new comment, by the token's
// user. https://github.com/go-gitea/gitea/blob/main/routers/api/v1/repo/issue_comment.go (CreateIssueComment)
func (s *Server) createComment(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("index"))
	if err != nil {
		notFound(w)
		return
	}
	body, ok := decodeBody(w, r)
	if !ok {
		return
	}
	c := s.State().AddComment(fakeforge.RepoOf(r), n, s.State().Bot(), body)
	writeJSON(w, http.StatusCreated, s.comment(c))
}

// PATCH /repos/{owner}/{repo}/issues/comments/{id}: 404 for a comment not in this repo, 403 (no
// body) when the token's user is neither its poster nor a writer of the repo, 200 and the
// comment otherwise; an unchanged body is not an edit.
// https://github.com/go-gitea/gitea/blob/main/routers/api/v1/repo/issue_comment.go (editIssueComment)
func (s *Server) editComment(w http.ResponseWriter, r *http.Request) {
	repo, cid, ok := fakeforge.CommentRef(r)
	if !ok {
		notFound(w)
		return
	}
	body, ok := decodeBody(w, r)
	if !ok {
		return
	}
	c, ok := s.State().Comment(repo, cid)
	if !ok {
		notFound(w)
		return
	}
	if bot := s.State().Bot(); c.Author != bot && !atLeast(s.State().Permission(repo, bot), "write") {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if body != c.Body {
		c, _ = s.State().EditComment(repo, cid, body)
	}
	writeJSON(w, http.StatusOK, s.comment(c))
}

// POST /repos/{owner}/{repo}/issues/comments/{id}/reactions {"content":...}: 404 for a comment
// not in this repo, 403 for a reaction the instance does not allow, 200 when the token's user
// already has this reaction there, 201 when it is new; the body is the reaction.
// https://github.com/go-gitea/gitea/blob/main/routers/api/v1/repo/issue_reaction.go (changeIssueCommentReaction)
func (s *Server) createReaction(w http.ResponseWriter, r *http.Request) {
	repo, cid, ok := fakeforge.CommentRef(r)
	if !ok {
		notFound(w)
		return
	}
	var opt struct {
		Content string `json:"content"`
	}
	if err := json.NewDecoder(r.Body).Decode(&opt); err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	if _, ok := s.State().Comment(repo, cid); !ok {
		notFound(w)
		return
	}
	if !slices.Contains(allowedReactions, opt.Content) {
		// issues_model.ErrForbiddenIssueReaction.
		writeError(w, http.StatusForbidden, "'"+opt.Content+"' is not an allowed reaction")
		return
	}
	bot := s.State().Bot()
	re := fakeforge.Reaction{Repo: repo, CommentID: cid, User: bot, Content: opt.Content}
	status := http.StatusOK
	if s.State().AddReaction(re) {
		status = http.StatusCreated
	}
	writeJSON(w, status, reaction{User: s.user(bot), Content: opt.Content, Created: timestamp(time.Now())})
}

// POST /repos/{owner}/{repo}/statuses/{sha} {state,target_url,description,context}: 201 and the
// status, with the state under "status".
// https://github.com/go-gitea/gitea/blob/main/routers/api/v1/repo/status.go (NewCommitStatus)
func (s *Server) createStatus(w http.ResponseWriter, r *http.Request) {
	repo, sha := fakeforge.RepoOf(r), r.PathValue("sha")
	var opt struct {
		State       string `json:"state"`
		TargetURL   string `json:"target_url"`
		Description string `json:"description"`
		Context     string `json:"context"`
	}
	if err := json.NewDecoder(r.Body).Decode(&opt); err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	s.State().AddStatus(fakeforge.Status{
		Repo: repo, SHA: sha,
		State: opt.State, TargetURL: opt.TargetURL, Description: opt.Description, Context: opt.Context,
	})
	all := s.State().Statuses(repo, sha)
	now := timestamp(all[len(all)-1].Created)
	writeJSON(w, http.StatusCreated, commitStatus{
		ID:          int64(len(all)),
		State:       opt.State,
		TargetURL:   opt.TargetURL,
		Description: opt.Description,
		URL:         s.URL + apiPrefix + "/repos/" + repo + "/statuses/" + sha,
		Context:     opt.Context,
		Creator:     s.user(s.State().Bot()),
		Created:     now,
		Updated:     now,
	})
}

// GET /orgs/{org}/members/{username}: a requester who is a member of the org learns the answer,
// 204 member or 404 not; a requester asking about itself while not a member gets 404; anyone else
// is sent (303) to /orgs/{org}/public_members/{username}, which the SDK's HTTP client follows.
// https://github.com/go-gitea/gitea/blob/main/routers/api/v1/org/member.go (IsMember)
func (s *Server) checkMember(w http.ResponseWriter, r *http.Request) {
	org, who, bot := r.PathValue("org"), r.PathValue("username"), s.State().Bot()
	switch {
	case s.State().IsMember(org, bot):
		if s.State().IsMember(org, who) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		notFound(w)
	case strings.EqualFold(who, bot):
		notFound(w)
	default:
		http.Redirect(w, r, apiPrefix+"/orgs/"+url.PathEscape(org)+"/public_members/"+url.PathEscape(who), http.StatusSeeOther)
	}
}

// GET /orgs/{org}/public_members/{username}: 204 for a public member, else 404. fakeforge holds
// no public memberships: a Gitea member's membership is private unless they publicise it
// ([service] DEFAULT_ORG_MEMBER_VISIBLE = false), so this is always 404.
// https://github.com/go-gitea/gitea/blob/main/routers/api/v1/org/member.go (IsPublicMember)
// https://docs.gitea.com/administration/config-cheat-sheet#service-service
func (s *Server) checkPublicMember(w http.ResponseWriter, _ *http.Request) {
	notFound(w)
}

// GET /repos/{owner}/{repo}/collaborators/{collaborator}/permission: only a repo admin (or site
// admin) may ask about another user (403 otherwise); the answer is the user's access mode word in
// both permission and role_name.
// https://github.com/go-gitea/gitea/blob/main/routers/api/v1/repo/collaborators.go (GetRepoPermissions)
func (s *Server) getPermission(w http.ResponseWriter, r *http.Request) {
	repo, who, bot := fakeforge.RepoOf(r), r.PathValue("collaborator"), s.State().Bot()
	if !strings.EqualFold(who, bot) && !atLeast(s.State().Permission(repo, bot), "admin") {
		writeError(w, http.StatusForbidden, "Only admins can query all permissions, repo admins can query all repo permissions, collaborators can query only their own")
		return
	}
	p := s.State().Permission(repo, who)
	writeJSON(w, http.StatusOK, collaboratorPermission{Permission: p, RoleName: p, User: s.user(who)})
}

// atLeast orders Gitea's access mode words (perm.AccessMode: none < read < write < admin < owner).
// https://github.com/go-gitea/gitea/blob/main/models/perm/access_mode.go
func atLeast(have, want string) bool {
	modes := []string{"none", "read", "write", "admin", "owner"}
	return slices.Index(modes, have) >= slices.Index(modes, want)
}
