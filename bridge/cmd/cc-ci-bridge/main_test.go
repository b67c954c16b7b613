package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"coopcloud.tech/cc-ci/bridge/server"
	"coopcloud.tech/cc-ci/internal/cliapp"
)

// envs is every env var a setting is bound to, with a valid value that is not the default.
func envs(dir string) map[string]string {
	file := func(name, value string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(value+"\n"), 0o600); err != nil {
			panic(err)
		}
		return p
	}
	return map[string]string{
		"CCCI_BRIDGE_LISTEN":              "127.0.0.1:9999",
		"CCCI_BRIDGE_STORE":               "/tmp/b.db",
		"CCCI_ENROLMENT":                  "/tmp/enrolment.yml",
		"CCCI_GITHUB_API":                 "https://ghe.example.org/api/v3/",
		"CCCI_GITHUB_BOT":                 "ccci-bot",
		"CCCI_GITHUB_TOKEN_FILE":          file("gh-token", "gh-token-value"),
		"CCCI_GITHUB_WEBHOOK_SECRET_FILE": file("gh-hook", "gh-hook-value"),
		"CCCI_GITEA_URL":                  "https://git.coopcloud.tech",
		"CCCI_GITEA_BOT":                  "ccci",
		"CCCI_GITEA_TOKEN_FILE":           file("gitea-token", "gitea-token-value"),
		"CCCI_GITEA_WEBHOOK_SECRET_FILE":  file("gitea-hook", "gitea-hook-value"),
		"CCCI_DRONE_SERVER":               "https://drone.example.org",
		"CCCI_DRONE_REPO":                 "coop-cloud/cc-ci",
		"CCCI_DRONE_BRANCH":               "release",
		"CCCI_DRONE_TOKEN_FILE":           file("drone-token", "drone-token-value"),
		"CCCI_DRONE_WEBHOOK_SECRET_FILE":  file("drone-hook", "drone-hook-value"),
		"CCCI_RUNS_DIR":                   "/srv/runs",
		"CCCI_RUNS_URL":                   "https://ci.example.org/runs",
		"CCCI_DASHBOARD_URL":              "https://ci.example.org",
		"CCCI_ALLOW_LIST":                 "alice,bob",
		"CCCI_POLL_INTERVAL":              "2m",
		"CCCI_POLL_LOOKBACK":              "3h",
		"CCCI_RECONCILE_INTERVAL":         "45s",
		"CCCI_RETRY_MIN":                  "2s",
		"CCCI_RETRY_MAX":                  "5m",
		"CCCI_BRIDGE_WORKERS":             "3",
		"CCCI_BRIDGE_RETENTION":           "240h",
		"CCCI_BRIDGE_MAX_BODY":            "65536",
		"CCCI_LOG_FORMAT":                 "json",
		"CCCI_LOG_LEVEL":                  "debug",
	}
}

func parse(t *testing.T, args ...string) *server.Settings {
	t.Helper()
	var s server.Settings
	app := &cli.App{Flags: flags(&s), Action: func(*cli.Context) error { return nil }}
	require.NoError(t, app.Run(append([]string{"cc-ci-bridge"}, args...)))
	return &s
}

func TestEveryEnvVarFillsItsSetting(t *testing.T) {
	e := envs(t.TempDir())
	for k, v := range e {
		t.Setenv(k, v)
	}
	s := parse(t)
	require.NoError(t, s.Validate())
	want := server.Settings{Listen: "127.0.0.1:9999", StorePath: "/tmp/b.db", Enrolment: "/tmp/enrolment.yml",
		GitHubAPI: "https://ghe.example.org/api/v3/", GitHubBot: "ccci-bot",
		GitHubTokenFile: e["CCCI_GITHUB_TOKEN_FILE"], GitHubSecretFile: e["CCCI_GITHUB_WEBHOOK_SECRET_FILE"],
		GiteaURL: "https://git.coopcloud.tech", GiteaBot: "ccci",
		GiteaTokenFile: e["CCCI_GITEA_TOKEN_FILE"], GiteaSecretFile: e["CCCI_GITEA_WEBHOOK_SECRET_FILE"],
		DroneURL: "https://drone.example.org", DroneRepo: "coop-cloud/cc-ci", DroneBranch: "release",
		DroneTokenFile: e["CCCI_DRONE_TOKEN_FILE"], DroneSecretFile: e["CCCI_DRONE_WEBHOOK_SECRET_FILE"],
		RunsDir: "/srv/runs", RunsURL: "https://ci.example.org/runs", DashboardURL: "https://ci.example.org",
		AllowList: "alice,bob", PollEvery: 2 * time.Minute, PollLookback: 3 * time.Hour,
		Reconcile: 45 * time.Second, RetryMin: 2 * time.Second, RetryMax: 5 * time.Minute, Retention: 240 * time.Hour, Workers: 3,
		MaxBody: 65536, LogFormat: "json", LogLevel: "debug"}
	require.NoError(t, want.Validate())
	assert.Equal(t, want, *s, "every setting filled from its env var, secrets read from their files")
}

func TestHelpDocumentsEverySettingWithItsEnvVar(t *testing.T) {
	var out bytes.Buffer
	code := realMain([]string{"cc-ci-bridge", "--help"}, &out, &out)
	require.Equal(t, 0, code)
	var s server.Settings
	assert.Empty(t, cliapp.Undocumented(flags(&s), out.String()))
	for k := range envs(t.TempDir()) {
		assert.Contains(t, out.String(), "$"+k)
	}
	for _, k := range []string{server.EnvGitHubToken, server.EnvGitHubSecret, server.EnvGiteaToken,
		server.EnvGiteaSecret, server.EnvDroneToken, server.EnvDroneSecret} {
		assert.Contains(t, out.String(), "$"+k, "--help names where a secret may come from")
	}
}

func TestBadSettingsExit2NamingTheSettingAndTheFix(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"no webhook secret at all is refused", nil, nil,
			[]string{"no forge configured", "Drone webhook secret is empty", "--drone-url"}},
		{"a GitHub token without its webhook secret is refused",
			map[string]string{server.EnvGitHubToken: "t", server.EnvDroneSecret: "d", server.EnvDroneToken: "d"},
			[]string{"--drone-url", "https://drone.example.org", "--drone-repo", "o/n"},
			[]string{"GitHub webhook secret is empty: set $CCCI_GITHUB_WEBHOOK_SECRET or name a file with --github-webhook-secret-file"}},
		{"a secret file that cannot be read is named",
			map[string]string{server.EnvDroneSecret: "d", server.EnvDroneToken: "d", server.EnvGitHubToken: "t"},
			[]string{"--github-webhook-secret-file", "/nonexistent/secret", "--drone-url", "https://d.example.org", "--drone-repo", "o/n"},
			[]string{"GitHub webhook secret: read secret file", "/nonexistent/secret"}},
		{"a Drone repo without an owner is refused",
			map[string]string{server.EnvGitHubToken: "t", server.EnvGitHubSecret: "s", server.EnvDroneSecret: "d", server.EnvDroneToken: "d"},
			[]string{"--drone-url", "https://d.example.org", "--drone-repo", "cc-ci"},
			[]string{`--drone-repo "cc-ci": want the cc-ci repo as Drone knows it, owner/name`}},
		{"Gitea without its URL is refused",
			map[string]string{server.EnvGiteaToken: "t", server.EnvGiteaSecret: "s", server.EnvDroneSecret: "d", server.EnvDroneToken: "d"},
			[]string{"--drone-url", "https://d.example.org", "--drone-repo", "o/n"},
			[]string{`--gitea-url "": want an http(s) URL`}},
		{"a stray argument is refused", nil, []string{"serve"}, []string{"unexpected arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{server.EnvGitHubToken, server.EnvGitHubSecret, server.EnvGiteaToken,
				server.EnvGiteaSecret, server.EnvDroneToken, server.EnvDroneSecret} {
				t.Setenv(k, tt.env[k])
			}
			var out bytes.Buffer
			code := realMain(append([]string{"cc-ci-bridge"}, tt.args...), &out, &out)
			assert.Equal(t, 2, code, out.String())
			for _, w := range tt.want {
				assert.Contains(t, out.String(), w)
			}
			for _, v := range tt.env {
				if len(v) > 1 {
					assert.NotContains(t, out.String(), v, "a secret value never reaches the output")
				}
			}
		})
	}
}

func TestSecretValuesNeverReachTheOutput(t *testing.T) {
	dir := t.TempDir()
	secret := "s3cr3t-webhook-value-that-must-not-leak"
	f := filepath.Join(dir, "hook")
	require.NoError(t, os.WriteFile(f, []byte(secret), 0o600))
	t.Setenv(server.EnvDroneToken, secret+"-token")
	t.Setenv(server.EnvDroneSecret, "")
	var out bytes.Buffer
	// Valid secrets, one bad setting: the error lists problems and never a value.
	code := realMain([]string{"cc-ci-bridge", "--github-webhook-secret-file", f, "--github-token-file", f,
		"--drone-url", "not a url", "--drone-repo", "o/n"}, &out, &out)
	assert.Equal(t, 2, code)
	assert.NotContains(t, out.String(), secret)
	assert.Contains(t, out.String(), "Drone webhook secret is empty")
}
