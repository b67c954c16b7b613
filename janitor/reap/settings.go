package reap

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/internal/cliapp"
	"coopcloud.tech/cc-ci/internal/naming"
)

// Settings are the janitor's inputs, each bound once to a CCCI_* env var and a --flag.
type Settings struct {
	// LockDir holds the per-app lockfiles app-<domain>.lock (CCCI_APP_LOCK_DIR).
	LockDir string
	// AbraDir is the canonical abra dir; an app's .env is servers/<Server>/<domain>.env in it.
	AbraDir string
	// Server is the abra server name of the local swarm.
	Server string
	// DomainSuffix is the DNS suffix of CI apps; it maps stack names back to domains.
	DomainSuffix string
	// Deadline is the plugin's run deadline; a lock held longer than twice it is logged as a
	// possible leaked run (and still never taken).
	Deadline time.Duration
	// DryRun lists what a pass would do and changes nothing.
	DryRun bool
	// LogFormat is text or json.
	LogFormat string
	// LogLevel is debug, info, warn or error.
	LogLevel string

	level slog.Level // derived by Validate
}

// Log formats.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// Validate checks every setting. It has no side effects beyond deriving the log level.
func (s *Settings) Validate() error {
	var p cliapp.Problems
	for _, d := range []struct{ name, env, val string }{
		{"lock dir", "CCCI_APP_LOCK_DIR", s.LockDir},
		{"abra dir", "CCCI_ABRA_DIR", s.AbraDir},
	} {
		if d.val == "" || !filepath.IsAbs(d.val) {
			p.Add("%s %q must be an absolute path: set %s (or --%s)", d.name, d.val, d.env, strings.ReplaceAll(d.name, " ", "-"))
		}
	}
	if s.Server == "" || s.Server == "." || s.Server == ".." || strings.ContainsRune(s.Server, '/') {
		p.Add("server %q is not an abra server name: set CCCI_SERVER (or --server) to the name of the local swarm's dir under $CCCI_ABRA_DIR/servers (default: default)", s.Server)
	}
	if !validSuffix(s.DomainSuffix) {
		p.Add("domain suffix %q is not a lower-case DNS name: set CCCI_DOMAIN_SUFFIX (or --domain-suffix) to the plugin's, e.g. ci.coopcloud.tech", s.DomainSuffix)
	}
	if s.Deadline <= 0 {
		p.Add("deadline %s must be positive: set CCCI_DEADLINE (or --deadline) to the plugin's run deadline, e.g. 60m", s.Deadline)
	}
	if s.LogFormat != FormatText && s.LogFormat != FormatJSON {
		p.Add("log format %q is unknown: set CCCI_LOG_FORMAT (or --log-format) to text or json", s.LogFormat)
	}
	if err := s.level.UnmarshalText([]byte(s.LogLevel)); err != nil {
		p.Add("log level %q is unknown: set CCCI_LOG_LEVEL (or --log-level) to debug, info, warn or error", s.LogLevel)
	}
	return p.Err()
}

// validSuffix accepts a suffix when the shared naming code round-trips a CI domain under it:
// then the janitor recognises exactly the stacks the plugin creates.
func validSuffix(suffix string) bool {
	if suffix == "" || strings.HasPrefix(suffix, ".") || strings.HasSuffix(suffix, ".") ||
		strings.Contains(suffix, "..") || strings.ContainsAny(suffix, "_") {
		return false
	}
	domain := naming.Domain("probe", "1", strings.Repeat("0", 40), suffix)
	got, ok := naming.DomainOfStack(naming.Stack(domain), suffix)
	return ok && got == domain
}

// Logger returns the pass's logger writing to w in the configured format and level (valid
// after Validate).
func (s *Settings) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: s.level}
	if s.LogFormat == FormatJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
