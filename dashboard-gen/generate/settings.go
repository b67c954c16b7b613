// Package generate is one run of the dashboard generator: Settings -> Validate -> Execute. A run
// reads what is new in Drone since the last one (every build the first time), renders the pages
// it touches, and records what it rendered in the state file, last.
package generate

import (
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/dashboard-gen/render"
	"coopcloud.tech/cc-ci/internal/cliapp"
)

// EnvDroneToken holds the Drone API token itself when no --drone-token-file names a file.
const EnvDroneToken = "CCCI_DRONE_TOKEN"

// Settings is every setting of cc-ci-dashboard.
type Settings struct {
	DroneURL       string
	DroneRepo      string
	DroneTokenFile string
	RunsDir        string
	Out            string
	StatePath      string
	BaseURL        string
	Title          string
	Recipes        string
	GiteaURL       string
	Full           bool
	Timeout        time.Duration
	LogFormat      string
	LogLevel       string

	// Derived by Validate.
	owner, name string
	recipes     []string
	token       string
	level       slog.Level
}

// Validate checks every setting, reads the token and derives the rest; it reports every problem
// at once and never a secret.
func (s *Settings) Validate() error {
	var p cliapp.Problems
	checkURL(&p, "--drone-url", s.DroneURL)
	owner, name, ok := strings.Cut(s.DroneRepo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		p.Add("--drone-repo %q: want the cc-ci repo as Drone knows it, owner/name", s.DroneRepo)
	}
	s.owner, s.name = owner, name
	token, err := secret(s.DroneTokenFile, EnvDroneToken)
	if err != nil {
		p.Add("Drone token: %v", err)
	}
	s.token = token
	for _, f := range []struct{ flag, v string }{{"--runs-dir", s.RunsDir}, {"--out", s.Out}, {"--state", s.StatePath}} {
		if f.v == "" {
			p.Add("%s is empty: name a directory or file path", f.flag)
		}
	}
	if s.BaseURL != "" {
		checkURL(&p, "--url", s.BaseURL)
	}
	if s.GiteaURL != "" {
		checkURL(&p, "--gitea-url", s.GiteaURL)
	}
	if strings.TrimSpace(s.Title) == "" {
		p.Add("--title is empty: name the site (e.g. \"cc-ci recipe results\")")
	}
	s.recipes = nil
	for _, r := range strings.FieldsFunc(s.Recipes, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		if !render.ValidName(r) {
			p.Add("--recipes: %q is not a recipe name (lower-case letters, digits and '-')", r)
			continue
		}
		s.recipes = append(s.recipes, r)
	}
	if s.Timeout <= 0 {
		p.Add("--timeout %s: want a positive duration (e.g. 30s)", s.Timeout)
	}
	if err := s.level.UnmarshalText([]byte(s.LogLevel)); err != nil {
		p.Add("--log-level %q: want debug, info, warn or error", s.LogLevel)
	}
	if s.LogFormat != "text" && s.LogFormat != "json" {
		p.Add("--log-format %q: want text or json", s.LogFormat)
	}
	return p.Err()
}

func checkURL(p *cliapp.Problems, flag, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.Add("%s %q: want an http(s) URL", flag, raw)
	}
}

// secret reads the token from file when one is named, else from the environment variable env;
// surrounding whitespace is trimmed. Errors name the file, never the value.
func secret(file, env string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read token file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return strings.TrimSpace(os.Getenv(env)), nil
}

// Logger returns the generator's logger in the configured format and level (valid after
// Validate).
func (s *Settings) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: s.level}
	if s.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
