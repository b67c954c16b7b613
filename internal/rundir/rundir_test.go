package rundir

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunIDFromDroneBuildNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		build string
		pid   int
		want  string
	}{
		{name: "a Drone build number names the run after the build", build: "42", pid: 7, want: "drone-42"},
		{name: "leading zeros are normalised away", build: "007", pid: 7, want: "drone-7"},
		{name: "no build number means a run by hand", build: "", pid: 4242, want: "manual-4242"},
		{name: "build number zero is not a real build", build: "0", pid: 5, want: "manual-5"},
		{name: "a negative build number is garbage", build: "-3", pid: 5, want: "manual-5"},
		{name: "a signed build number is garbage", build: "+3", pid: 5, want: "manual-5"},
		{name: "letters after digits are garbage", build: "12abc", pid: 5, want: "manual-5"},
		{name: "surrounding space is garbage", build: " 12", pid: 5, want: "manual-5"},
		{name: "a path traversal attempt is garbage", build: "../../etc", pid: 5, want: "manual-5"},
		{name: "an overflowing number is garbage", build: "99999999999999999999999", pid: 5, want: "manual-5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string {
				if k == "DRONE_BUILD_NUMBER" {
					return tt.build
				}
				return "unrelated"
			}
			assert.Equal(t, tt.want, RunID(getenv, tt.pid))
		})
	}
}

func TestCreateBuildsSymlinksAndPrivateRecipes(t *testing.T) {
	t.Parallel()
	runs, canonical := t.TempDir(), filepath.Join(t.TempDir(), "abra")

	d, err := Create(runs, canonical, "drone-12")
	require.NoError(t, err)

	assert.Equal(t, "drone-12", d.ID)
	assert.Equal(t, filepath.Join(runs, "drone-12"), d.Root)
	assert.Equal(t, filepath.Join(runs, "drone-12", "abra"), d.AbraDir)
	assert.Equal(t, canonical, d.Canonical)
	for _, shared := range []string{"servers", "catalogue"} {
		link := filepath.Join(d.AbraDir, shared)
		fi, err := os.Lstat(link)
		require.NoError(t, err)
		assert.NotZero(t, fi.Mode()&os.ModeSymlink, "%s must be a symlink", shared)
		target, err := os.Readlink(link)
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(canonical, shared), target)
		assert.DirExists(t, filepath.Join(canonical, shared), "canonical %s is created", shared)
	}
	fi, err := os.Lstat(filepath.Join(d.AbraDir, "recipes"))
	require.NoError(t, err)
	assert.True(t, fi.IsDir(), "recipes/ must be a real directory private to the run")
	assert.NoDirExists(t, filepath.Join(canonical, "recipes"), "the run must not create canonical recipes/")
	assert.DirExists(t, filepath.Dir(d.StatePath("x")))

	assert.Equal(t, filepath.Join(d.AbraDir, "recipes", "gitea"), d.RecipeDir("gitea"))
	assert.Equal(t, filepath.Join(d.Root, "results.json"), d.ResultsPath())
	assert.Equal(t, filepath.Join(d.Root, "summary.md"), d.SummaryPath())
	assert.Equal(t, filepath.Join(d.Root, "log.txt"), d.LogPath())
	assert.Equal(t, filepath.Join(d.Root, "screenshot.png"), d.ScreenshotPath())
	assert.Equal(t, filepath.Join(d.Root, "state", "deploys"), d.StatePath("deploys"))

	again, err := Create(runs, canonical, "drone-12")
	require.NoError(t, err, "re-running Create for the same id keeps working")
	assert.Equal(t, d, again)
}

func TestCreateRefusesRealServersDir(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(t *testing.T, abraDir string)
		wantErr string
	}{
		{
			name: "a real servers directory would hide app .env files from the canonical dir",
			prepare: func(t *testing.T, abraDir string) {
				require.NoError(t, os.MkdirAll(filepath.Join(abraDir, "servers"), 0o755))
			},
			wantErr: "is a real directory, not a symlink",
		},
		{
			name: "a servers symlink into another abra dir is refused",
			prepare: func(t *testing.T, abraDir string) {
				require.NoError(t, os.MkdirAll(abraDir, 0o755))
				require.NoError(t, os.Symlink(t.TempDir(), filepath.Join(abraDir, "servers")))
			},
			wantErr: "points to",
		},
		{
			name: "a real catalogue file is refused",
			prepare: func(t *testing.T, abraDir string) {
				require.NoError(t, os.MkdirAll(abraDir, 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(abraDir, "catalogue"), nil, 0o644))
			},
			wantErr: "is a real file",
		},
		{
			name: "a recipes symlink would share checkouts between runs and is refused",
			prepare: func(t *testing.T, abraDir string) {
				require.NoError(t, os.MkdirAll(abraDir, 0o755))
				require.NoError(t, os.Symlink(t.TempDir(), filepath.Join(abraDir, "recipes")))
			},
			wantErr: "want a private directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runs, canonical := t.TempDir(), t.TempDir()
			tt.prepare(t, filepath.Join(runs, "drone-1", "abra"))
			_, err := Create(runs, canonical, "drone-1")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestCreateRefusesBadRunIDs(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", ".", "..", "a/b", "../escape"} {
		_, err := Create(t.TempDir(), t.TempDir(), id)
		assert.Error(t, err, "run id %q", id)
	}
}

func TestManualRunsGetPidSuffixedDirs(t *testing.T) {
	t.Parallel()
	runs, canonical := t.TempDir(), t.TempDir()
	noDrone := func(string) string { return "" }

	first, err := Create(runs, canonical, RunID(noDrone, 1001))
	require.NoError(t, err)
	second, err := Create(runs, canonical, RunID(noDrone, 1002))
	require.NoError(t, err)

	assert.Equal(t, filepath.Join(runs, "manual-1001"), first.Root)
	assert.Equal(t, filepath.Join(runs, "manual-1002"), second.Root)
	assert.NotEqual(t, first.AbraDir, second.AbraDir)
	assert.DirExists(t, first.RecipeDir(""))
	assert.DirExists(t, second.RecipeDir(""))
	assert.NotEqual(t, first.RecipeDir("gitea"), second.RecipeDir("gitea"))
}

func TestAppEnvWrittenThroughServersLandsInCanonical(t *testing.T) {
	t.Parallel()
	runs, canonical := t.TempDir(), t.TempDir()
	d, err := Create(runs, canonical, "drone-3")
	require.NoError(t, err)
	const server, domain = "default", "gite-abc123.ci.example"

	// abra creates the server dir and app .env through ABRA_DIR, i.e. through the symlink.
	runPath := d.AppEnvPath(server, domain)
	require.Equal(t, filepath.Join(d.AbraDir, "servers", server, domain+".env"), runPath)
	require.NoError(t, os.MkdirAll(filepath.Dir(runPath), 0o755))
	require.NoError(t, os.WriteFile(runPath, []byte("TYPE=gitea\nDOMAIN="+domain+"\n"), 0o600))

	canonPath := d.CanonicalAppEnvPath(server, domain)
	assert.Equal(t, filepath.Join(canonical, "servers", server, domain+".env"), canonPath)
	assert.FileExists(t, canonPath, "the .env must land in the canonical abra dir")

	viaRun, _, err := ReadEnvFile(runPath)
	require.NoError(t, err)
	viaCanon, _, err := ReadEnvFile(canonPath)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"TYPE": "gitea", "DOMAIN": domain}, viaRun)
	assert.Equal(t, viaRun, viaCanon)

	require.NoError(t, SetEnvValue(runPath, "SECRET_DB_VERSION", "v2"))
	viaCanon, _, err = ReadEnvFile(canonPath)
	require.NoError(t, err)
	assert.Equal(t, "v2", viaCanon["SECRET_DB_VERSION"], "a value set through servers/ is seen canonically")

	require.NoError(t, SetEnvValue(canonPath, "TYPE", "gitea:1.2.0"))
	viaRun, _, err = ReadEnvFile(runPath)
	require.NoError(t, err)
	assert.Equal(t, "gitea:1.2.0", viaRun["TYPE"], "a value set canonically is seen through servers/")

	fi, err := os.Stat(canonPath)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the rewrite keeps the file mode")
	entries, err := os.ReadDir(filepath.Dir(canonPath))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temp files are left behind")
}

// fakeAbra records ABRA_DIR, whether its recipes/ existed at call time, and argv.
const fakeAbra = `#!/bin/sh
# FAKE abra for tests: records its environment instead of doing anything.
if test -d "$ABRA_DIR/recipes"; then exists=yes; else exists=no; fi
printf 'ABRA_DIR=%s\nrecipes_exists=%s\nargv=%s\n' "$ABRA_DIR" "$exists" "$*" > "$FAKE_ABRA_RECORD"
`

func TestAbraDirExportedBeforeFirstAbraCall(t *testing.T) {
	// Not parallel: it writes a script and execs it, which fails with "text file busy" when a
	// parallel test forks while the script is still open for writing (golang/go#22315).
	bin := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bin, "abra"), []byte(fakeAbra), 0o755))
	record := filepath.Join(t.TempDir(), "record")
	d, err := Create(t.TempDir(), t.TempDir(), "drone-77")
	require.NoError(t, err)

	base := append(os.Environ(), "ABRA_DIR=/home/operator/.abra", "FAKE_ABRA_RECORD="+record)
	env := d.Environ(base)
	env = append(env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	// A shell resolves "abra" through the run's PATH, as any child of the plugin would.
	cmd := exec.Command("sh", "-c", `exec abra "$@"`, "sh", "app", "ls", "--no-input")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))

	got, err := os.ReadFile(record)
	require.NoError(t, err)
	assert.Equal(t,
		"ABRA_DIR="+d.AbraDir+"\nrecipes_exists=yes\nargv=app ls --no-input\n",
		string(got))
	var abraDirs []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "ABRA_DIR=") {
			abraDirs = append(abraDirs, kv)
		}
	}
	assert.Equal(t, []string{"ABRA_DIR=" + d.AbraDir}, abraDirs, "the operator's ABRA_DIR is replaced, not shadowed")
}
