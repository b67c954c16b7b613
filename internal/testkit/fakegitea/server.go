// Package fakegitea is an HTTP fake of the slice of the Gitea/Forgejo REST API v1 the cc-ci bridge
// calls (server version, the token's user, pull requests, issue comments, comment reactions,
// commit statuses, org membership, repository permissions), backed by the shared
// fakeforge.State. It is test code: the real Gitea SDK (code.gitea.io/sdk/gitea) talks to it over
// HTTP, so the client code is under test, not a stub of it.
//
// Every behaviour below is Gitea's, with the Gitea source file or document named beside it
// (Forgejo is a Gitea fork and answers these routes the same way). Two of them decide trust and
// need the bot seeded the way a real deployment must be:
//   - an org membership check by a bot that is not itself a member of the org only sees public
//     memberships (Gitea redirects it to /public_members), and fakeforge has none: seed
//     State.AddMember(org, bot) for private membership to be visible;
//   - a repository permission query for another user needs the bot to be a repo admin (or
//     owner): seed State.SetPermission(repo, bot, "admin").
//
// Not modelled: repositories that do not exist (every owner/name answers), forks (head.repo is
// the base repo), the bot's own access for comments, reactions and statuses, commits that do
// not exist, and site admins.
package fakegitea

import (
	"encoding/json"
	"hash/fnv"
	"net/http"
	"strings"

	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
)

// Version is what GET /api/v1/version answers: a current Gitea release.
const Version = "1.22.0"

// apiPrefix is where Gitea serves REST API v1.
// https://docs.gitea.com/development/api-usage
const apiPrefix = "/api/v1"

// swaggerURL is what Gitea puts in the "url" field of its error documents
// (setting.API.SwaggerURL, AppURL + "api/swagger").
const swaggerURL = "/api/swagger"

// Server is a running fake Gitea. Its URL is the fake's root URL, e.g. http://127.0.0.1:34567
// (no trailing slash): what a Gitea client is given as the instance URL (the SDK appends /api/v1
// itself).
type Server struct {
	*fakeforge.Server // URL, Close, State; records, fails and authenticates every request

	token string
	mux   *http.ServeMux
}

// New starts a fake Gitea whose data is state and whose only valid API token is token.
func New(state *fakeforge.State, token string) *Server {
	s := &Server{token: token, mux: http.NewServeMux()}
	s.routes()
	s.Server = fakeforge.Start(state, fakeforge.Front{
		Route:      route,
		Authorized: s.authorized,
		Failure: func(w http.ResponseWriter, status int) {
			writeError(w, status, http.StatusText(status))
		},
		// A request without a valid token gets 401 "token is required" (reqToken).
		// https://github.com/go-gitea/gitea/blob/main/routers/api/v1/api.go
		Unauthorized: func(w http.ResponseWriter) {
			writeError(w, http.StatusUnauthorized, "token is required")
		},
	}, s.mux)
	return s
}

func (s *Server) routes() {
	const r = "/api/v1/repos/{owner}/{repo}"
	s.mux.HandleFunc("GET /api/v1/version", s.getVersion)
	s.mux.HandleFunc("GET /api/v1/user", s.getUser)
	s.mux.HandleFunc("GET "+r+"/pulls", s.listPulls)
	s.mux.HandleFunc("GET "+r+"/pulls/{index}", s.getPull)
	s.mux.HandleFunc("GET "+r+"/issues/{index}/comments", s.listComments)
	s.mux.HandleFunc("POST "+r+"/issues/{index}/comments", s.createComment)
	s.mux.HandleFunc("PATCH "+r+"/issues/comments/{id}", s.editComment)
	s.mux.HandleFunc("POST "+r+"/issues/comments/{id}/reactions", s.createReaction)
	s.mux.HandleFunc("POST "+r+"/statuses/{sha}", s.createStatus)
	s.mux.HandleFunc("GET /api/v1/orgs/{org}/members/{username}", s.checkMember)
	s.mux.HandleFunc("GET /api/v1/orgs/{org}/public_members/{username}", s.checkPublicMember)
	s.mux.HandleFunc("GET "+r+"/collaborators/{collaborator}/permission", s.getPermission)
	// Any other route or method: Gitea's 404 document.
	s.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { notFound(w) })
}

// route records and fails a request without the /api/v1 prefix ("/repos/o/r/pulls"), the same
// paths the fake GitHub uses, so one test can fail a route on either forge; the routes see the
// request as it came.
func route(r *http.Request) (string, *http.Request) {
	path, _ := fakeforge.CutPrefix(r.URL.Path, apiPrefix)
	return path, r
}

// authorized accepts the header forms Gitea documents: "token <t>" (what the SDK's SetToken
// sends) and "bearer <t>". GET /version is public: it is routed outside the token-checking group.
// https://docs.gitea.com/development/api-usage
// code.gitea.io/sdk/gitea v0.25.1 client.go, doRequest: Authorization "token "+accessToken.
// https://github.com/go-gitea/gitea/blob/main/routers/api/v1/api.go (m.Get("/version", misc.Version))
func (s *Server) authorized(r *http.Request, path string) bool {
	if r.Method == http.MethodGet && path == "/version" {
		return true
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || s.token == "" || tok != s.token {
		return false
	}
	return scheme == "token" || strings.EqualFold(scheme, "bearer")
}

// apiError is Gitea's error document (context.APIError; NotFound adds "errors").
// https://github.com/go-gitea/gitea/blob/main/services/context/api.go
type apiError struct {
	Message string   `json:"message"`
	URL     string   `json:"url"`
	Errors  []string `json:"errors,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	// The client may have gone; nothing useful to do with an encode error in a fake.
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Message: msg, URL: swaggerURL})
}

// notFound is Gitea's APIErrorNotFound answer: {"message":"The target couldn't be found.",
// "url":..., "errors":[]}. https://github.com/go-gitea/gitea/blob/main/services/context/api.go
func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, struct {
		Message string   `json:"message"`
		URL     string   `json:"url"`
		Errors  []string `json:"errors"`
	}{"The target couldn't be found.", swaggerURL, []string{}})
}

// id is a stable positive database id for a name (users, repos), so the same login always has
// the same id, as on a real instance.
func id(name string) int64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name)) // hash.Hash.Write never fails
	return int64(h.Sum32()%1_000_000) + 1
}
