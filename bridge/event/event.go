// Package event is the one internal event type every forge webhook is converted to (STYLE 11), so
// everything after intake is forge-agnostic.
package event

import (
	"strconv"
	"time"
)

// Forge names, as sent to Drone in CCCI_FORGE.
const (
	GitHub = "github"
	Gitea  = "gitea" // Gitea and Forgejo speak the same API and payloads
)

// Kind is what happened on the forge.
type Kind string

const (
	// Comment is a newly created comment on a pull request (edits and deletions are never events).
	Comment Kind = "comment"
	// Push is new commits on a pull request's head (GitHub "synchronize", Gitea "synchronized").
	// It never starts a run: it cancels a run in flight on the older head.
	Push Kind = "push"
)

// Event is one forge delivery the bridge may act on.
type Event struct {
	Forge      string    // GitHub or Gitea
	DeliveryID string    // X-GitHub-Delivery / X-Gitea-Delivery / X-Forgejo-Delivery
	Kind       Kind      // Comment or Push
	Repo       string    // forge "owner/name"
	Owner      string    // the repo owner (org or user) the trust check asks about
	PR         int       // pull request number
	PROpen     bool      // the PR's state in the payload
	HeadSHA    string    // Push: the new head; Comment: empty (the head is pinned from the API)
	CommentID  int64     // Comment: the comment's id
	Body       string    // Comment: the comment's body
	Author     string    // Comment: who wrote it; Push: who pushed
	CloneURL   string    // the base repo's clone URL
	Received   time.Time // when intake accepted it (or the poll found it), in the bridge's clock
	Created    time.Time // Comment: when the forge says the comment was made (the forge's clock)
	Polled     bool      // found by the poll's catch-up, not delivered by a webhook
}

// Said is when the commenter asked, in the bridge's clock where it can be: a webhook arrives
// within moments of the comment, so its arrival is the comment's time in the same clock as the
// pushes the bridge records; a comment the poll caught up has only the forge's time.
func (e Event) Said() time.Time {
	if e.Polled && !e.Created.IsZero() {
		return e.Created
	}
	return e.Received
}

// Key is the identity of a request: the comment it came from (a redelivery, a poll and the
// original delivery of one comment are one request); a push is the PR and the head it moved to.
func (e Event) Key() string {
	if e.Kind == Push {
		return PRKey(e.Forge, e.Repo, e.PR) + "@" + e.HeadSHA
	}
	return RequestKey(e.Forge, e.Repo, e.CommentID)
}

// RequestKey is Event.Key for a comment known by its parts (the poll's catch-up finds comments,
// not deliveries).
func RequestKey(forge, repo string, commentID int64) string {
	return forge + "/" + repo + "#c" + strconv.FormatInt(commentID, 10)
}

// PRKey names a pull request across forges.
func PRKey(forge, repo string, pr int) string {
	return forge + "/" + repo + "#" + strconv.Itoa(pr)
}
