// Package fakedrone is a FAKE Drone server (test code) that the real drone-go v1.7.1 client talks
// to over HTTP. It serves the build endpoints cc-ci uses (create, find, list, cancel, logs), runs
// each created build with a Runner (ExecRunner runs a real binary such as cc-ci-plugin the way
// Drone's exec runner runs a step), and sends Drone's signed build webhooks.
//
// Every behaviour imitates real Drone and names its source beside the code. Sources, read in
// the code corpus (drone/drone files were read at their mirror kyxg/AutoTrash where drone/drone
// itself is not stored):
//   - github.com/drone/drone handler/api/api.go (routes), handler/api/repos/builds/{create,find,
//     list,cancel}.go, handler/api/repos/builds/logs/find.go, handler/api/render/render.go,
//     handler/api/acl/check.go, trigger/trigger.go, operator/manager/{setup,teardown}.go,
//     operator/runner/runner.go, plugin/webhook/webhook.go, store/build/build.go;
//   - github.com/drone-runners/drone-runner-exec engine/exec.go, engine/compiler/{compiler,env,
//     vars}.go; github.com/drone-runners/drone-runner-docker engine/engine.go;
//   - github.com/drone/runner-go environ/environ.go, livelog/livelog.go;
//   - docs.drone.io (github.com/drone/docs content/api/builds/*.md, content/webhooks/payload.md).
//
// Deliberate differences from a real server: no database, no forge (a create names its commit or
// a branch in Config.BranchHeads), one stage with one step per build, and the runner starts at
// once (no queue, no capacity).
package fakedrone

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	"github.com/drone/drone-go/drone"
)

// Runner executes one build: it writes the step's output to log and returns the step's exit
// code, or an error when the step could not run at all (Drone then marks the build "error").
// ctx is cancelled when the build is cancelled; the runner must return soon after.
type Runner func(ctx context.Context, b drone.Build, log io.Writer) (exitCode int, err error)

// DefaultToken is the API token used when Config.Token is empty.
const DefaultToken = "fakedrone-token"

// Config configures a fake Drone server. Only Token matters for most tests; zero values take the
// defaults named on each field.
type Config struct {
	// Token is the only accepted API token (DefaultToken when empty).
	Token string
	// Runner runs every created build; nil runs nothing and exits 0 (see also SetRunner).
	Runner Runner
	// WebhookEndpoint receives Drone's global webhooks (DRONE_WEBHOOK_ENDPOINT); empty sends none.
	WebhookEndpoint string
	// WebhookSecret signs the webhooks (DRONE_WEBHOOK_SECRET).
	WebhookSecret string
	// WebhookEvents filters webhooks like DRONE_WEBHOOK_EVENTS: patterns such as "build:*" or
	// "build:updated" matched against "event:action"; empty sends every event.
	WebhookEvents []string
	// LinkBase is the server's public address, the base of UI links
	// <LinkBase>/<owner>/<name>/<number> (the fake's own URL when empty).
	LinkBase string
	// ForgeURL is the forge the repos live on, for repo and commit links
	// ("https://forge.invalid" when empty).
	ForgeURL string
	// Repos, when set, are the only repositories ("owner/name") the server knows; others answer
	// 404. Empty: every repository exists.
	Repos []string
	// DefaultBranch is every repo's default branch ("main" when empty).
	DefaultBranch string
	// BranchHeads maps a branch to its head commit, used when a create names no commit (Drone
	// asks the forge); a branch missing here answers 404 as Drone does when the forge cannot
	// resolve it.
	BranchHeads map[string]string
	// User is the login of the token's user: the trigger and sender of created builds
	// ("cc-ci-bot" when empty).
	User string
	// StageName and StepName name the build's single stage and step ("recipe-run" and "cc-ci",
	// as in cc-ci's .drone.yml).
	StageName, StepName string
	// Logger receives the fake's own diagnostics (webhook failures); discarded when nil.
	Logger *slog.Logger
}

// Server is a running fake Drone server.
type Server struct {
	// URL is the server's base URL, as given to drone.NewClient.
	URL string

	cfg   Config
	srv   *httptest.Server
	log   *slog.Logger
	hooks *hookQueue

	mu       sync.Mutex
	runner   Runner
	down     bool
	repos    map[string]*repoState
	nextID   int64 // build, stage and step ids share one sequence
	creates  int
	cancels  int
	changed  chan struct{} // closed and replaced on every change (see notifyLocked)
	running  sync.WaitGroup
	closing  bool
	closeAll context.CancelFunc
	baseCtx  context.Context
}

// New starts a fake Drone server; Close it when done.
func New(cfg Config) *Server {
	if cfg.Token == "" {
		cfg.Token = DefaultToken
	}
	if cfg.ForgeURL == "" {
		cfg.ForgeURL = "https://forge.invalid"
	}
	cfg.ForgeURL = strings.TrimSuffix(cfg.ForgeURL, "/")
	if cfg.DefaultBranch == "" {
		cfg.DefaultBranch = "main"
	}
	if cfg.User == "" {
		cfg.User = "cc-ci-bot"
	}
	if cfg.StageName == "" {
		cfg.StageName = "recipe-run"
	}
	if cfg.StepName == "" {
		cfg.StepName = "cc-ci"
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: logger, runner: cfg.Runner, repos: map[string]*repoState{},
		changed: make(chan struct{})}
	s.baseCtx, s.closeAll = context.WithCancel(context.Background())
	s.srv = httptest.NewServer(s.routes())
	s.URL = s.srv.URL
	if s.cfg.LinkBase == "" {
		s.cfg.LinkBase = s.URL
	}
	s.cfg.LinkBase = strings.TrimSuffix(s.cfg.LinkBase, "/")
	s.hooks = newHookQueue(s.baseCtx, cfg.WebhookEndpoint, cfg.WebhookSecret, logger)
	return s
}

// Close cancels every running build, waits for its runner, stops webhook delivery and shuts the
// HTTP server down.
func (s *Server) Close() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.closeAll()
	s.running.Wait()
	s.hooks.close()
	s.srv.Close()
}

// Client returns a drone-go client for this server that sends the configured token as
// "Authorization: Bearer <token>", exactly what the oauth2 transport of drone-go's README sends.
func (s *Server) Client() drone.Client {
	return drone.NewClient(s.URL, &http.Client{Transport: BearerTransport{Token: s.cfg.Token}})
}

// BearerTransport adds "Authorization: Bearer <Token>" to each request, as golang.org/x/oauth2's
// Transport does with a static token (the way drone-go's README authenticates).
type BearerTransport struct {
	Token string
	// Base is the underlying transport (http.DefaultTransport when nil).
	Base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t BearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.Token)
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

// SetRunner replaces the runner for builds created from now on.
func (s *Server) SetRunner(r Runner) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runner = r
}

// SetDown simulates an outage: while down every API request answers 503 and so no build is
// created (running builds carry on and still send their webhooks).
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// DropWebhooks makes the fake lose (true) or deliver (false) the webhooks of events that happen
// from now on. Drone delivers each webhook once and never retries (plugin/webhook/webhook.go
// returns the error and the callers only log it), so a lost one stays lost.
func (s *Server) DropWebhooks(drop bool) { s.hooks.setDrop(drop) }

// BuildLink is the build's page in Drone's UI, <LinkBase>/<owner>/<name>/<number>: the
// DRONE_BUILD_LINK of drone/runner-go environ.Link. Note that Build.Link is NOT this: Drone sets
// it to the commit's link on the forge (trigger/trigger.go copies hook.Link = commit.Link).
func (s *Server) BuildLink(owner, name string, number int64) string {
	return s.cfg.LinkBase + "/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + "/" +
		formatInt(number)
}

// routes is Drone's API surface as far as cc-ci uses it (handler/api/api.go, route group
// /api/repos/{owner}/{name}/builds). Unknown paths answer 404 and known paths with another
// method 405, as chi does. Authentication is checked per route, so an unknown path answers 404
// even without a token (Drone's auth middleware only attaches the user; the acl middleware of
// each route rejects).
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	const builds = "/api/repos/{owner}/{name}/builds"
	mux.Handle("POST "+builds, s.authed(s.handleCreate))
	mux.Handle("GET "+builds, s.authed(s.handleList))
	mux.Handle("GET "+builds+"/{number}", s.authed(s.handleFind))
	mux.Handle("DELETE "+builds+"/{number}", s.authed(s.handleCancel))
	mux.Handle("GET "+builds+"/{number}/logs/{stage}/{step}", s.authed(s.handleLogs))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		down := s.down
		s.mu.Unlock()
		if down {
			// What a reverse proxy in front of a stopped Drone answers.
			http.Error(w, "fakedrone: service unavailable", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// authed requires the token as "Authorization: Bearer <token>" or ?access_token= (the create
// handler skips an access_token query key when collecting params, create.go). Without a valid
// token Drone's acl answers 401 {"message":"Unauthorized"} (acl/check.go, render.go).
func (s *Server) authed(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.URL.Query().Get("access_token")
		if auth := r.Header.Get("Authorization"); auth != "" {
			token = strings.TrimPrefix(auth, "Bearer ")
		}
		if token != s.cfg.Token {
			writeError(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		h(w, r)
	})
}

// writeJSON is render.JSON: the value JSON-encoded with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away: nothing to do
}

// writeError is render.ErrorCode: {"message": ...} with the status.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}
