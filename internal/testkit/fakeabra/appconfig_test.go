package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/appconfig"
	"coopcloud.tech/cc-ci/internal/testkit"
)

func TestDeployEnvNeverLetsTheAppSteerDocker(t *testing.T) {
	t.Parallel()
	environ := []string{"PATH=/bin", "HOME=/root", "DOCKER_HOST=unix:///var/run/docker.sock", "CI=true"}
	vars := map[string]string{
		"DOMAIN": "a.ci.local", "STACK_NAME": "a_ci_local", "DOCKER_HOST": "tcp://socket-proxy:2375",
		"DOCKER_TLS_VERIFY": "1", "CI": "app", "HTTPS_PROXY": "http://evil:3128",
	}
	env, renamed := deployEnv(environ, vars)
	assert.Equal(t, map[string]bool{"DOCKER_HOST": true, "DOCKER_TLS_VERIFY": true, "CI": true, "HTTPS_PROXY": true}, renamed)
	assert.Equal(t, []string{
		"PATH=/bin", "HOME=/root", "DOCKER_HOST=unix:///var/run/docker.sock", "CI=true",
		"CCCI_APP_CI=app", "CCCI_APP_DOCKER_HOST=tcp://socket-proxy:2375", "CCCI_APP_DOCKER_TLS_VERIFY=1",
		"DOMAIN=a.ci.local", "CCCI_APP_HTTPS_PROXY=http://evil:3128", "STACK_NAME=a_ci_local",
	}, env)
	assert.Equal(t, "unix:///var/run/docker.sock", lookup(env, "DOCKER_HOST"), "the CLI connects where the fake was told to")
	assert.Empty(t, lookup(env, "DOCKER_TLS_VERIFY"))
	assert.Empty(t, lookup(env, "HTTPS_PROXY"))
}

func TestRenameRefs(t *testing.T) {
	t.Parallel()
	renamed := map[string]bool{"DOCKER_HOST": true, "HOME": true}
	tests := []struct {
		name, in, want string
		changed        bool
	}{
		{"braced", "- DOCKER_HOST=${DOCKER_HOST}", "- DOCKER_HOST=${CCCI_APP_DOCKER_HOST}", true},
		{"bare", "x: $DOCKER_HOST/v1", "x: $CCCI_APP_DOCKER_HOST/v1", true},
		{"defaults and nested", "x: ${HOME:-${DOCKER_HOST-tcp://p}}", "x: ${CCCI_APP_HOME:-${CCCI_APP_DOCKER_HOST-tcp://p}}", true},
		{"required", "x: ${DOCKER_HOST:?set it}", "x: ${CCCI_APP_DOCKER_HOST:?set it}", true},
		{"an escaped dollar is literal", "x: $$DOCKER_HOST and $${HOME}", "x: $$DOCKER_HOST and $${HOME}", false},
		{"a longer name is another variable", "x: ${DOCKER_HOSTNAME} $HOMEDIR", "x: ${DOCKER_HOSTNAME} $HOMEDIR", false},
		{"other variables and the key stay", "DOCKER_HOST: ${DOMAIN}", "DOCKER_HOST: ${DOMAIN}", false},
		{"a lone dollar at the end", "x: $", "x: $", false},
	}
	for _, tt := range tests {
		got, changed := renameRefs(tt.in, renamed)
		assert.Equal(t, tt.want, got, tt.name)
		assert.Equal(t, tt.changed, changed, tt.name)
	}
}

// TestTheDockerCLIInterpolatesTheAppsValueButConnectsWhereTheFakeSays runs the real docker CLI's
// client-side `stack config` (no daemon needed) on what a deploy hands it.
func TestTheDockerCLIInterpolatesTheAppsValueButConnectsWhereTheFakeSays(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("the docker CLI is not installed: cannot check its interpolation")
	}
	dir := t.TempDir()
	compose := "version: \"3.8\"\nservices:\n  app:\n    image: x\n    environment:\n      - DOCKER_HOST=${DOCKER_HOST}\n      - DOMAIN=${DOMAIN}\n      - LITERAL=$$DOCKER_HOST\n    deploy:\n      replicas: ${REPLICAS}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yml"), []byte(compose), 0o644))
	environ := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "DOCKER_HOST=unix:///nonexistent.sock"}
	env, renamed := deployEnv(environ, map[string]string{"DOCKER_HOST": "tcp://socket-proxy:2375", "DOMAIN": "a.ci.local", "REPLICAS": "2"})
	files, err := prepareFiles(dir, "a_ci_local", []string{"compose.yml"}, renamed)
	require.NoError(t, err)
	defer files.cleanup()
	require.Equal(t, []string{".fake-abra-a_ci_local-compose.yml"}, files.names)

	cmd := exec.Command("docker", "stack", "config", "--compose-file", files.names[0])
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "DOCKER_HOST: tcp://socket-proxy:2375", "the app's value reaches its container")
	assert.Contains(t, string(out), "DOMAIN: a.ci.local")
	assert.Contains(t, string(out), "LITERAL: $DOCKER_HOST")
	assert.Regexp(t, regexp.MustCompile(`replicas: 2\n`), string(out), "docker casts the interpolated value itself")

	files.cleanup()
	assert.NoFileExists(t, filepath.Join(dir, files.names[0]), "the renamed copy is removed after the deploy")
}

func TestPrepareFilesUsesUntouchedFilesInPlaceAndExcludesCopiesFromGit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".git", "info"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yml"), []byte("x: ${DOMAIN}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.proxy.yml"), []byte("x: ${DOCKER_HOST}\n"), 0o644))
	renamed := map[string]bool{"DOCKER_HOST": true}
	for range 2 {
		files, err := prepareFiles(dir, "s", []string{"compose.yml", "compose.proxy.yml"}, renamed)
		require.NoError(t, err)
		assert.Equal(t, []string{"compose.yml", ".fake-abra-s-compose.proxy.yml"}, files.names)
		got, err := os.ReadFile(filepath.Join(dir, files.names[1]))
		require.NoError(t, err)
		assert.Equal(t, "x: ${CCCI_APP_DOCKER_HOST}\n", string(got))
		files.cleanup()
	}
	exclude, err := os.ReadFile(filepath.Join(dir, ".git", "info", "exclude"))
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(exclude), ".fake-abra-*\n"), "added once")
}

// loadProject loads a one-file recipe with the given compose.yml for stack s.
func loadProject(t *testing.T, compose string) *appconfig.Config {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yml"), []byte(compose), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".env.sample"), []byte("TYPE=r\nDOMAIN=r.example.com\n"), 0o644))
	cfg, err := appconfig.Load(context.Background(), appconfig.LoadOptions{RecipeDir: dir, Stack: "s"})
	require.NoError(t, err)
	return cfg
}

func TestCheckVersionLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, compose, wantErr string
	}{
		{"on the app service", "services:\n  app:\n    image: x\n    deploy:\n      labels: [\"coop-cloud.${STACK_NAME}.version=1.0.0+1\"]\n  db:\n    image: y\n", ""},
		{"nowhere: abra adds it to app", "services:\n  app:\n    image: x\n", ""},
		{"on app and another service", "services:\n  app:\n    image: x\n    deploy:\n      labels: [\"coop-cloud.${STACK_NAME}.version=1\"]\n  db:\n    image: y\n    deploy:\n      labels: [\"coop-cloud.${STACK_NAME}.version=1\"]\n", ""},
		{"on another service only", "services:\n  app:\n    image: x\n  web:\n    image: y\n    deploy:\n      labels: [\"coop-cloud.${STACK_NAME}.version=1\"]\n",
			"the coop-cloud.s.version label is on service web, not app"},
		{"no app service", "services:\n  web:\n    image: y\n", "the recipe has no service named app"},
	}
	for _, tt := range tests {
		err := checkVersionLabel(loadProject(t, tt.compose).Project, "s")
		if tt.wantErr == "" {
			assert.NoError(t, err, tt.name)
			continue
		}
		assert.ErrorContains(t, err, tt.wantErr, tt.name)
	}
}

func TestCheckSecretNames(t *testing.T) {
	t.Parallel()
	ok := appconfig.ComposeSecret{ID: "api_key", Name: "samp-1a2b3c_ci_local_api_key_v1", Version: "v1"}
	assert.NoError(t, checkSecretNames([]appconfig.ComposeSecret{ok}))

	long := "smtp_password_for_the_outgoing_mail_relay_service1"
	err := checkSecretNames([]appconfig.ComposeSecret{ok, {ID: long, Name: "samp-1a2b3c_ci_local_" + long + "_v1", Version: "v1"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "secret name too long")
	assert.Contains(t, err.Error(), long)
	assert.Contains(t, err.Error(), "is 74 characters")

	exactly64 := strings.Repeat("s", 64)
	assert.NoError(t, checkSecretNames([]appconfig.ComposeSecret{{ID: "x", Name: exactly64, Version: "v1"}}), "64 characters are allowed")
	assert.ErrorContains(t, checkSecretNames([]appconfig.ComposeSecret{{ID: "x", Name: exactly64 + "s", Version: "v1"}}), "65 characters")
	assert.ErrorContains(t, checkSecretNames([]appconfig.ComposeSecret{{ID: "x", Name: "s_x_"}}), "missing version for secret x")
}

func TestSecretValueHonoursTheLengthModifier(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 12, 48, 128} {
		v, err := secretValue(n)
		require.NoError(t, err)
		assert.Len(t, v, n)
		assert.Regexp(t, `^[A-Za-z0-9]+$`, v)
	}
	v, err := secretValue(0)
	require.NoError(t, err)
	assert.Regexp(t, `^[a-z]{4,8}(-[a-z]{4,8}){3}$`, v, "no length: a passphrase of words")
	w, err := secretValue(0)
	require.NoError(t, err)
	assert.NotEqual(t, v, w)
}

func TestStackDeployArgs(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"stack", "deploy", "--resolve-image", "never", "--prune",
		"--compose-file", "compose.yml", "--compose-file", "compose.smtp.yml",
		"--compose-file", "/tmp/o/labels.yml", "s_ci_local"},
		stackDeployArgs([]string{"compose.yml", "compose.smtp.yml"}, "/tmp/o/labels.yml", "s_ci_local"))
	assert.Equal(t, "samp-1a2b3c_ci_local", stackName("samp-1a2b3c.ci.local"))
}

func TestAppNewInjectsNothingTheSampleDoesNotHave(t *testing.T) {
	t.Parallel()
	dir := abraDirWith(t, testkit.NoDomain)
	code, _, stderr := runFake(t, dir, "app", "new", "sample", "--server", "default", "--domain", "samp-1a2b3c.ci.local", "--no-input", "--chaos")
	require.Equal(t, 0, code, stderr)
	env, err := os.ReadFile(filepath.Join(dir, "servers", "default", "samp-1a2b3c.ci.local.env"))
	require.NoError(t, err)
	sample, err := os.ReadFile(filepath.Join(dir, "recipes", "sample", ".env.sample"))
	require.NoError(t, err)
	assert.NotContains(t, string(env), "DOMAIN=samp-1a2b3c.ci.local", "abra adds no DOMAIN the sample lacks")
	assert.Equal(t, strings.ReplaceAll(string(sample), "sample.example.com", "samp-1a2b3c.ci.local"), string(env),
		"the .env is the sample with the placeholder domain replaced, nothing else")
}

func TestAppSecretGenerateForms(t *testing.T) {
	t.Parallel()
	dir := abraDirWith(t, testkit.Good)
	code, _, stderr := runFake(t, dir, "app", "new", "sample", "--server", "default", "--domain", "samp-1a2b3c.ci.local", "--no-input", "--chaos")
	require.Equal(t, 0, code, stderr)
	tests := []struct {
		name    string
		argv    []string
		wantErr string
	}{
		{"--all with a secret", []string{"d", "db_password", "v1", "--all"}, "cannot use '<secret> <version>' and '--all' together"},
		{"neither", []string{"d"}, "missing arguments <secret>/<version> or '--all'"},
		{"a secret without a version", []string{"d", "db_password"}, "missing arguments"},
		{"a secret the compose files do not declare", []string{"samp-1a2b3c.ci.local", "nope", "v1"}, "nope doesn't exist in the env config?"},
	}
	for _, tt := range tests {
		argv := append([]string{"app", "secret", "generate"}, tt.argv...)
		code, _, stderr := runFake(t, dir, append(argv, "--no-input")...)
		assert.Equal(t, 1, code, tt.name)
		assert.Contains(t, stderr, tt.wantErr, tt.name)
	}
}

func TestAppDeployRefusesAVersionLabelOnAnotherService(t *testing.T) {
	t.Parallel()
	dir := abraDirWith(t, testkit.Good)
	code, _, stderr := runFake(t, dir, "app", "new", "sample", "--server", "default", "--domain", "samp-1a2b3c.ci.local", "--no-input", "--chaos")
	require.Equal(t, 0, code, stderr)
	recipeDir := filepath.Join(dir, "recipes", "sample")
	data, err := os.ReadFile(filepath.Join(recipeDir, "compose.yml"))
	require.NoError(t, err)
	moved := bytes.Replace(data, []byte("\n  app:\n"), []byte("\n  web:\n"), 1)
	require.NotEqual(t, data, moved, "the sample recipe's main service is app")
	require.NoError(t, os.WriteFile(filepath.Join(recipeDir, "compose.yml"), moved, 0o644))
	code, _, stderr = runFake(t, dir, "app", "deploy", "samp-1a2b3c.ci.local", "--chaos", "--no-input")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "the recipe has no service named app")
}
