// Package forge is the bridge's one view of a code forge: GitHub (go-github) and Gitea/Forgejo
// (the Gitea SDK) behind one interface, so the trigger, the report and the poll never ask which
// forge they talk to.
package forge

import (
	"context"
	"time"
)

// Permission is a user's access to a repository, ordered: a higher value includes the lower.
type Permission int

// Permissions, lowest first. Only Write and above may trigger runs.
const (
	PermNone Permission = iota
	PermRead
	PermWrite
	PermAdmin
)

// String is the forge's own word for p.
func (p Permission) String() string {
	return [...]string{"none", "read", "write", "admin"}[p]
}

// State is a commit status state; both forges use these four words.
type State string

// Commit status states.
const (
	StatePending State = "pending"
	StateSuccess State = "success"
	StateFailure State = "failure"
	StateError   State = "error"
)

// StatusContext is the commit status context cc-ci owns on every PR head.
const StatusContext = "cc-ci/testme"

// Status is one commit status.
type Status struct {
	State       State
	TargetURL   string
	Description string // forges cap this at 140 characters; implementations truncate
	Context     string
}

// maxDescription is GitHub's limit on a commit status description, in characters; longer is a
// 422. Gitea stores more, but the Forge contract promises one cap for both forges, so the
// summaries read alike.
const maxDescription = 140

// description cuts a status description to maxDescription characters (runes, as GitHub counts
// them, not bytes), ending in "…" when it was cut so a reader knows there was more.
func description(s string) string {
	r := []rune(s)
	if len(r) <= maxDescription {
		return s
	}
	return string(r[:maxDescription-1]) + "…"
}

// PullRequest is what the bridge needs of a PR.
type PullRequest struct {
	Number   int
	Open     bool
	HeadSHA  string // 40-hex commit the PR head points at now
	CloneURL string // the base repository's clone URL
	Author   string
}

// Comment is an issue-style comment on a PR.
type Comment struct {
	ID      int64
	Author  string
	Body    string
	Created time.Time
	Updated time.Time // differs from Created once the comment was edited
}

// Forge is one forge's API, as the bridge uses it. Every method returns a wrapped error naming
// the repo and object on any non-success answer; callers treat an error as "unknown", never as
// "no" (the trust check fails closed on it).
type Forge interface {
	// Name is event.GitHub or event.Gitea.
	Name() string
	// BotLogin is the login the bridge's token belongs to (its own comments are never commands).
	BotLogin(ctx context.Context) (string, error)
	// PullRequest returns PR number of repo ("owner/name") as the forge sees it now.
	PullRequest(ctx context.Context, repo string, number int) (PullRequest, error)
	// OpenPullRequests returns every open PR of repo (all pages).
	OpenPullRequests(ctx context.Context, repo string) ([]PullRequest, error)
	// Comments returns the comments on PR number created or updated at or after since (all pages),
	// oldest first.
	Comments(ctx context.Context, repo string, number int, since time.Time) ([]Comment, error)
	// CreateComment posts body on PR number and returns the new comment's id.
	CreateComment(ctx context.Context, repo string, number int, body string) (int64, error)
	// EditComment replaces the body of comment id.
	EditComment(ctx context.Context, repo string, id int64, body string) error
	// React adds reaction (e.g. "eyes") to comment id; an existing identical reaction is success.
	React(ctx context.Context, repo string, id int64, reaction string) error
	// SetStatus sets a commit status on sha.
	SetStatus(ctx context.Context, repo, sha string, s Status) error
	// IsOrgMember reports whether user is a member of org; a user-owned repo's owner is no org,
	// which is false, not an error.
	IsOrgMember(ctx context.Context, org, user string) (bool, error)
	// Permission returns user's permission on repo.
	Permission(ctx context.Context, repo, user string) (Permission, error)
}
