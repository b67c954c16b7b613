// Package server is the bridge's lifecycle: Settings -> Validate -> Execute. It wires intake,
// the store, the trigger worker, the poll and the HTTP server, and shuts down gracefully: in-flight
// webhooks are answered, the worker finishes the request in hand, the queue stays in the store.
package server

import (
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/internal/cliapp"
)

// Settings is every setting of cc-ci-bridge. Secrets are never flags (argv is visible to every
// user of the host): each comes from a file named by a *_FILE setting (systemd credentials,
// sops-nix) or from its environment variable.
type Settings struct {
	Listen    string
	StorePath string
	Enrolment string

	GitHubAPI, GitHubBot              string
	GitHubTokenFile, GitHubSecretFile string
	GiteaURL, GiteaBot                string
	GiteaTokenFile, GiteaSecretFile   string
	DroneURL, DroneRepo, DroneBranch  string
	DroneTokenFile, DroneSecretFile   string
	RunsDir, RunsURL, DashboardURL    string
	AllowList                         string
	PollEvery, PollLookback           time.Duration
	Reconcile, RetryMin, RetryMax     time.Duration
	Retention                         time.Duration
	Workers                           int
	MaxBody                           int64
	LogFormat, LogLevel               string

	// Derived by Validate.
	secrets secrets
	level   slog.Level
}

// secrets are the values Validate read; they never appear in a log or an error.
type secrets struct {
	githubToken, githubHook []byte
	giteaToken, giteaHook   []byte
	droneToken, droneHook   []byte
}

// Environment variables that hold a secret itself (the *_FILE settings name a file instead).
const (
	EnvGitHubToken  = "CCCI_GITHUB_TOKEN"
	EnvGitHubSecret = "CCCI_GITHUB_WEBHOOK_SECRET"
	EnvGiteaToken   = "CCCI_GITEA_TOKEN"
	EnvGiteaSecret  = "CCCI_GITEA_WEBHOOK_SECRET"
	EnvDroneToken   = "CCCI_DRONE_TOKEN"
	EnvDroneSecret  = "CCCI_DRONE_WEBHOOK_SECRET"
)

// Validate checks every setting and reads the secrets; it reports every problem at once.
func (s *Settings) Validate() error {
	var p cliapp.Problems
	read := func(file, env, what string) []byte {
		v, err := secret(file, env)
		if err != nil {
			p.Add("%s: %v", what, err)
		}
		return v
	}
	s.secrets = secrets{
		githubToken: read(s.GitHubTokenFile, EnvGitHubToken, "GitHub token"),
		githubHook:  read(s.GitHubSecretFile, EnvGitHubSecret, "GitHub webhook secret"),
		giteaToken:  read(s.GiteaTokenFile, EnvGiteaToken, "Gitea token"),
		giteaHook:   read(s.GiteaSecretFile, EnvGiteaSecret, "Gitea webhook secret"),
		droneToken:  read(s.DroneTokenFile, EnvDroneToken, "Drone token"),
		droneHook:   read(s.DroneSecretFile, EnvDroneSecret, "Drone webhook secret"),
	}
	sec := s.secrets
	github := len(sec.githubToken) > 0 || len(sec.githubHook) > 0
	gitea := len(sec.giteaToken) > 0 || len(sec.giteaHook) > 0 || s.GiteaURL != ""
	if !github && !gitea {
		p.Add("no forge configured: set a webhook secret and token for GitHub ($%s, $%s or --github-*-file) and/or Gitea ($%s, $%s or --gitea-*-file, and --gitea-url)",
			EnvGitHubSecret, EnvGitHubToken, EnvGiteaSecret, EnvGiteaToken)
	}
	if github {
		need(&p, sec.githubHook, "GitHub webhook secret", EnvGitHubSecret, "--github-webhook-secret-file")
		need(&p, sec.githubToken, "GitHub token", EnvGitHubToken, "--github-token-file")
		if s.GitHubAPI != "" {
			checkURL(&p, "--github-api", s.GitHubAPI)
		}
	}
	if gitea {
		need(&p, sec.giteaHook, "Gitea webhook secret", EnvGiteaSecret, "--gitea-webhook-secret-file")
		need(&p, sec.giteaToken, "Gitea token", EnvGiteaToken, "--gitea-token-file")
		checkURL(&p, "--gitea-url", s.GiteaURL)
	}
	need(&p, sec.droneHook, "Drone webhook secret", EnvDroneSecret, "--drone-webhook-secret-file")
	need(&p, sec.droneToken, "Drone token", EnvDroneToken, "--drone-token-file")
	checkURL(&p, "--drone-url", s.DroneURL)
	if o, n, ok := strings.Cut(s.DroneRepo, "/"); !ok || o == "" || n == "" || strings.Contains(n, "/") {
		p.Add("--drone-repo %q: want the cc-ci repo as Drone knows it, owner/name", s.DroneRepo)
	}
	if s.DroneBranch == "" {
		p.Add("--drone-branch is empty: name the branch of %s whose .drone.yml runs recipe tests", s.DroneRepo)
	}
	if s.Enrolment == "" {
		p.Add("--enrolment is empty: name the file mapping forge repos to recipes")
	}
	if s.StorePath == "" {
		p.Add("--store is empty: name the bbolt file that keeps the queue across restarts")
	}
	if s.RunsURL != "" {
		checkURL(&p, "--runs-url", s.RunsURL)
	}
	if s.DashboardURL != "" {
		checkURL(&p, "--dashboard-url", s.DashboardURL)
	}
	if s.PollEvery <= 0 {
		p.Add("--poll-interval %s: want a positive duration (e.g. 60s)", s.PollEvery)
	}
	if s.Retention < 24*time.Hour {
		p.Add("--retention %s: want at least 24h (a redelivery of a forgotten request would start it again)", s.Retention)
	}
	if s.Workers <= 0 {
		p.Add("--workers %d: want at least 1", s.Workers)
	}
	if s.MaxBody < 1024 {
		p.Add("--max-body %d: want at least 1024 bytes (forge payloads are a few KiB to a few hundred KiB)", s.MaxBody)
	}
	if err := s.level.UnmarshalText([]byte(s.LogLevel)); err != nil {
		p.Add("--log-level %q: want debug, info, warn or error", s.LogLevel)
	}
	if s.LogFormat != "text" && s.LogFormat != "json" {
		p.Add("--log-format %q: want text or json", s.LogFormat)
	}
	return p.Err()
}

// need adds a problem when a required secret is empty.
func need(p *cliapp.Problems, v []byte, what, env, flag string) {
	if len(v) == 0 {
		p.Add("%s is empty: set $%s or name a file with %s (the bridge refuses to run without it)", what, env, flag)
	}
}

func checkURL(p *cliapp.Problems, flag, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.Add("%s %q: want an http(s) URL", flag, raw)
	}
}

// secret reads a secret from file when named, else from the environment variable env; surrounding
// whitespace (a trailing newline) is trimmed. Errors name the file, never the value.
func secret(file, env string) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read secret file: %w", err)
		}
		return []byte(strings.TrimSpace(string(b))), nil
	}
	return []byte(strings.TrimSpace(os.Getenv(env))), nil
}

// Logger returns the bridge's logger in the configured format and level (valid after Validate).
func (s *Settings) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: s.level}
	if s.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// allowList is the parsed --allow list.
func (s *Settings) allowList() []string {
	return strings.FieldsFunc(s.AllowList, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' })
}
