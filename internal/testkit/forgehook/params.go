package forgehook

import "time"

// CommentParams describes a comment delivery. Zero fields take the defaults noted; Body is used
// as is (an empty body is a valid test case).
type CommentParams struct {
	ID        string    // delivery id; default GUID()
	Repo      string    // "owner/name"; default "coop-cloud/sample"
	PR        int       // PR (or issue) number; default 1
	CommentID int64     // default 1
	Body      string    // the comment's text
	Author    string    // the commenter's login; default "maintainer"
	Action    string    // "created" (default), "edited" or "deleted"
	PRState   string    // "open" (default) or "closed"
	OnIssue   bool      // the comment is on a plain issue, not a pull request
	UserOwner bool      // GitHub only: the repo belongs to a user, not an organisation
	CloneURL  string    // default the forge's https clone URL of Repo
	BaseURL   string    // Gitea only: the instance's URL; default https://git.coopcloud.tech
	Time      time.Time // when the comment was made; default 2024-05-01T12:00:00Z
	Forgejo   bool      // Gitea only: a Forgejo delivery (X-Forgejo-* headers too)
}

// PushParams describes new commits on a pull request's head (GitHub "synchronize", Gitea
// "synchronized"). Zero fields take the defaults noted.
type PushParams struct {
	ID        string    // delivery id; default GUID()
	Repo      string    // "owner/name"; default "coop-cloud/sample"
	PR        int       // default 1
	HeadSHA   string    // the new head; default SHA(Repo + "#head")
	Before    string    // GitHub only: the previous head; default SHA(Repo + "#before")
	Sender    string    // who pushed; default "contributor"
	Action    string    // default "synchronize" (GitHub) or "synchronized" (Gitea)
	PRState   string    // "open" (default) or "closed"
	UserOwner bool      // GitHub only: the repo belongs to a user, not an organisation
	CloneURL  string    // default the forge's https clone URL of Repo
	BaseURL   string    // Gitea only: the instance's URL; default https://git.coopcloud.tech
	Time      time.Time // when the push happened; default 2024-05-01T12:00:00Z
	Forgejo   bool      // Gitea only: a Forgejo delivery (X-Forgejo-* headers too)
}

// DefaultTime is the default event time: fixed, so deliveries are reproducible.
var DefaultTime = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// DefaultGiteaURL is the default Gitea instance, Co-op Cloud's.
const DefaultGiteaURL = "https://git.coopcloud.tech"

func (p CommentParams) withDefaults() CommentParams {
	p.ID = or(p.ID, GUID())
	p.Repo = or(p.Repo, "coop-cloud/sample")
	p.Author = or(p.Author, "maintainer")
	p.Action = or(p.Action, "created")
	p.PRState = or(p.PRState, "open")
	p.BaseURL = or(p.BaseURL, DefaultGiteaURL)
	if p.PR == 0 {
		p.PR = 1
	}
	if p.CommentID == 0 {
		p.CommentID = 1
	}
	if p.Time.IsZero() {
		p.Time = DefaultTime
	}
	return p
}

func (p PushParams) withDefaults(action string) PushParams {
	p.ID = or(p.ID, GUID())
	p.Repo = or(p.Repo, "coop-cloud/sample")
	p.HeadSHA = or(p.HeadSHA, SHA(p.Repo+"#head"))
	p.Before = or(p.Before, SHA(p.Repo+"#before"))
	p.Sender = or(p.Sender, "contributor")
	p.Action = or(p.Action, action)
	p.PRState = or(p.PRState, "open")
	p.BaseURL = or(p.BaseURL, DefaultGiteaURL)
	if p.PR == 0 {
		p.PR = 1
	}
	if p.Time.IsZero() {
		p.Time = DefaultTime
	}
	return p
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
