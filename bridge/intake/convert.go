package intake

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/bridge/event"
	"coopcloud.tech/cc-ci/bridge/trust"
)

var (
	// repoName is a forge "owner/name" (the same rule as the enrolment file's).
	repoName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}/[A-Za-z0-9._-]{1,100}$`)
	// commitSHA is a full commit id: SHA-1, or SHA-256 for Gitea/Forgejo repos in that format.
	commitSHA = regexp.MustCompile(`^[0-9a-f]{40}(?:[0-9a-f]{24})?$`)
)

// account and repository are the parts of the forges' user and repository objects the bridge
// reads; GitHub and Gitea name these fields alike.
type account struct {
	Login string `json:"login"`
}

type repository struct {
	FullName string  `json:"full_name"`
	CloneURL string  `json:"clone_url"`
	Owner    account `json:"owner"`
}

// decode unmarshals a payload, naming invalid JSON as a bad payload.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return badPayload("invalid JSON: %v", err)
	}
	return nil
}

// repoEvent starts an event from the payload's repository. The repo is set for the log lines only
// once it looks like "owner/name"; check rejects the event if it does not.
func repoEvent(r repository) event.Event {
	var ev event.Event
	if repoName.MatchString(r.FullName) {
		ev.Repo = r.FullName
	}
	ev.Owner, ev.CloneURL = r.Owner.Login, r.CloneURL
	return ev
}

// check is the last gate before an event is accepted: whatever the payload, an accepted event
// names a repo, its owner, a PR and what happened (the fuzz tests hold intake to this).
func check(ev event.Event) error {
	owner, _, _ := strings.Cut(ev.Repo, "/")
	switch {
	case ev.Repo == "":
		return badPayload("repository.full_name is not owner/name")
	case !trust.SameLogin(ev.Owner, owner):
		return badPayload("repository.owner.login %q does not own %s", ev.Owner, ev.Repo)
	case ev.PR <= 0:
		return badPayload("pull request number %d", ev.PR)
	case ev.Author == "":
		return badPayload("no author login")
	case ev.Kind == event.Comment && ev.CommentID <= 0:
		return badPayload("comment id %d", ev.CommentID)
	case ev.Kind == event.Push && !commitSHA.MatchString(ev.HeadSHA):
		return badPayload("head sha %q is not a commit id", ev.HeadSHA)
	}
	return nil
}

// commentAction maps a comment event's action to whether it may be a command: only a newly
// created comment is; an edit could turn an old comment into a command after the fact.
func commentAction(action string) error {
	switch action {
	case "created":
		return nil
	case "edited":
		return ignored("comment edited")
	case "deleted":
		return ignored("comment deleted")
	}
	return ignored("comment action not handled")
}

// present reports whether a JSON field was sent with a value other than null.
func present(raw json.RawMessage) bool {
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

// The two forges' payloads, as far as the bridge reads them:
//   - GitHub (https://docs.github.com/en/webhooks/webhook-events-and-payloads): a comment on a PR
//     is an issue_comment whose issue carries a pull_request object; new commits are a
//     pull_request event with action "synchronize".
//   - Gitea and Forgejo (modules/structs/hook.go: IssueCommentPayload, PullRequestPayload): a
//     comment on a PR is an issue_comment with is_pull true and the issue's pull_request
//     metadata; new commits are a pull_request event with action "synchronized".
//
// The fields read have the same names and shapes on both, so one type serves each event; Gitea's
// is_pull is read from Gitea payloads only.

type commentPayload struct {
	Action string `json:"action"`
	Issue  struct {
		Number      int             `json:"number"`
		State       string          `json:"state"`
		PullRequest json.RawMessage `json:"pull_request"`
	} `json:"issue"`
	Comment struct {
		ID        int64     `json:"id"`
		Body      string    `json:"body"`
		User      account   `json:"user"`
		CreatedAt time.Time `json:"created_at"`
	} `json:"comment"`
	Repository repository `json:"repository"`
}

type giteaComment struct {
	commentPayload
	IsPull bool `json:"is_pull"`
}

type pullPayload struct {
	Action      string `json:"action"`
	Number      int    `json:"number"`
	PullRequest struct {
		State string `json:"state"`
		Head  struct {
			SHA string `json:"sha"`
		} `json:"head"`
	} `json:"pull_request"`
	Repository repository `json:"repository"`
	Sender     account    `json:"sender"`
}

// convertGitHub turns a GitHub delivery of event kind into an event.
func convertGitHub(kind string, body []byte) (event.Event, error) {
	switch kind {
	case "issue_comment":
		var p commentPayload
		if err := decode(body, &p); err != nil {
			return event.Event{}, err
		}
		return p.event(present(p.Issue.PullRequest))
	case "pull_request":
		return convertPull(body, "synchronize")
	}
	return event.Event{}, ignored("event not handled")
}

// convertGitea turns a Gitea or Forgejo delivery of event kind into an event.
func convertGitea(kind string, body []byte) (event.Event, error) {
	switch kind {
	case "issue_comment":
		var p giteaComment
		if err := decode(body, &p); err != nil {
			return event.Event{}, err
		}
		return p.event(p.IsPull || present(p.Issue.PullRequest))
	case "pull_request":
		return convertPull(body, "synchronized")
	}
	return event.Event{}, ignored("event not handled")
}

// event converts a decoded comment; onPR is the forge's own word on whether the issue is a PR.
func (p commentPayload) event(onPR bool) (event.Event, error) {
	ev := repoEvent(p.Repository)
	ev.Kind, ev.PR, ev.PROpen = event.Comment, p.Issue.Number, p.Issue.State == "open"
	ev.CommentID, ev.Body, ev.Author = p.Comment.ID, p.Comment.Body, p.Comment.User.Login
	ev.Created = p.Comment.CreatedAt
	return ev, commentGate(ev, p.Action, onPR)
}

// convertPull converts a pull_request delivery; synchronize is the forge's action for new
// commits on the PR.
func convertPull(body []byte, synchronize string) (event.Event, error) {
	var p pullPayload
	if err := decode(body, &p); err != nil {
		return event.Event{}, err
	}
	ev := repoEvent(p.Repository)
	ev.Kind, ev.PR, ev.PROpen = event.Push, p.Number, p.PullRequest.State == "open"
	ev.HeadSHA, ev.Author = p.PullRequest.Head.SHA, p.Sender.Login
	return ev, pushGate(ev, p.Action == synchronize)
}

// commentGate decides a converted comment: only a new comment on an open PR goes on, and only
// with every field an accepted event needs.
func commentGate(ev event.Event, action string, onPR bool) error {
	if err := commentAction(action); err != nil {
		return err
	}
	if !onPR {
		return ignored("comment on an issue, not a pull request")
	}
	if !ev.PROpen {
		return ignored("pull request closed")
	}
	return check(ev)
}

// pushGate decides a converted pull_request event: only new commits on an open PR go on.
func pushGate(ev event.Event, synchronize bool) error {
	if !synchronize {
		return ignored("pull request action not handled")
	}
	if !ev.PROpen {
		return ignored("pull request closed")
	}
	return check(ev)
}
