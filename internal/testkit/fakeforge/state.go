// Package fakeforge is the state behind the fake GitHub and fake Gitea APIs (fakegithub,
// fakegitea): pull requests, comments, reactions, commit statuses, org members and repository
// permissions. It is test code. Each fake translates its forge's wire format to and from this one
// model, so an end-to-end test asks the same questions of either forge: which reactions, which
// statuses, which comments did the PR receive. Server is the HTTP front both fakes share:
// recording every call, forced failures (State.Fail) and the token check before the routes.
package fakeforge

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// PR is a pull request as the fake forge holds it.
type PR struct {
	Repo     string // owner/name
	Number   int
	Open     bool
	HeadSHA  string
	HeadRef  string // head branch name
	BaseRef  string // base branch name, "main" when empty
	Author   string
	Title    string
	CloneURL string // set by the wire fake from its own URL when empty
}

// Comment is an issue comment on a PR.
type Comment struct {
	ID      int64
	Repo    string
	PR      int
	Author  string
	Body    string
	Created time.Time
	Updated time.Time
	Edits   int // how many times it was edited through the API
}

// Status is one commit status as posted.
type Status struct {
	Repo, SHA                              string
	State, TargetURL, Description, Context string
	Created                                time.Time
}

// Reaction is one reaction on a comment.
type Reaction struct {
	Repo      string
	CommentID int64
	User      string
	Content   string
}

// Call is one API request the fake served, for assertions about what a client asked.
type Call struct {
	Method, Path string
	Status       int
}

// State is the whole fake forge. The zero value is not usable: call New.
type State struct {
	mu        sync.Mutex
	bot       string
	prs       map[string]*PR
	comments  []*Comment
	statuses  []Status
	reactions []Reaction
	members   map[string]map[string]bool
	perms     map[string]map[string]string
	calls     []Call
	failing   map[string]int // path prefix -> HTTP status to answer with
	nextID    int64
	now       func() time.Time
}

// New returns an empty forge whose API token belongs to bot.
func New(bot string) *State {
	return &State{
		bot:     bot,
		prs:     map[string]*PR{},
		members: map[string]map[string]bool{},
		perms:   map[string]map[string]string{},
		failing: map[string]int{},
		nextID:  1000,
		now:     time.Now,
	}
}

func prKey(repo string, n int) string { return fmt.Sprintf("%s#%d", repo, n) }

// Bot is the login the fake's API token belongs to.
func (s *State) Bot() string { return s.bot }

// AddPR adds or replaces a pull request.
func (s *State) AddPR(pr PR) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pr.BaseRef == "" {
		pr.BaseRef = "main"
	}
	p := pr
	s.prs[prKey(pr.Repo, pr.Number)] = &p
}

// PR returns a copy of a pull request.
func (s *State) PR(repo string, n int) (PR, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.prs[prKey(repo, n)]
	if !ok {
		return PR{}, false
	}
	return *p, true
}

// OpenPRs returns the open pull requests of repo, by number.
func (s *State) OpenPRs(repo string) []PR {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []PR
	for _, p := range s.prs {
		if p.Repo == repo && p.Open {
			out = append(out, *p)
		}
	}
	slices.SortFunc(out, func(a, b PR) int { return a.Number - b.Number })
	return out
}

// SetHead moves a PR's head to sha (a push).
func (s *State) SetHead(repo string, n int, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.prs[prKey(repo, n)]; ok {
		p.HeadSHA = sha
	}
}

// SetOpen opens or closes a PR.
func (s *State) SetOpen(repo string, n int, open bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.prs[prKey(repo, n)]; ok {
		p.Open = open
	}
}

// AddMember makes user a member of org.
func (s *State) AddMember(org, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.members[org] == nil {
		s.members[org] = map[string]bool{}
	}
	s.members[org][user] = true
}

// IsMember reports org membership.
func (s *State) IsMember(org, user string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.members[org][user]
}

// SetPermission sets user's permission on repo: "admin", "write", "read" or "none".
func (s *State) SetPermission(repo, user, perm string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perms[repo] == nil {
		s.perms[repo] = map[string]string{}
	}
	s.perms[repo][user] = perm
}

// Permission is user's permission on repo ("none" when never set).
func (s *State) Permission(repo, user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.perms[repo][user]; ok {
		return p
	}
	return "none"
}

// AddComment posts a comment as author (a maintainer typing on the forge) and returns it.
func (s *State) AddComment(repo string, pr int, author, body string) Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	now := s.now()
	c := &Comment{ID: s.nextID, Repo: repo, PR: pr, Author: author, Body: body, Created: now, Updated: now}
	s.comments = append(s.comments, c)
	return *c
}

// EditComment replaces a comment's body; false when there is no such comment in repo.
func (s *State) EditComment(repo string, id int64, body string) (Comment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.comments {
		if c.ID == id && c.Repo == repo {
			c.Body = body
			c.Updated = s.now()
			c.Edits++
			return *c, true
		}
	}
	return Comment{}, false
}

// Comment returns one comment by id.
func (s *State) Comment(repo string, id int64) (Comment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.comments {
		if c.ID == id && c.Repo == repo {
			return *c, true
		}
	}
	return Comment{}, false
}

// Comments returns the comments on a PR, oldest first.
func (s *State) Comments(repo string, pr int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if c.Repo == repo && c.PR == pr {
			out = append(out, *c)
		}
	}
	return out
}

// CommentsBy returns the comments on a PR written by author.
func (s *State) CommentsBy(repo string, pr int, author string) []Comment {
	var out []Comment
	for _, c := range s.Comments(repo, pr) {
		if c.Author == author {
			out = append(out, c)
		}
	}
	return out
}

// AddReaction records a reaction and reports whether it is new; an identical one already there
// is kept once (both forges answer an existing reaction with success, not a duplicate, and tell
// the two apart by status: 201 new, 200 existing).
func (s *State) AddReaction(r Reaction) (added bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(s.reactions, r) {
		return false
	}
	s.reactions = append(s.reactions, r)
	return true
}

// Reactions returns the reactions on a comment.
func (s *State) Reactions(repo string, commentID int64) []Reaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Reaction
	for _, r := range s.reactions {
		if r.Repo == repo && r.CommentID == commentID {
			out = append(out, r)
		}
	}
	return out
}

// AddStatus records a commit status.
func (s *State) AddStatus(st Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st.Created = s.now()
	s.statuses = append(s.statuses, st)
}

// Statuses returns every status posted on sha of repo, oldest first.
func (s *State) Statuses(repo, sha string) []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Status
	for _, st := range s.statuses {
		if st.Repo == repo && st.SHA == sha {
			out = append(out, st)
		}
	}
	return out
}

// Fail makes every request whose path starts with prefix answer status (0 heals it), to test
// how clients treat API errors.
func (s *State) Fail(prefix string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		delete(s.failing, prefix)
		return
	}
	s.failing[prefix] = status
}

// Failing returns the forced status for path, or 0.
func (s *State) Failing(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, st := range s.failing {
		if len(path) >= len(p) && path[:len(p)] == p {
			return st
		}
	}
	return 0
}

// Record notes one served request.
func (s *State) Record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

// Calls returns every served request, in order.
func (s *State) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// SetClock replaces the clock that stamps comments and statuses, so a test can place comments
// on either side of a time (e.g. a `since` filter) without waiting for the wall clock.
func (s *State) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}
