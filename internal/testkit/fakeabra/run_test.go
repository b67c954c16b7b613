package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"coopcloud.tech/cc-ci/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// abraDirWith makes an ABRA_DIR like the plugin does: servers/default and recipes/sample as a
// clone of a generated sample recipe of variant v.
func abraDirWith(t *testing.T, v testkit.Variant) string {
	t.Helper()
	src, err := testkit.MakeRecipe(filepath.Join(t.TempDir(), "src"), v)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "servers", "default"), 0o755))
	out, err := exec.Command("git", "clone", "-q", src.Src, filepath.Join(dir, "recipes", "sample")).CombinedOutput()
	require.NoError(t, err, string(out))
	return dir
}

func runFake(t *testing.T, abraDir string, argv ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := []string{"PATH=" + os.Getenv("PATH")}
	if abraDir != "" {
		env = append(env, "ABRA_DIR="+abraDir)
	}
	code := run(context.Background(), argv, env, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestRunRefusesToWorkWithoutAbraDir(t *testing.T) {
	t.Parallel()
	code, _, stderr := runFake(t, "", "recipe", "fetch", "sample", "--no-input")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "FAKE abra (cc-ci test double): recipe fetch sample --no-input")
	assert.Contains(t, stderr, "ABRA_DIR is not set")
}

func TestRunLogsEveryCallAsOneJSONLine(t *testing.T) {
	t.Parallel()
	dir := abraDirWith(t, testkit.Good)
	code, _, _ := runFake(t, dir, "recipe", "fetch", "sample", "--no-input")
	require.Equal(t, 0, code)
	code, _, stderr := runFake(t, dir, "app", "bogus")
	require.Equal(t, 1, code, "an unknown command is an error")
	assert.Contains(t, stderr, "usage")

	fh, err := os.Open(filepath.Join(dir, "fake-abra-calls.jsonl"))
	require.NoError(t, err)
	defer fh.Close()
	var recs []callRecord
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var r callRecord
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		recs = append(recs, r)
	}
	require.Len(t, recs, 2, "one line per call, unknown commands included")
	assert.Equal(t, []string{"recipe", "fetch", "sample", "--no-input"}, recs[0].Argv)
	assert.Equal(t, dir, recs[0].AbraDir)
	assert.NotEmpty(t, recs[0].Cwd)
	assert.False(t, recs[0].TTY, "go test's stdin is not a terminal")
	assert.NotEmpty(t, recs[0].Time)
	assert.Equal(t, []string{"app", "bogus"}, recs[1].Argv)
}

func TestRunLogsToCCCIFakeAbraLogWhenSet(t *testing.T) {
	t.Parallel()
	logPath := filepath.Join(t.TempDir(), "calls.jsonl")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"recipe", "fetch", "nope", "--no-input"},
		[]string{"CCCI_FAKE_ABRA_LOG=" + logPath}, &stdout, &stderr)
	assert.Equal(t, 1, code, "ABRA_DIR is still required")
	data, err := os.ReadFile(logPath)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(data), "\n"))
	assert.Contains(t, string(data), `"argv":["recipe","fetch","nope","--no-input"]`)
}

func TestAppNewWritesTheEnvFromTheSample(t *testing.T) {
	t.Parallel()
	dir := abraDirWith(t, testkit.Good)
	code, stdout, stderr := runFake(t, dir, "app", "new", "sample", testkit.Tag1, "--server", "default",
		"--domain", "samp-1a2b3c.ci.local", "--no-input")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "samp-1a2b3c.ci.local")
	env, err := os.ReadFile(filepath.Join(dir, "servers", "default", "samp-1a2b3c.ci.local.env"))
	require.NoError(t, err)
	assert.Contains(t, string(env), "TYPE=sample\n")
	assert.Contains(t, string(env), "DOMAIN=samp-1a2b3c.ci.local\n")
	assert.Contains(t, string(env), "## Domain aliases\n", "comments are kept")
	assert.Contains(t, string(env), "SECRET_API_KEY_VERSION=v1\n")
	assert.NotContains(t, string(env), "sample.example.com\n")
	head, err := exec.Command("git", "-C", filepath.Join(dir, "recipes", "sample"), "describe", "--tags", "--exact-match").Output()
	require.NoError(t, err)
	assert.Equal(t, testkit.Tag1, strings.TrimSpace(string(head)), "the version given is checked out")

	code, _, stderr = runFake(t, dir, "app", "new", "sample", "--server", "default",
		"--domain", "samp-1a2b3c.ci.local", "--no-input")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "app samp-1a2b3c.ci.local already exists")
}

func TestAppNewFailsClearly(t *testing.T) {
	t.Parallel()
	good := abraDirWith(t, testkit.Good)
	noSample := abraDirWith(t, testkit.NoEnvSample)
	tests := []struct {
		name    string
		dir     string
		argv    []string
		wantErr string
	}{
		{"a recipe that was not fetched", good, []string{"app", "new", "other", "--server", "default", "--domain", "o.ci.local", "--no-input"},
			"recipe other not fetched: run abra recipe fetch"},
		{"a server that was not added", good, []string{"app", "new", "sample", "--server", "nope", "--domain", "s.ci.local", "--no-input"},
			"run abra server add nope"},
		{"a version that is not a tag", good, []string{"app", "new", "sample", "9.9.9+9", "--server", "default", "--domain", "s.ci.local", "--no-input"},
			"version 9.9.9+9 of recipe sample not found"},
		{"a recipe without .env.sample", noSample, []string{"app", "new", "sample", "--server", "default", "--domain", "s.ci.local", "--no-input", "--chaos"},
			"recipe sample has no .env.sample"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runFake(t, tc.dir, tc.argv...)
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, tc.wantErr)
		})
	}
}

func TestAppNewRefusesALongSecretNameBeforeCreatingAnything(t *testing.T) {
	t.Parallel()
	dir := abraDirWith(t, testkit.LongSecretName)
	code, _, stderr := runFake(t, dir, "app", "new", "sample", "--server", "default",
		"--domain", "samp-1a2b3c.ci.local", "--secrets", "--no-input", "--chaos")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "secret name too long")
	assert.Contains(t, stderr, testkit.LongSecret)
	assert.Contains(t, stderr, "74 characters")
}

func TestRecipeFetchNeedsACheckout(t *testing.T) {
	t.Parallel()
	dir := abraDirWith(t, testkit.Good)
	code, stdout, _ := runFake(t, dir, "recipe", "fetch", "sample", "--no-input")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "already fetched")
	code, _, stderr := runFake(t, dir, "recipe", "fetch", "other", "--no-input")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "cannot fetch from the network")
}

// TestAppNewChecksOutTheNewestReleaseUnlessChaos: abra app new without a version moves the
// recipe checkout to the newest release tag; --chaos keeps the checked-out commit (the PR head).
func TestAppNewChecksOutTheNewestReleaseUnlessChaos(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		chaos bool
		want  func(head string) string
	}{
		{"without --chaos the newest release is checked out", false, func(string) string { return testkit.Tag2 }},
		{"with --chaos the checked-out commit stays", true, func(head string) string { return head }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := abraDirWith(t, testkit.Good)
			recipeDir := filepath.Join(dir, "recipes", "sample")
			head, err := exec.Command("git", "-C", recipeDir, "rev-parse", "HEAD").Output()
			require.NoError(t, err)
			args := []string{"app", "new", "sample", "--server", "default", "--domain", "samp-1a2b3c.ci.local", "--no-input"}
			if tt.chaos {
				args = append(args, "--chaos")
			}
			code, _, stderr := runFake(t, dir, args...)
			require.Equal(t, 0, code, stderr)
			got, err := exec.Command("git", "-C", recipeDir, "describe", "--tags", "--exact-match", "HEAD").Output()
			if !tt.chaos {
				require.NoError(t, err)
				assert.Equal(t, tt.want(""), strings.TrimSpace(string(got)))
				return
			}
			now, err := exec.Command("git", "-C", recipeDir, "rev-parse", "HEAD").Output()
			require.NoError(t, err)
			assert.Equal(t, tt.want(string(head)), string(now))
		})
	}
}
