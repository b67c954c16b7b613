package fakegithub

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"

	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
)

// statusStates are the commit status states GitHub accepts.
// https://docs.github.com/rest/commits/statuses#create-a-commit-status
var statusStates = []string{"error", "failure", "pending", "success"}

// maxStatusDescription is GitHub's limit on a status description; longer is 422 "description is
// too long (maximum is 140 characters)" (seen in the wild, e.g.
// https://github.com/zalando/zappr/issues/378, https://github.com/brigadecore/brigade/issues/38).
const maxStatusDescription = 140

// status is GitHub's commit status object, trimmed.
type status struct {
	ID          int64  `json:"id"`
	URL         string `json:"url"`
	State       string `json:"state"`
	Description string `json:"description"`
	TargetURL   string `json:"target_url"`
	Context     string `json:"context"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
	Creator     user   `json:"creator"`
}

// createStatus serves POST /repos/{owner}/{repo}/statuses/{sha}: 201 with the status; 422 for a
// state outside the four, or a description over 140 characters; context defaults to "default".
// Commits are not modelled, so any sha is accepted (GitHub answers 422 for an unknown one).
// https://docs.github.com/rest/commits/statuses#create-a-commit-status
func (s *Server) createStatus(w http.ResponseWriter, r *http.Request) {
	var in struct {
		State       string `json:"state"`
		TargetURL   string `json:"target_url"`
		Description string `json:"description"`
		Context     string `json:"context"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		badJSON(w)
		return
	}
	if !slices.Contains(statusStates, in.State) {
		invalid(w, "Status", "state", "invalid", "state is not included in the list")
		return
	}
	if utf8.RuneCountInString(in.Description) > maxStatusDescription {
		invalid(w, "Status", "description", "custom", "description is too long (maximum is 140 characters)")
		return
	}
	if in.Context == "" {
		in.Context = "default"
	}
	repo, sha := fakeforge.RepoOf(r), r.PathValue("sha")
	s.State().AddStatus(fakeforge.Status{
		Repo: repo, SHA: sha, State: in.State, TargetURL: in.TargetURL,
		Description: in.Description, Context: in.Context,
	})
	all := s.State().Statuses(repo, sha)
	created := stamp(all[len(all)-1].Created)
	writeJSON(w, http.StatusCreated, status{
		ID:          stableID(repo, sha, strconv.Itoa(len(all))),
		URL:         s.URL + "/repos/" + repo + "/statuses/" + sha,
		State:       in.State,
		Description: in.Description,
		TargetURL:   in.TargetURL,
		Context:     in.Context,
		CreatedAt:   created,
		UpdatedAt:   created,
		Creator:     newUser(s.State().Bot()),
	})
}

// checkMember serves GET /orgs/{org}/members/{user}: 204 for a member, 404 otherwise, which is
// also GitHub's answer when {org} is a user account and not an organization. GitHub answers 302
// (to the public-members check) when the token's user is not itself a member; the state has no
// public/private membership, so that is not modelled.
// https://docs.github.com/rest/orgs/members#check-organization-membership-for-a-user
func (s *Server) checkMember(w http.ResponseWriter, r *http.Request) {
	if s.State().IsMember(r.PathValue("org"), r.PathValue("user")) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	notFound(w)
}

// basePermission maps a role to the legacy base permission GitHub reports in "permission":
// maintain is reported as write and triage as read; role_name keeps the role itself.
// https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user
var basePermission = map[string]string{
	"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read", "none": "none",
}

// permissionLevel is GitHub's repository-collaborator-permission object.
type permissionLevel struct {
	Permission string `json:"permission"`
	RoleName   string `json:"role_name"`
	User       user   `json:"user"`
}

// getPermission serves GET /repos/{owner}/{repo}/collaborators/{user}/permission. The state's
// word may be any GitHub role (admin, maintain, write, triage, read, none).
// https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user
func (s *Server) getPermission(w http.ResponseWriter, r *http.Request) {
	login := r.PathValue("user")
	role := s.State().Permission(fakeforge.RepoOf(r), login)
	base, ok := basePermission[role]
	if !ok {
		// A custom role: GitHub reports its base role, which the state does not know.
		base = role
	}
	writeJSON(w, http.StatusOK, permissionLevel{Permission: base, RoleName: role, User: newUser(login)})
}
