// Package fakegithub is an HTTP fake of the slice of the GitHub REST API the cc-ci bridge calls
// (pull requests, issue comments, reactions, commit statuses, org membership, repository
// permissions), backed by the shared fakeforge.State. It is test code: the real go-github client
// talks to it over HTTP, so the client code is under test, not a stub of it.
//
// Every behaviour below is the documented GitHub behaviour, with the docs.github.com page named
// beside it. What it does not model is said so where it matters (forks, the 302 that GitHub
// answers a membership check from a non-member, commits that do not exist).
package fakegithub

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"strings"

	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
)

// Server is a running fake GitHub API. It serves both at the root (api.github.com style, a
// go-github BaseURL of URL+"/") and under /api/v3 (GitHub Enterprise Server style, which is what
// go-github's WithEnterpriseURLs(URL, URL) asks for).
type Server struct {
	*fakeforge.Server // URL, Close, State; records, fails and authenticates every request

	token string
	mux   *http.ServeMux
}

// New starts a fake GitHub whose data is state and whose only valid API token is token.
func New(state *fakeforge.State, token string) *Server {
	s := &Server{token: token, mux: http.NewServeMux()}
	s.routes()
	s.Server = fakeforge.Start(state, fakeforge.Front{
		Route:      enterprise,
		Authorized: s.authorized,
		Failure: func(w http.ResponseWriter, status int) {
			writeJSON(w, status, errorBody{Message: http.StatusText(status)})
		},
		// A wrong token is 401 with this body, as GitHub answers it (observed, e.g.
		// https://github.com/hisxo/gitGraber/issues/32).
		Unauthorized: func(w http.ResponseWriter) {
			writeJSON(w, http.StatusUnauthorized, errorBody{
				Message:          "Bad credentials",
				DocumentationURL: "https://docs.github.com/rest",
			})
		},
	}, s.mux)
	return s
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /user", s.getUser)
	s.mux.HandleFunc("GET /repos/{owner}/{repo}/pulls", s.listPulls)
	s.mux.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}", s.getPull)
	s.mux.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}/comments", s.listComments)
	s.mux.HandleFunc("POST /repos/{owner}/{repo}/issues/{number}/comments", s.createComment)
	s.mux.HandleFunc("PATCH /repos/{owner}/{repo}/issues/comments/{id}", s.editComment)
	s.mux.HandleFunc("POST /repos/{owner}/{repo}/issues/comments/{id}/reactions", s.createReaction)
	s.mux.HandleFunc("POST /repos/{owner}/{repo}/statuses/{sha}", s.createStatus)
	s.mux.HandleFunc("GET /orgs/{org}/members/{user}", s.checkMember)
	s.mux.HandleFunc("GET /repos/{owner}/{repo}/collaborators/{user}/permission", s.getPermission)
	// Any other route or method: GitHub answers 404 {"message":"Not Found"}.
	// https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api
	s.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { notFound(w) })
}

// enterprisePrefix is where GitHub Enterprise Server serves the REST API (the code samples of
// every GHES REST page, e.g. https://docs.github.com/enterprise-server@3.8/rest/orgs/members).
const enterprisePrefix = "/api/v3"

// enterprise routes a request under /api/v3 as the same request at the root, remembering the
// prefix so Link headers point back at it; a request at the root goes on as it is.
func enterprise(r *http.Request) (string, *http.Request) {
	path, ok := fakeforge.CutPrefix(r.URL.Path, enterprisePrefix)
	if !ok {
		return path, r
	}
	r = r.Clone(context.WithValue(r.Context(), prefixKey{}, enterprisePrefix))
	r.URL.Path, r.URL.RawPath = path, ""
	return path, r
}

// authorized accepts both header forms GitHub documents for a token: "Bearer <token>" and
// "token <token>". https://docs.github.com/rest/authentication/authenticating-to-the-rest-api
// GitHub serves public data without a token; the fake is stricter and refuses a missing one too,
// since the bridge always sends its token and a request without one is a bug worth seeing.
func (s *Server) authorized(r *http.Request, _ string) bool {
	h := r.Header.Get("Authorization")
	for _, scheme := range []string{"Bearer ", "token "} {
		if t, ok := strings.CutPrefix(h, scheme); ok && s.token != "" && t == s.token {
			return true
		}
	}
	return false
}

// prefixKey carries the path prefix a request came in under, so Link headers point back at it.
type prefixKey struct{}

// errorBody is GitHub's error document.
// https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api
type errorBody struct {
	Message          string       `json:"message"`
	Errors           []fieldError `json:"errors,omitempty"`
	DocumentationURL string       `json:"documentation_url,omitempty"`
}

// fieldError is one entry of a 422 "Validation Failed" answer.
// https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api
type fieldError struct {
	Resource string `json:"resource"`
	Field    string `json:"field"`
	Code     string `json:"code"`
	Message  string `json:"message,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	// The client may have gone; nothing useful to do with an encode error in a fake.
	_ = json.NewEncoder(w).Encode(v)
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, errorBody{
		Message:          "Not Found",
		DocumentationURL: "https://docs.github.com/rest",
	})
}

// badJSON is GitHub's answer to a body that does not parse.
// https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api
func badJSON(w http.ResponseWriter) {
	writeJSON(w, http.StatusBadRequest, errorBody{Message: "Problems parsing JSON"})
}

func invalid(w http.ResponseWriter, resource, field, code, msg string) {
	writeJSON(w, http.StatusUnprocessableEntity, errorBody{
		Message: "Validation Failed",
		Errors:  []fieldError{{Resource: resource, Field: field, Code: code, Message: msg}},
	})
}

// user is GitHub's simple-user object, trimmed to what a client reads.
type user struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
	Type  string `json:"type"`
}

func newUser(login string) user { return user{Login: login, ID: stableID(login), Type: "User"} }

// stableID gives objects the fake state keeps no id for (users, reactions) a stable one.
func stableID(parts ...string) int64 {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return int64(h.Sum64() >> 1)
}

// getUser serves GET /user, the token's own account.
// https://docs.github.com/rest/users/users#get-the-authenticated-user
func (s *Server) getUser(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, newUser(s.State().Bot()))
}
