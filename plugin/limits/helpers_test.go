package limits

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/appconfig"
)

// testStack is STACK_NAME of the test apps.
const testStack = "limi-1a2b3c_ci_local"

// newRecipe writes files into a fresh recipe directory. With commit, it is a git checkout with
// every file committed, like the run's clone of a recipe.
func newRecipe(t *testing.T, files map[string]string, commit bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "recipe")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, content := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	if commit {
		git(t, dir, "init", "-q", "-b", "main")
		git(t, dir, "add", "-A")
		git(t, dir, "commit", "-q", "-m", "recipe")
	}
	return dir
}

// git runs git in dir with a fixed identity and no user or system configuration.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
	return strings.TrimRight(string(out), "\n")
}

// writeEnv writes an app's .env outside the recipe, where abra keeps it, and returns its path.
func writeEnv(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "limi-1a2b3c.ci.local.env")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// load reads the app's effective configuration as abra would deploy it.
func load(t *testing.T, recipeDir, envPath string) *appconfig.Config {
	t.Helper()
	cfg, err := appconfig.Load(t.Context(), appconfig.LoadOptions{RecipeDir: recipeDir, EnvFile: envPath, Stack: testStack})
	require.NoError(t, err)
	return cfg
}

// compose is a compose file of the given version ("" for none) with services (YAML indented
// under services:).
func compose(version, services string) string {
	head := ""
	if version != "" {
		head = "version: " + version + "\n"
	}
	return head + "services:\n" + services
}
