package limits

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/appconfig"
)

const twoServices = "  app:\n    image: a\n" + "  db:\n    image: d\n    deploy:\n      resources:\n        limits:\n          memory: 2G\n"

// composeFilesOf reads the env file as abra does and returns the compose files it selects.
func composeFilesOf(t *testing.T, envPath string) []string {
	t.Helper()
	env, err := appconfig.ReadEnvFile(envPath)
	require.NoError(t, err)
	return appconfig.ComposeFiles(env.Map())
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

func TestApplySelectsTheOverrideOnceAndIsIdempotent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       string
		wantFiles []string
	}{
		{"COMPOSE_FILE unset keeps abra's default compose.yml first", "DOMAIN=limi-1a2b3c.ci.local\n",
			[]string{"compose.yml", OverrideFile}},
		{"a single file", "COMPOSE_FILE=compose.yml\n", []string{"compose.yml", OverrideFile}},
		{"a chained COMPOSE_FILE keeps every file it selects", "COMPOSE_FILE=\"compose.yml\"\n# SMTP\nCOMPOSE_FILE=\"$COMPOSE_FILE:compose.smtp.yml\"\n",
			[]string{"compose.yml", "compose.smtp.yml", OverrideFile}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := newRecipe(t, map[string]string{"compose.yml": compose(`"3.8"`, twoServices),
				"compose.smtp.yml": compose(`"3.8"`, "  app:\n    environment:\n      SMTP: \"1\"\n")}, true)
			envPath := writeEnv(t, tc.env)
			plan, err := Plan(load(t, dir, envPath), Budget{})
			require.NoError(t, err)

			a, err := Apply(t.Context(), dir, envPath, plan)
			require.NoError(t, err)
			assert.Equal(t, filepath.Join(dir, OverrideFile), a.File)
			assert.Equal(t, tc.wantFiles, composeFilesOf(t, envPath))
			env1, override1 := read(t, envPath), read(t, a.File)
			info, err := os.Stat(envPath)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the .env keeps its mode: it names secrets' versions")

			again, err := Apply(t.Context(), dir, envPath, plan)
			require.NoError(t, err)
			assert.Equal(t, a, again)
			assert.Equal(t, env1, read(t, envPath), "a second Apply changes nothing in the .env")
			assert.Equal(t, override1, read(t, a.File))
			assert.Equal(t, tc.wantFiles, composeFilesOf(t, envPath))

			cfg := load(t, dir, envPath)
			require.NoError(t, Check(cfg, plan, a), "the reloaded configuration runs with the plan")
			assert.Equal(t, tc.wantFiles, cfg.ComposeFiles)
		})
	}
}

// abra calls a checkout with untracked files dirty and records the chaos version with "+U". The
// override's directory ignores itself, which git and go-git (abra's) both honour.
func TestApplyLeavesTheCheckoutClean(t *testing.T) {
	t.Parallel()
	dir := newRecipe(t, map[string]string{"compose.yml": compose(`"3.8"`, twoServices)}, true)
	envPath := writeEnv(t, "")
	plan, err := Plan(load(t, dir, envPath), Budget{})
	require.NoError(t, err)
	_, err = Apply(t.Context(), dir, envPath, plan)
	require.NoError(t, err)
	_, err = Apply(t.Context(), dir, envPath, plan)
	require.NoError(t, err)
	assert.Empty(t, git(t, dir, "status", "--porcelain", "--untracked-files=all"), "the override is ignored")
	assert.Equal(t, "!! "+OverrideDir+"/", git(t, dir, "status", "--porcelain", "--ignored"), "by its own directory")

	// Without the directory's .gitignore the same file dirties the tree: it is what keeps it clean.
	require.NoError(t, os.Remove(filepath.Join(dir, OverrideDir, ".gitignore")))
	assert.Equal(t, "?? "+OverrideFile, git(t, dir, "status", "--porcelain", "--untracked-files=all"))
}

// docker stack deploy (and abra, with the same docker/cli loader) refuses compose files of
// different versions and validates each against its version's schema, which has limits.pids
// only from 3.9 on. docker stack config runs that same loader without deploying anything.
func TestApplyWritesAnOverrideDockerAcceptsBesideTheRecipe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		version     string
		wantPids    bool
		wantVersion string
	}{
		{"a 3.8 recipe (most) gets a 3.8 override without pids", `"3.8"`, false, "3.8"},
		{"a 3.9 recipe gets pids", `"3.9"`, true, "3.9"},
		{"a recipe without a version gets pids (docker takes its newest schema)", "", true, ""},
		{"a version \"3\" is 3.0 to docker: no pids", `"3"`, false, "3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := newRecipe(t, map[string]string{"compose.yml": compose(tc.version, twoServices)}, true)
			envPath := writeEnv(t, "")
			plan, err := Plan(load(t, dir, envPath), Budget{Memory: 512 * mib, CPUs: 0.5, Pids: 200})
			require.NoError(t, err)
			a, err := Apply(t.Context(), dir, envPath, plan)
			require.NoError(t, err)
			assert.Equal(t, tc.wantPids, a.Pids)
			assert.Equal(t, tc.wantVersion, a.Version)
			if tc.wantPids {
				assert.Empty(t, a.Note())
			} else {
				assert.Contains(t, a.Note(), "pids limits not applied: the recipe's compose files are version "+tc.wantVersion)
			}

			cmd := exec.CommandContext(t.Context(), "docker", "stack", "config", "-c", "compose.yml", "-c", OverrideFile)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "docker refuses the override:\n%s\n%s", out, read(t, a.File))
			got := string(out)
			assert.Contains(t, got, "memory: \"536870912\"", "the budget caps db's 2G and defaults app")
			assert.Contains(t, got, "cpus: \"0.5\"")
			assert.Equal(t, tc.wantPids, strings.Contains(got, "pids: 200"))
			require.NoError(t, Check(load(t, dir, envPath), plan, a))
		})
	}
}

func TestApplyRefusesARecipeThatWouldDropOrOwnTheOverride(t *testing.T) {
	t.Parallel()
	outsideCompose := compose(`"3.8"`, "  app:\n    image: a\n")
	tests := []struct {
		name    string
		files   map[string]string
		env     string
		setup   func(t *testing.T, dir string) // before the commit
		wantErr string
	}{
		{name: "an abra.sh exporting COMPOSE_FILE, which abra sets over the .env", files: map[string]string{"abra.sh": "export COMPOSE_FILE=compose\n"},
			wantErr: "abra.sh exports COMPOSE_FILE"},
		{name: "a tracked file of the override's name", files: map[string]string{OverrideFile: compose(`"3.8"`, "  app:\n    image: x\n")},
			wantErr: "the recipe has files in .cc-ci-limits/ (.cc-ci-limits/compose.limits.yml)"},
		{name: "a tracked .gitignore in the override's directory", files: map[string]string{OverrideDir + "/.gitignore": "!*\n"},
			wantErr: "the recipe has files in .cc-ci-limits/ (.cc-ci-limits/.gitignore)"},
		{name: "a symlink where the override's directory goes", setup: func(t *testing.T, dir string) {
			require.NoError(t, os.Symlink(t.TempDir(), filepath.Join(dir, OverrideDir)))
		}, wantErr: "the recipe has files in .cc-ci-limits/ (.cc-ci-limits)"},
		{name: "a compose file outside the recipe", env: "COMPOSE_FILE=../outside.yml\n",
			setup: func(t *testing.T, dir string) {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "..", "outside.yml"), []byte(outsideCompose), 0o644))
			}, wantErr: "compose file ../outside.yml lies outside the recipe"},
		{name: "a compose file that is a symlink out of the recipe", env: "COMPOSE_FILE=link.yml\n",
			setup: func(t *testing.T, dir string) {
				outside := filepath.Join(dir, "..", "outside.yml")
				require.NoError(t, os.WriteFile(outside, []byte(outsideCompose), 0o644))
				require.NoError(t, os.Symlink(outside, filepath.Join(dir, "link.yml")))
			}, wantErr: "compose file link.yml lies outside the recipe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{"compose.yml": compose(`"3.8"`, "  app:\n    image: a\n")}
			for k, v := range tc.files {
				files[k] = v
			}
			dir := newRecipe(t, files, false)
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			git(t, dir, "init", "-q", "-b", "main")
			git(t, dir, "add", "-A")
			git(t, dir, "commit", "-q", "-m", "recipe")
			envPath := writeEnv(t, tc.env)
			plan := []ServiceLimit{{Service: "app", Tasks: 1, Memory: Value{Set: 64 * mib}, NanoCPUs: Value{Set: 1e9}, Pids: Value{Set: 64}}}
			before := read(t, envPath)
			_, err := Apply(t.Context(), dir, envPath, plan)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Equal(t, before, read(t, envPath), "a refusal changes nothing")
			if _, tracked := tc.files[OverrideFile]; !tracked {
				_, err := os.Stat(filepath.Join(dir, OverrideFile))
				assert.True(t, os.IsNotExist(err), "and writes no override")
			}
		})
	}
}

func TestDetachUndoesApply(t *testing.T) {
	t.Parallel()
	dir := newRecipe(t, map[string]string{"compose.yml": compose(`"3.8"`, twoServices)}, true)
	envPath := writeEnv(t, "COMPOSE_FILE=compose.yml\n")
	plan, err := Plan(load(t, dir, envPath), Budget{})
	require.NoError(t, err)
	a, err := Apply(t.Context(), dir, envPath, plan)
	require.NoError(t, err)
	require.NoError(t, Detach(dir, envPath))
	assert.Equal(t, "COMPOSE_FILE=compose.yml\n", read(t, envPath))
	assert.NoFileExists(t, a.File)
	require.NoError(t, Detach(dir, envPath), "detaching twice is harmless")
	again, err := Plan(load(t, dir, envPath), Budget{})
	require.NoError(t, err)
	assert.Equal(t, plan, again, "after Detach the recipe's own limits are read again")
}

func TestCheckNamesWhatDiffersFromThePlan(t *testing.T) {
	t.Parallel()
	dir := newRecipe(t, map[string]string{"compose.yml": compose(`"3.9"`, twoServices)}, true)
	envPath := writeEnv(t, "")
	plan, err := Plan(load(t, dir, envPath), Budget{})
	require.NoError(t, err)
	unapplied := load(t, dir, envPath)
	a, err := Apply(t.Context(), dir, envPath, plan)
	require.NoError(t, err)
	cfg := load(t, dir, envPath)
	require.NoError(t, Check(cfg, plan, a))

	other := append([]ServiceLimit(nil), plan...)
	other[1].Memory.Set = 64 * mib
	assert.ErrorContains(t, Check(cfg, other, a), "service db has memory 1 GiB, planned 64 MiB")
	other = append([]ServiceLimit(nil), plan...)
	other[0].Pids.Set = 7
	assert.ErrorContains(t, Check(cfg, other, a), "service app has pids 512, planned 7")
	assert.NoError(t, Check(cfg, other, Applied{Pids: false}), "pids are not checked when they could not be applied")
	assert.ErrorContains(t, Check(cfg, plan[:1], a), "service db has no planned limits")
	assert.ErrorContains(t, Check(unapplied, plan, a), "does not select "+OverrideFile)
}

func TestGitCommandLines(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		cmd  *exec.Cmd
		want []string
	}{
		{"the top of the work tree", topLevelCmd(ctx, "/r"), []string{"git", "-C", "/r", "rev-parse", "--show-toplevel"}},
		{"the recipe's files in the override's directory, its name read literally", trackedCmd(ctx, "/r"),
			[]string{"git", "-C", "/r", "ls-files", "--", ":(literal).cc-ci-limits"}},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.cmd.Args, tc.name)
		assert.Contains(t, tc.cmd.Env, "GIT_TERMINAL_PROMPT=0", tc.name)
	}
}

func TestApplyRefusesASymlinkWhereTheOverridesDirectoryGoes(t *testing.T) {
	t.Parallel()
	dir := newRecipe(t, map[string]string{"compose.yml": compose(`"3.8"`, "  app:\n    image: a\n")}, false)
	elsewhere := t.TempDir()
	require.NoError(t, os.Symlink(elsewhere, filepath.Join(dir, OverrideDir)))
	envPath := writeEnv(t, "")
	plan := []ServiceLimit{{Service: "app", Tasks: 1, Memory: Value{Set: 64 * mib}, NanoCPUs: Value{Set: 1e9}, Pids: Value{Set: 64}}}
	_, err := Apply(t.Context(), dir, envPath, plan)
	assert.ErrorContains(t, err, ".cc-ci-limits in the recipe is not a directory")
	entries, err := os.ReadDir(elsewhere)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing is written through the symlink")
}
