package fakegithub

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
)

// comment is GitHub's issue-comment object, trimmed. Timestamps are ISO 8601 in UTC to the
// second, as GitHub writes them.
// https://docs.github.com/rest/issues/comments#get-an-issue-comment
type comment struct {
	ID        int64  `json:"id"`
	URL       string `json:"url"`
	HTMLURL   string `json:"html_url"`
	IssueURL  string `json:"issue_url"`
	Body      string `json:"body"`
	User      user   `json:"user"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (s *Server) comment(c fakeforge.Comment) comment {
	id := strconv.FormatInt(c.ID, 10)
	return comment{
		ID:        c.ID,
		URL:       s.URL + "/repos/" + c.Repo + "/issues/comments/" + id,
		HTMLURL:   s.URL + "/" + c.Repo + "/pull/" + strconv.Itoa(c.PR) + "#issuecomment-" + id,
		IssueURL:  s.URL + "/repos/" + c.Repo + "/issues/" + strconv.Itoa(c.PR),
		Body:      c.Body,
		User:      newUser(c.Author),
		CreatedAt: stamp(c.Created),
		UpdatedAt: stamp(c.Updated),
	}
}

// pr resolves the {number} of a pull or issue route to a PR of the state; every PR is an issue
// on GitHub, and the fake holds no plain issues.
func (s *Server) pr(r *http.Request) (fakeforge.PR, bool) {
	n, err := strconv.Atoi(r.PathValue("number"))
	if err != nil {
		return fakeforge.PR{}, false
	}
	return s.State().PR(fakeforge.RepoOf(r), n)
}

// existingComment resolves the {id} of a comment route to a comment of the repo; false when
// there is none.
func (s *Server) existingComment(r *http.Request) (repo string, id int64, ok bool) {
	if repo, id, ok = fakeforge.CommentRef(r); ok {
		_, ok = s.State().Comment(repo, id)
	}
	return repo, id, ok
}

// listComments serves GET /repos/{owner}/{repo}/issues/{number}/comments: ordered by ascending
// id, paginated, and with since keeping only comments updated at or after that time (ISO 8601,
// to the second). 404 when there is no such issue, 422 for a since that does not parse.
// https://docs.github.com/rest/issues/comments#list-issue-comments
func (s *Server) listComments(w http.ResponseWriter, r *http.Request) {
	p, ok := s.pr(r)
	if !ok {
		notFound(w)
		return
	}
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			invalid(w, "IssueComment", "since", "invalid", "since must be an ISO 8601 timestamp")
			return
		}
		since = t
	}
	all := s.State().Comments(p.Repo, p.Number)
	// GitHub keeps timestamps to the second, so compare what the wire shows.
	all = slices.DeleteFunc(all, func(c fakeforge.Comment) bool {
		return c.Updated.Truncate(time.Second).Before(since)
	})
	slices.SortStableFunc(all, func(a, b fakeforge.Comment) int { return cmp.Compare(a.ID, b.ID) })
	lo, hi := paginate(w, r, len(all))
	out := make([]comment, 0, hi-lo)
	for _, c := range all[lo:hi] {
		out = append(out, s.comment(c))
	}
	writeJSON(w, http.StatusOK, out)
}

// bodyOf decodes a {"body": ...} request. A body that does not parse is 400, a missing body 422.
// https://docs.github.com/rest/issues/comments#create-an-issue-comment
func bodyOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	var in struct {
		Body *string `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		badJSON(w)
		return "", false
	}
	if in.Body == nil {
		invalid(w, "IssueComment", "body", "missing_field", "")
		return "", false
	}
	return *in.Body, true
}

// createComment serves POST /repos/{owner}/{repo}/issues/{number}/comments as the token's own
// user: 201 with the comment and its Location, 404 when there is no such issue.
// https://docs.github.com/rest/issues/comments#create-an-issue-comment
func (s *Server) createComment(w http.ResponseWriter, r *http.Request) {
	p, ok := s.pr(r)
	if !ok {
		notFound(w)
		return
	}
	body, ok := bodyOf(w, r)
	if !ok {
		return
	}
	c := s.comment(s.State().AddComment(p.Repo, p.Number, s.State().Bot(), body))
	w.Header().Set("Location", c.URL)
	writeJSON(w, http.StatusCreated, c)
}

// editComment serves PATCH /repos/{owner}/{repo}/issues/comments/{id}: 200 with the updated
// comment, 404 when the repo has no such comment.
// https://docs.github.com/rest/issues/comments#update-an-issue-comment
func (s *Server) editComment(w http.ResponseWriter, r *http.Request) {
	repo, id, ok := s.existingComment(r)
	if !ok {
		notFound(w)
		return
	}
	body, ok := bodyOf(w, r)
	if !ok {
		return
	}
	c, ok := s.State().EditComment(repo, id, body)
	if !ok {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, s.comment(c))
}

// reactionContents are the reactions GitHub accepts.
// https://docs.github.com/rest/reactions/reactions#about-reactions
var reactionContents = []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}

// reaction is GitHub's reaction object.
type reaction struct {
	ID        int64  `json:"id"`
	User      user   `json:"user"`
	Content   string `json:"content"`
	CreatedAt string `json:"created_at"`
}

// createReaction serves POST /repos/{owner}/{repo}/issues/comments/{id}/reactions as the
// token's own user: 201 for a new reaction, 200 with the existing one when this user already
// reacted with that content, 422 for an unknown content, 404 for an unknown comment.
// https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue-comment
func (s *Server) createReaction(w http.ResponseWriter, r *http.Request) {
	repo, id, ok := s.existingComment(r)
	if !ok {
		notFound(w)
		return
	}
	var in struct {
		Content string `json:"content"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		badJSON(w)
		return
	}
	if !slices.Contains(reactionContents, in.Content) {
		invalid(w, "Reaction", "content", "invalid", "")
		return
	}
	bot := s.State().Bot()
	re := fakeforge.Reaction{Repo: repo, CommentID: id, User: bot, Content: in.Content}
	status := http.StatusOK
	if s.State().AddReaction(re) {
		status = http.StatusCreated
	}
	writeJSON(w, status, reaction{
		ID:        stableID(repo, strconv.FormatInt(id, 10), bot, in.Content),
		User:      newUser(bot),
		Content:   in.Content,
		CreatedAt: stamp(time.Now()),
	})
}
