package fakegitea

import (
	"strconv"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
)

// The JSON documents below carry Gitea's field names (modules/structs in the Gitea source, the
// same names the SDK's structs decode). Only fields a client could rely on are filled; Gitea
// sends more.
// https://github.com/go-gitea/gitea/tree/main/modules/structs

// user is api.User. https://github.com/go-gitea/gitea/blob/main/modules/structs/user.go
type user struct {
	ID        int64  `json:"id"`
	Login     string `json:"login"`
	LoginName string `json:"login_name"`
	FullName  string `json:"full_name"`
	Email     string `json:"email"`
	AvatarURL string `json:"avatar_url"`
	HTMLURL   string `json:"html_url"`
	Username  string `json:"username"`
	IsAdmin   bool   `json:"is_admin"`
	Active    bool   `json:"active"`
}

// repository is api.Repository. https://github.com/go-gitea/gitea/blob/main/modules/structs/repo.go
type repository struct {
	ID            int64  `json:"id"`
	Owner         user   `json:"owner"`
	Name          string `json:"name"`
	FullName      string `json:"full_name"`
	Private       bool   `json:"private"`
	Fork          bool   `json:"fork"`
	HTMLURL       string `json:"html_url"`
	SSHURL        string `json:"ssh_url"`
	CloneURL      string `json:"clone_url"`
	DefaultBranch string `json:"default_branch"`
}

// branchInfo is api.PRBranchInfo. https://github.com/go-gitea/gitea/blob/main/modules/structs/pull.go
type branchInfo struct {
	Label  string     `json:"label"`
	Ref    string     `json:"ref"`
	Sha    string     `json:"sha"`
	RepoID int64      `json:"repo_id"`
	Repo   repository `json:"repo"`
}

// pullRequest is api.PullRequest. https://github.com/go-gitea/gitea/blob/main/modules/structs/pull.go
type pullRequest struct {
	ID       int64      `json:"id"`
	URL      string     `json:"url"`
	Number   int        `json:"number"`
	User     user       `json:"user"`
	Title    string     `json:"title"`
	Body     string     `json:"body"`
	State    string     `json:"state"` // "open" or "closed"
	HTMLURL  string     `json:"html_url"`
	DiffURL  string     `json:"diff_url"`
	PatchURL string     `json:"patch_url"`
	Merged   bool       `json:"merged"`
	Base     branchInfo `json:"base"`
	Head     branchInfo `json:"head"`
}

// comment is api.Comment. https://github.com/go-gitea/gitea/blob/main/modules/structs/issue_comment.go
type comment struct {
	ID             int64    `json:"id"`
	HTMLURL        string   `json:"html_url"`
	PRURL          string   `json:"pull_request_url"`
	IssueURL       string   `json:"issue_url"`
	User           user     `json:"user"`
	OriginalAuthor string   `json:"original_author"`
	Body           string   `json:"body"`
	Assets         []string `json:"assets"`
	Created        string   `json:"created_at"`
	Updated        string   `json:"updated_at"`
}

// reaction is api.Reaction. https://github.com/go-gitea/gitea/blob/main/modules/structs/issue_reaction.go
type reaction struct {
	User    user   `json:"user"`
	Content string `json:"content"`
	Created string `json:"created_at"`
}

// commitStatus is api.CommitStatus: note the state is "status" on the way out, "state" on the
// way in (api.CreateStatusOption).
// https://github.com/go-gitea/gitea/blob/main/modules/structs/status.go
type commitStatus struct {
	ID          int64  `json:"id"`
	State       string `json:"status"`
	TargetURL   string `json:"target_url"`
	Description string `json:"description"`
	URL         string `json:"url"`
	Context     string `json:"context"`
	Creator     user   `json:"creator"`
	Created     string `json:"created_at"`
	Updated     string `json:"updated_at"`
}

// collaboratorPermission is api.RepoCollaboratorPermission: permission and role_name are both
// the access mode's word ("none", "read", "write", "admin", "owner").
// https://github.com/go-gitea/gitea/blob/main/services/convert/user.go (ToUserAndPermission)
type collaboratorPermission struct {
	Permission string `json:"permission"`
	RoleName   string `json:"role_name"`
	User       user   `json:"user"`
}

// timestamp is how Gitea writes times: it stores Unix seconds (timeutil.TimeStamp), so there is
// never a fraction of a second.
func timestamp(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

func (s *Server) user(login string) user {
	return user{
		ID:        id("user:" + login),
		Login:     login,
		Email:     login + "@noreply.localhost",
		AvatarURL: s.URL + "/avatars/" + login,
		HTMLURL:   s.URL + "/" + login,
		Username:  login,
		Active:    true,
	}
}

func (s *Server) repository(fullName, cloneURL string) repository {
	owner, name, _ := strings.Cut(fullName, "/")
	if cloneURL == "" {
		// Gitea's HTTP clone URL is AppURL + owner/name.git (repo_model.Repository.CloneLink).
		cloneURL = s.URL + "/" + fullName + ".git"
	}
	host := strings.TrimPrefix(strings.TrimPrefix(s.URL, "http://"), "https://")
	return repository{
		ID:            id("repo:" + fullName),
		Owner:         s.user(owner),
		Name:          name,
		FullName:      fullName,
		HTMLURL:       s.URL + "/" + fullName,
		SSHURL:        "git@" + host + ":" + fullName + ".git",
		CloneURL:      cloneURL,
		DefaultBranch: "main",
	}
}

func (s *Server) pullRequest(p fakeforge.PR) pullRequest {
	repo := s.repository(p.Repo, p.CloneURL)
	state := "closed"
	if p.Open {
		state = "open"
	}
	n := strconv.Itoa(p.Number)
	html := s.URL + "/" + p.Repo + "/pulls/" + n
	return pullRequest{
		ID:       id("pr:" + p.Repo + "#" + n),
		URL:      html,
		Number:   p.Number,
		User:     s.user(p.Author),
		Title:    p.Title,
		State:    state,
		HTMLURL:  html,
		DiffURL:  html + ".diff",
		PatchURL: html + ".patch",
		Base:     branchInfo{Label: p.BaseRef, Ref: p.BaseRef, RepoID: repo.ID, Repo: repo},
		Head:     branchInfo{Label: p.HeadRef, Ref: p.HeadRef, Sha: p.HeadSHA, RepoID: repo.ID, Repo: repo},
	}
}

func (s *Server) comment(c fakeforge.Comment) comment {
	pr := s.URL + "/" + c.Repo + "/pulls/" + strconv.Itoa(c.PR)
	return comment{
		ID:      c.ID,
		HTMLURL: pr + "#issuecomment-" + strconv.FormatInt(c.ID, 10),
		PRURL:   pr,
		User:    s.user(c.Author),
		Body:    c.Body,
		Assets:  []string{},
		Created: timestamp(c.Created),
		Updated: timestamp(c.Updated),
	}
}
