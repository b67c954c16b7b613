package policy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/appconfig"
)

// stack is the app's STACK_NAME in every test.
const stack = "cana-abc123_ci_example"

// defaultEnv is the .env.sample of a fixture that brings none.
const defaultEnv = "TYPE=canary\nDOMAIN=canary.example.com\n"

// writeRecipe writes files (name -> content) into a fresh recipe dir named canary, with
// defaultEnv as .env.sample unless files has one, and returns the dir.
func writeRecipe(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "canary")
	require.NoError(t, os.Mkdir(dir, 0o755))
	if _, ok := files[appconfig.SampleEnvFile]; !ok {
		files[appconfig.SampleEnvFile] = defaultEnv
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	return dir
}

// load writes a recipe and loads its effective configuration as the run does.
func load(t *testing.T, files map[string]string) *appconfig.Config {
	t.Helper()
	return loadDir(t, writeRecipe(t, files))
}

func loadDir(t *testing.T, dir string) *appconfig.Config {
	t.Helper()
	cfg, err := appconfig.Load(context.Background(), appconfig.LoadOptions{RecipeDir: dir, Stack: stack})
	require.NoError(t, err, "the fixture is a valid recipe")
	return cfg
}

// app is a compose.yml whose service app (image nginx) has body (indented four spaces) and
// whose top level has top.
func app(body, top string) string {
	return "version: \"3.8\"\nservices:\n  app:\n    image: nginx:1.27\n" + body + top
}

// check runs Check with allow for recipe canary and requires it to succeed.
func check(t *testing.T, cfg *appconfig.Config, allow Allowances) (refused, allowed []Finding) {
	t.Helper()
	refused, allowed, err := Check(context.Background(), cfg, "canary", allow)
	require.NoError(t, err)
	return refused, allowed
}

// brief is a finding as "service|construct|key|value|file", for exact table comparisons.
func brief(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, strings.Join([]string{f.Service, f.Construct, f.Key, f.Value, f.File}, "|"))
	}
	return out
}

// allowances parses an allowances file's content, requiring it to be valid.
func allowances(t *testing.T, content string) Allowances {
	t.Helper()
	a, err := parseAllowances([]byte(content))
	require.NoError(t, err)
	return a
}
