package fakeforge

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
)

// Front is what one forge's fake does differently in front of its routes: where its API lives,
// how it checks a token and how its error documents look. Everything else in front of the routes
// is the same on every forge and is Server's.
type Front struct {
	// Route returns the path a request is recorded and failed under (State.Record, State.Fail)
	// and the request the routes see. Both forges' paths are recorded without their API prefix,
	// so one test can fail a route on either forge.
	Route func(r *http.Request) (path string, routed *http.Request)
	// Authorized reports whether the request, at path, may reach the routes: it carries the
	// fake's token, or the route is one the forge serves without a token.
	Authorized func(r *http.Request, path string) bool
	// Failure writes the forge's error document for a forced failure with status.
	Failure func(w http.ResponseWriter, status int)
	// Unauthorized writes the forge's answer to a request without a valid token.
	Unauthorized func(w http.ResponseWriter)
}

// Server is a running fake forge API over a State: each wire fake (fakegithub, fakegitea)
// embeds one and brings its own Front and routes.
type Server struct {
	// URL is the fake's root URL, e.g. http://127.0.0.1:34567 (no trailing slash).
	URL string

	srv    *httptest.Server
	state  *State
	front  Front
	routes http.Handler
}

// Start starts a fake forge serving routes over state behind front.
func Start(state *State, front Front, routes http.Handler) *Server {
	s := &Server{state: state, front: front, routes: routes}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close shuts the fake down.
func (s *Server) Close() { s.srv.Close() }

// State is the forge state behind the fake.
func (s *Server) State() *State { return s.state }

// serve is the front of every request: every request is recorded with the status it got; a
// forced failure (State.Fail) stands for an outage, which answers before the forge looks at the
// token; then the token is checked, and only then do the routes see the request.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path, r := s.front.Route(r)
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		s.state.Record(Call{Method: r.Method, Path: path, Status: rec.status})
	}()

	if st := s.state.Failing(path); st != 0 {
		s.front.Failure(rec, st)
		return
	}
	if !s.front.Authorized(r, path) {
		s.front.Unauthorized(rec)
		return
	}
	s.routes.ServeHTTP(rec, r)
}

// recorder remembers the status a handler wrote, for State.Record.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// CutPrefix returns path below the API prefix and true when path is prefix itself or lies under
// it ("/api/v1/user" under "/api/v1"), and path unchanged and false otherwise ("/api/v10" is not
// under "/api/v1").
func CutPrefix(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok || (rest != "" && rest[0] != '/') {
		return path, false
	}
	return rest, true
}

// RepoOf is the "owner/name" of a route with {owner} and {repo} in its pattern, as both forges
// name their repository routes.
func RepoOf(r *http.Request) string { return r.PathValue("owner") + "/" + r.PathValue("repo") }

// CommentRef is the repository and comment id of a route with {owner}, {repo} and {id} in its
// pattern (/repos/{owner}/{repo}/issues/comments/{id}/... on both forges); false when the id is
// not a number, which both fakes answer as an unknown comment (404).
func CommentRef(r *http.Request) (repo string, id int64, ok bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return "", 0, false
	}
	return RepoOf(r), id, true
}
