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
	"net/http/httptest"
	"strings"

	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
)

// Server is a running fake GitHub API. It serves both at the root (api.github.com style, a
// go-github BaseURL of URL+"/") and under /api/v3 (GitHub Enterprise Server style, which is what
// go-github's WithEnterpriseURLs(URL, URL) asks for).
type Server struct {
	// URL is the base URL of the fake, e.g. http://127.0.0.1:34567 (no trailing slash).
	URL string

	srv   *httptest.Server
	state *fakeforge.State
	token string
	mux   *http.ServeMux
}

// New starts a fake GitHub whose data is state and whose only valid API token is token.
func New(state *fakeforge.State, token string) *Server {
	s := &Server{state: state, token: token, mux: http.NewServeMux()}
	s.routes()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close shuts the fake down.
func (s *Server) Close() { s.srv.Close() }

// State is the forge state behind the fake.
func (s *Server) State() *fakeforge.State { return s.state }

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

// serve is the front of every request: prefix, forced failures, authentication, recording.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	// GitHub Enterprise Server serves the REST API under /api/v3 (the code samples of every GHES
	// REST page, e.g. https://docs.github.com/enterprise-server@3.8/rest/orgs/members).
	path, prefix := r.URL.Path, ""
	if p, ok := strings.CutPrefix(path, "/api/v3"); ok && (p == "" || p[0] == '/') {
		path, prefix = p, "/api/v3"
		r = r.Clone(context.WithValue(r.Context(), prefixKey{}, prefix))
		r.URL.Path, r.URL.RawPath = p, ""
	}
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		s.state.Record(fakeforge.Call{Method: r.Method, Path: path, Status: rec.status})
	}()

	// A forced failure stands for an outage, which answers before GitHub looks at the token.
	if st := s.state.Failing(path); st != 0 {
		writeJSON(rec, st, errorBody{Message: http.StatusText(st)})
		return
	}
	if !s.authorized(r) {
		// A wrong token is 401 with this body, as GitHub answers it (observed, e.g.
		// https://github.com/hisxo/gitGraber/issues/32). GitHub serves public data without a
		// token; the fake is stricter and refuses a missing one too, since the bridge always
		// sends its token and a request without one is a bug worth seeing.
		writeJSON(rec, http.StatusUnauthorized, errorBody{
			Message:          "Bad credentials",
			DocumentationURL: "https://docs.github.com/rest",
		})
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// authorized accepts both header forms GitHub documents for a token: "Bearer <token>" and
// "token <token>". https://docs.github.com/rest/authentication/authenticating-to-the-rest-api
func (s *Server) authorized(r *http.Request) bool {
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

// recorder remembers the status a handler wrote, for State.Record.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

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
	writeJSON(w, http.StatusOK, newUser(s.state.Bot()))
}

func repoOf(r *http.Request) string { return r.PathValue("owner") + "/" + r.PathValue("repo") }
