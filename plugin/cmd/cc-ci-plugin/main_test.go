package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"coopcloud.tech/cc-ci/internal/cliapp"
	"coopcloud.tech/cc-ci/plugin/run"
)

// envs is every env var a setting is bound to, with a valid value.
var envs = map[string]string{
	"PLUGIN_RECIPE":        "gitea",
	"PLUGIN_SRC":           "/srv/gitea.git",
	"PLUGIN_REF":           strings.Repeat("ab", 20),
	"PLUGIN_PR":            "42",
	"PLUGIN_REPO":          "coop-cloud/gitea",
	"PLUGIN_MODE":          "quick",
	"PLUGIN_FORGE":         "gitea",
	"PLUGIN_LOCK_DIR":      "/tmp/l",
	"PLUGIN_RUNS_DIR":      "/tmp/r",
	"PLUGIN_ABRA_DIR":      "/tmp/a",
	"PLUGIN_OVERLAYS_DIR":  "/tmp/o",
	"PLUGIN_DOMAIN_SUFFIX": "ci.example.org",
	"PLUGIN_FRONTDOOR":     "http://127.0.0.1:8480",
	"PLUGIN_SERVER":        "swarm1",
	"PLUGIN_ABRA_BIN":      "/usr/bin/abra",
	"DRONE_BUILD_NUMBER":   "7",
	"PLUGIN_DEADLINE":      "30m",
	"PLUGIN_STEP_TIMEOUT":  "5m",
	"PLUGIN_READY_TIMEOUT": "90s",
	"CCCI_CHROMIUM":        "/usr/bin/chromium",
	"PLUGIN_UPGRADE_BASE":  "0.1.0+1.0.0",
}

func parse(t *testing.T, args ...string) *run.Settings {
	t.Helper()
	var s run.Settings
	app := &cli.App{Flags: flags(&s), Action: func(*cli.Context) error { return nil }}
	require.NoError(t, app.Run(append([]string{"cc-ci-plugin"}, args...)))
	return &s
}

func TestEveryEnvVarFillsItsSetting(t *testing.T) {
	for k, v := range envs {
		t.Setenv(k, v)
	}
	s := parse(t)
	want := run.Settings{
		Recipe: "gitea", Src: "/srv/gitea.git", Ref: strings.Repeat("ab", 20), PR: "42", Repo: "coop-cloud/gitea",
		Mode: "quick", Forge: "gitea", LockDir: "/tmp/l", RunsDir: "/tmp/r", AbraDir: "/tmp/a", OverlaysDir: "/tmp/o",
		DomainSuffix: "ci.example.org", FrontDoor: "http://127.0.0.1:8480", Server: "swarm1", AbraBin: "/usr/bin/abra",
		BuildNumber: "7", Deadline: 30 * time.Minute, StepTimeout: 5 * time.Minute, ReadyTimeout: 90 * time.Second, UpgradeBase: "0.1.0+1.0.0",
		ChromiumBin: "/usr/bin/chromium",
	}
	assert.Equal(t, want, *s)
	require.NoError(t, s.Validate())
}

func TestCCCIBuildParamsAreReadToo(t *testing.T) {
	t.Setenv("CCCI_RECIPE", "gitea")
	t.Setenv("CCCI_REF", strings.Repeat("cd", 20))
	t.Setenv("CCCI_APP_LOCK_DIR", "/tmp/lockdir")
	t.Setenv("CCCI_FRONTDOOR_URL", "http://10.0.0.1")
	s := parse(t)
	assert.Equal(t, "gitea", s.Recipe)
	assert.Equal(t, strings.Repeat("cd", 20), s.Ref)
	assert.Equal(t, "/tmp/lockdir", s.LockDir)
	assert.Equal(t, "http://10.0.0.1", s.FrontDoor)
}

func TestHelpDocumentsEverySettingWithItsEnvVar(t *testing.T) {
	var out bytes.Buffer
	code := realMain([]string{"cc-ci-plugin", "--help"}, &out, &out)
	assert.Equal(t, 0, code)
	for k := range envs {
		assert.Contains(t, out.String(), "$"+k, "--help must name %s", k)
	}
	for _, k := range []string{"CCCI_RECIPE", "CCCI_REF", "CCCI_APP_LOCK_DIR", "CCCI_RUNS_DIR", "CCCI_ABRA_DIR", "CCCI_DEADLINE"} {
		assert.Contains(t, out.String(), "$"+k)
	}
}

func TestNoSettingsExits2NamingWhatIsMissing(t *testing.T) {
	var out bytes.Buffer
	code := realMain([]string{"cc-ci-plugin"}, &out, &out)
	assert.Equal(t, 2, code)
	assert.Contains(t, out.String(), "recipe is missing: set PLUGIN_RECIPE")
	assert.Contains(t, out.String(), "ref is missing: set PLUGIN_REF")
}

func TestBadInputExits2(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a short ref is refused", []string{"--recipe", "gitea", "--ref", "abc123"}, "not a full 40-hex"},
		{"an unknown flag is refused", []string{"--recipe", "gitea", "--nope"}, "flag provided but not defined"},
		{"a stray argument is refused", []string{"--recipe", "gitea", "extra"}, "unexpected arguments"},
		{"a relative lock dir is refused", []string{"--recipe", "gitea", "--ref", strings.Repeat("a", 40), "--lock-dir", "rel"}, "must be an absolute path: set CCCI_APP_LOCK_DIR"},
		{"an upper-case recipe is refused", []string{"--recipe", "Gitea", "--ref", strings.Repeat("a", 40)}, "recipe \"Gitea\" is malformed"},
		{"a bad mode is refused", []string{"--recipe", "gitea", "--ref", strings.Repeat("a", 40), "--mode", "hot"}, "mode \"hot\" is unknown"},
		{"a front door without scheme is refused", []string{"--recipe", "gitea", "--ref", strings.Repeat("a", 40), "--frontdoor", "127.0.0.1"}, "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := realMain(append([]string{"cc-ci-plugin"}, tt.args...), &out, &out)
			assert.Equal(t, 2, code)
			assert.Contains(t, out.String(), tt.want)
		})
	}
}

// TestEveryFlagHasAnEnvVarInHelp walks the flags themselves, so a setting added without an env
// var, or missing from --help, fails here.
func TestEveryFlagHasAnEnvVarInHelp(t *testing.T) {
	var out bytes.Buffer
	require.Equal(t, 0, realMain([]string{"cc-ci-plugin", "--help"}, &out, &out))
	var s run.Settings
	assert.Empty(t, cliapp.Undocumented(flags(&s), out.String()))
}
