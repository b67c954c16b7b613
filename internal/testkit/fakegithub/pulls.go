package fakegithub

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
)

// pull is GitHub's pull-request object, trimmed to the fields a client reads.
// https://docs.github.com/rest/pulls/pulls#get-a-pull-request
type pull struct {
	ID      int64  `json:"id"`
	Number  int    `json:"number"`
	State   string `json:"state"` // "open" or "closed"
	Title   string `json:"title"`
	User    user   `json:"user"`
	Head    branch `json:"head"`
	Base    branch `json:"base"`
	URL     string `json:"url"`
	HTMLURL string `json:"html_url"`
}

// branch is a PR's head or base.
type branch struct {
	Label string     `json:"label"`
	Ref   string     `json:"ref"`
	SHA   string     `json:"sha,omitempty"` // the fake keeps no base SHA
	User  user       `json:"user"`
	Repo  repository `json:"repo"`
}

// repository is GitHub's repository object, trimmed.
type repository struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	FullName string `json:"full_name"`
	Owner    user   `json:"owner"`
	CloneURL string `json:"clone_url"`
	HTMLURL  string `json:"html_url"`
}

func (s *Server) repository(full, cloneURL string) repository {
	owner, name, _ := strings.Cut(full, "/")
	if cloneURL == "" {
		cloneURL = s.URL + "/" + full + ".git"
	}
	return repository{
		ID: stableID(full), Name: name, FullName: full, Owner: newUser(owner),
		CloneURL: cloneURL, HTMLURL: s.URL + "/" + full,
	}
}

// pull renders p. Forks are not modelled: the head branch lives in the base repository.
func (s *Server) pull(p fakeforge.PR) pull {
	state := "closed"
	if p.Open {
		state = "open"
	}
	repo := s.repository(p.Repo, p.CloneURL)
	owner := repo.Owner.Login
	return pull{
		ID:     stableID(p.Repo, strconv.Itoa(p.Number)),
		Number: p.Number,
		State:  state,
		Title:  p.Title,
		User:   newUser(p.Author),
		Head: branch{
			Label: owner + ":" + p.HeadRef, Ref: p.HeadRef, SHA: p.HeadSHA,
			User: repo.Owner, Repo: repo,
		},
		Base: branch{
			Label: owner + ":" + p.BaseRef, Ref: p.BaseRef,
			User: repo.Owner, Repo: repo,
		},
		URL:     s.URL + "/repos/" + p.Repo + "/pulls/" + strconv.Itoa(p.Number),
		HTMLURL: s.URL + "/" + p.Repo + "/pull/" + strconv.Itoa(p.Number),
	}
}

// getPull serves GET /repos/{owner}/{repo}/pulls/{number}: 200 with the PR (open or closed),
// 404 when there is none. https://docs.github.com/rest/pulls/pulls#get-a-pull-request
func (s *Server) getPull(w http.ResponseWriter, r *http.Request) {
	p, ok := s.pr(r)
	if !ok {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, s.pull(p))
}

// listPulls serves GET /repos/{owner}/{repo}/pulls. state defaults to "open"; the default sort
// is by creation, newest first; the answer is paginated.
// https://docs.github.com/rest/pulls/pulls#list-pull-requests
func (s *Server) listPulls(w http.ResponseWriter, r *http.Request) {
	switch st := r.URL.Query().Get("state"); st {
	case "", "open":
	case "closed", "all":
		// The shared state can list open PRs only; say so rather than answer wrongly.
		writeJSON(w, http.StatusNotImplemented, errorBody{Message: "fakegithub: state=" + st + " is not modelled"})
		return
	default:
		invalid(w, "PullRequest", "state", "invalid", "state must be open, closed or all")
		return
	}
	prs := s.State().OpenPRs(fakeforge.RepoOf(r))
	// Numbers grow with creation time, so newest first is highest number first.
	slices.Reverse(prs)
	lo, hi := paginate(w, r, len(prs))
	out := make([]pull, 0, hi-lo)
	for _, p := range prs[lo:hi] {
		out = append(out, s.pull(p))
	}
	writeJSON(w, http.StatusOK, out)
}
