package recipe

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// gitRepo is a real git repository built by a test.
type gitRepo struct {
	t   *testing.T
	dir string
}

// testGitEnv lets tests commit without any global git config and keeps the user's config out.
func testGitEnv() []string {
	return append(os.Environ(),
		"GIT_AUTHOR_NAME=cc-ci test", "GIT_AUTHOR_EMAIL=test@cc-ci.invalid",
		"GIT_COMMITTER_NAME=cc-ci test", "GIT_COMMITTER_EMAIL=test@cc-ci.invalid",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
	)
}

// newGitRepo initialises an empty repository on branch main in a fresh temp dir.
func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	r := &gitRepo{t: t, dir: filepath.Join(t.TempDir(), "recipe")}
	gitIn(t, "", "init", "--quiet", "-b", "main", r.dir)
	return r
}

// gitIn runs git in dir with the test environment and returns trimmed stdout.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = testGitEnv()
	out, err := cmd.Output()
	var stderr string
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	require.NoError(t, err, "git %s in %s: %s", strings.Join(args, " "), dir, stderr)
	return strings.TrimSpace(string(out))
}

func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	return gitIn(r.t, r.dir, args...)
}

// commit writes files (path -> content; empty content deletes) and commits them, returning the SHA.
func (r *gitRepo) commit(msg string, files map[string]string) string {
	r.t.Helper()
	for name, content := range files {
		path := filepath.Join(r.dir, name)
		if content == "" {
			require.NoError(r.t, os.Remove(path))
			continue
		}
		require.NoError(r.t, os.WriteFile(path, []byte(content), 0o644))
	}
	r.git("add", "--all")
	r.git("commit", "--quiet", "--allow-empty", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

// release publishes commit as a recipe version, the way Co-op Cloud does: an annotated tag.
func (r *gitRepo) release(tag, commit string) {
	r.t.Helper()
	r.git("tag", "-a", tag, "-m", "release "+tag, commit)
}

// lightTag adds a lightweight tag, which is not a release.
func (r *gitRepo) lightTag(tag, commit string) {
	r.t.Helper()
	r.git("tag", tag, commit)
}
