package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"coopcloud.tech/cc-ci/internal/cliapp"
	"coopcloud.tech/cc-ci/janitor/reap"
)

// envs is every env var a setting is bound to, with a valid value that is not the default.
var envs = map[string]string{
	"CCCI_APP_LOCK_DIR":    "/tmp/l",
	"CCCI_ABRA_DIR":        "/tmp/a",
	"CCCI_SERVER":          "swarm1",
	"CCCI_DOMAIN_SUFFIX":   "ci.example.org",
	"CCCI_DEADLINE":        "30m",
	"CCCI_JANITOR_DRY_RUN": "true",
	"CCCI_LOG_FORMAT":      "json",
	"CCCI_LOG_LEVEL":       "debug",
}

func parse(t *testing.T, args ...string) *reap.Settings {
	t.Helper()
	var s reap.Settings
	app := &cli.App{Flags: flags(&s), Action: func(*cli.Context) error { return nil }}
	require.NoError(t, app.Run(append([]string{"cc-ci-janitor"}, args...)))
	return &s
}

func TestEveryEnvVarFillsItsSetting(t *testing.T) {
	for k, v := range envs {
		t.Setenv(k, v)
	}
	s := parse(t)
	require.NoError(t, s.Validate())
	want := reap.Settings{LockDir: "/tmp/l", AbraDir: "/tmp/a", Server: "swarm1", DomainSuffix: "ci.example.org",
		Deadline: 30 * time.Minute, DryRun: true, LogFormat: "json", LogLevel: "debug"}
	require.NoError(t, want.Validate())
	assert.Equal(t, want, *s)
}

func TestDefaultsAreThePluginsAndValid(t *testing.T) {
	s := parse(t)
	assert.Equal(t, "/run/lock/cc-ci", s.LockDir)
	assert.Equal(t, "/var/lib/cc-ci/abra", s.AbraDir)
	assert.Equal(t, "default", s.Server)
	assert.Equal(t, "ci.coopcloud.tech", s.DomainSuffix)
	assert.Equal(t, 60*time.Minute, s.Deadline)
	assert.False(t, s.DryRun)
	assert.NoError(t, s.Validate())
}

func TestHelpDocumentsEverySettingWithItsEnvVar(t *testing.T) {
	var out bytes.Buffer
	code := realMain([]string{"cc-ci-janitor", "--help"}, &out, &out)
	assert.Equal(t, 0, code)
	for k := range envs {
		assert.Contains(t, out.String(), "[$"+k+"]", "--help must name %s", k)
	}
	for _, f := range []string{"--lock-dir", "--abra-dir", "--server", "--domain-suffix", "--deadline", "--dry-run", "--log-format", "--log-level"} {
		assert.Contains(t, out.String(), f)
	}
}

func TestBadSettingsExit2NamingTheSettingAndTheFix(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a relative lock dir is refused", []string{"--lock-dir", "lock"}, "lock dir \"lock\" must be an absolute path: set CCCI_APP_LOCK_DIR"},
		{"an empty abra dir is refused", []string{"--abra-dir", ""}, "abra dir \"\" must be an absolute path: set CCCI_ABRA_DIR"},
		{"a server name with a slash is refused", []string{"--server", "../etc"}, "set CCCI_SERVER"},
		{"an upper-case domain suffix is refused", []string{"--domain-suffix", "CI.Example.org"}, "set CCCI_DOMAIN_SUFFIX"},
		{"an empty domain suffix is refused", []string{"--domain-suffix", ""}, "set CCCI_DOMAIN_SUFFIX"},
		{"a suffix with an underscore is refused", []string{"--domain-suffix", "ci_x.org"}, "set CCCI_DOMAIN_SUFFIX"},
		{"a zero deadline is refused", []string{"--deadline", "0s"}, "deadline 0s must be positive: set CCCI_DEADLINE"},
		{"an unparsable deadline is refused", []string{"--deadline", "soon"}, "deadline"},
		{"an unknown log format is refused", []string{"--log-format", "xml"}, "set CCCI_LOG_FORMAT (or --log-format) to text or json"},
		{"an unknown log level is refused", []string{"--log-level", "loud"}, "set CCCI_LOG_LEVEL"},
		{"an unknown flag is refused", []string{"--nope"}, "flag provided but not defined"},
		{"a stray argument is refused", []string{"now"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := realMain(append([]string{"cc-ci-janitor"}, tt.args...), &out, &out)
			assert.Equal(t, 2, code, out.String())
			assert.Contains(t, out.String(), tt.want)
		})
	}
}

// TestMissingLockDirExitsZeroOnTheRealSwarm runs a real pass against the local swarm. The domain
// suffix is one no stack has, so it can only list, never touch anything.
func TestMissingLockDirExitsZeroOnTheRealSwarm(t *testing.T) {
	lockDir := filepath.Join(t.TempDir(), "gone")
	var stdout, stderr bytes.Buffer
	code := realMain([]string{"cc-ci-janitor", "--lock-dir", lockDir, "--abra-dir", t.TempDir(),
		"--domain-suffix", "janitor-cmd-test.invalid", "--log-format", "json"}, &stdout, &stderr)

	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	assert.NoDirExists(t, lockDir)
	var msgs []string
	for line := range strings.SplitSeq(strings.TrimSpace(stdout.String()), "\n") {
		var e map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &e), "every log line is JSON: %q", line)
		msgs = append(msgs, e["msg"].(string))
	}
	assert.Equal(t, []string{"lock dir", "pass done"}, msgs)
}

// TestEveryFlagHasAnEnvVarInHelp walks the flags themselves, so a setting added without an env
// var, or missing from --help, fails here.
func TestEveryFlagHasAnEnvVarInHelp(t *testing.T) {
	var out bytes.Buffer
	require.Equal(t, 0, realMain([]string{"cc-ci-janitor", "--help"}, &out, &out))
	var s reap.Settings
	assert.Empty(t, cliapp.Undocumented(flags(&s), out.String()))
}
