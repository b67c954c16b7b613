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

	"coopcloud.tech/cc-ci/dashboard-gen/fakehistory"
	"coopcloud.tech/cc-ci/dashboard-gen/generate"
	"coopcloud.tech/cc-ci/internal/cliapp"
	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
)

// envs is every env var a setting is bound to, with a valid value that is not the default.
func envs(dir string) map[string]string {
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("drone-token-value\n"), 0o600); err != nil {
		panic(err)
	}
	return map[string]string{
		"CCCI_DRONE_SERVER":      "https://drone.example.org",
		"CCCI_DRONE_REPO":        "coop-cloud/cc-ci",
		"CCCI_DRONE_TOKEN_FILE":  token,
		"CCCI_RUNS_DIR":          "/srv/runs",
		"CCCI_DASHBOARD_OUT":     "/srv/site",
		"CCCI_DASHBOARD_STATE":   "/srv/state.json",
		"CCCI_DASHBOARD_URL":     "https://ci.example.org/",
		"CCCI_DASHBOARD_TITLE":   "Our recipes",
		"CCCI_RECIPES":           "gitea,traefik",
		"CCCI_GITEA_URL":         "https://git.coopcloud.tech",
		"CCCI_DASHBOARD_FULL":    "true",
		"CCCI_DASHBOARD_TIMEOUT": "45s",
		"CCCI_LOG_FORMAT":        "json",
		"CCCI_LOG_LEVEL":         "debug",
	}
}

func parse(t *testing.T, args ...string) *generate.Settings {
	t.Helper()
	var s generate.Settings
	app := &cli.App{Flags: flags(&s), Action: func(*cli.Context) error { return nil }}
	require.NoError(t, app.Run(append([]string{"cc-ci-dashboard"}, args...)))
	return &s
}

func TestEveryEnvVarFillsItsSetting(t *testing.T) {
	e := envs(t.TempDir())
	for k, v := range e {
		t.Setenv(k, v)
	}
	s := parse(t)
	want := generate.Settings{DroneURL: "https://drone.example.org", DroneRepo: "coop-cloud/cc-ci",
		DroneTokenFile: e["CCCI_DRONE_TOKEN_FILE"], RunsDir: "/srv/runs", Out: "/srv/site", StatePath: "/srv/state.json",
		BaseURL: "https://ci.example.org/", Title: "Our recipes", Recipes: "gitea,traefik", GiteaURL: "https://git.coopcloud.tech",
		Full: true, Timeout: 45 * time.Second, LogFormat: "json", LogLevel: "debug"}
	assert.Equal(t, want, *s, "every setting filled from its env var")
	require.NoError(t, s.Validate())
}

func TestHelpDocumentsEverySettingWithItsEnvVar(t *testing.T) {
	var out bytes.Buffer
	require.Equal(t, 0, realMain([]string{"cc-ci-dashboard", "--help"}, &out, &out))
	var s generate.Settings
	assert.Empty(t, cliapp.Undocumented(flags(&s), out.String()))
	for k := range envs(t.TempDir()) {
		assert.Contains(t, out.String(), "$"+k)
	}
	assert.Contains(t, out.String(), "$"+generate.EnvDroneToken, "--help names where the token may come from")
}

func TestBadSettingsExit2NamingTheSettingAndTheFix(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"nothing set names what is missing", nil, []string{`--drone-url "": want an http(s) URL`, "--drone-repo"}},
		{"a repo without an owner is refused", []string{"--drone-url", "https://d.example.org", "--drone-repo", "cc-ci"},
			[]string{`--drone-repo "cc-ci": want the cc-ci repo as Drone knows it, owner/name`}},
		{"a recipe name that is not one is refused", []string{"--drone-url", "https://d.example.org", "--drone-repo", "o/n",
			"--recipes", "gitea,../etc"}, []string{`--recipes: "../etc" is not a recipe name`}},
		{"a token file that cannot be read is named", []string{"--drone-url", "https://d.example.org", "--drone-repo", "o/n",
			"--drone-token-file", "/nonexistent/token"}, []string{"Drone token: read token file", "/nonexistent/token"}},
		{"a stray argument is refused", []string{"serve"}, []string{"unexpected arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(generate.EnvDroneToken, "")
			var out bytes.Buffer
			assert.Equal(t, 2, realMain(append([]string{"cc-ci-dashboard"}, tt.args...), &out, &out), out.String())
			for _, w := range tt.want {
				assert.Contains(t, out.String(), w)
			}
		})
	}
}

func TestARunWritesTheSiteAndNeverTheToken(t *testing.T) {
	const token = "s3cr3t-drone-token-that-must-not-leak"
	fake := fakedrone.New(fakedrone.Config{Token: token})
	t.Cleanup(fake.Close)
	runs := fakehistory.Mixed(12, fakehistory.Recipes(2))
	_, err := fake.Seed("coop-cloud", "cc-ci", fakehistory.Histories(runs)...)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, fakehistory.WriteRunsDir(filepath.Join(dir, "runs"), runs))
	t.Setenv(generate.EnvDroneToken, token)
	args := []string{"cc-ci-dashboard", "--drone-url", fake.URL, "--drone-repo", "coop-cloud/cc-ci", "--runs-dir", filepath.Join(dir, "runs"),
		"--out", filepath.Join(dir, "site"), "--state", filepath.Join(dir, "state.json"), "--log-level", "debug"}

	var out bytes.Buffer
	require.Equal(t, 0, realMain(args, &out, &out), out.String())
	assert.Contains(t, out.String(), "site up to date")
	assert.FileExists(t, filepath.Join(dir, "site", "index.html"))
	assert.NotContains(t, out.String(), token)

	fake.SetDown(true)
	out.Reset()
	assert.Equal(t, 1, realMain(append(args, "--full"), &out, &out), "Drone down: exit 1, %s", out.String())
	assert.Contains(t, out.String(), "503")
	assert.FileExists(t, filepath.Join(dir, "site", "index.html"), "the last complete site stays")
	assert.NotContains(t, out.String(), token)
}
