package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/appconfig"
	"coopcloud.tech/cc-ci/internal/testkit"
)

// limitsOverride is what the plugin writes for the sample recipe's app (plugin/limits): an
// override of the recipe's compose file version with only deploy.resources.limits, in a
// directory that git-ignores itself, selected last by COMPOSE_FILE.
const limitsOverride = `version: "3.9"
services:
  app:
    deploy:
      resources:
        limits:
          memory: 96M
          cpus: "0.5"
          pids: 64
`

// The plugin applies resource limits as an override the recipe does not have. The fake must
// deploy every file COMPOSE_FILE selects, the override included, as abra does (pkg/config
// GetComposeFiles; docs/abra-contract.md), and must not call the checkout dirty for an ignored
// file: abra's go-git Worktree.Status honours .gitignore as git status does, so the chaos version
// keeps no "+U". It also deploys a recipe whose compose files are not version 3.8: its own label
// override declares the recipe's version, as docker requires of all files.
func TestAppDeployAppliesTheLimitsOverrideAndKeepsTheTreeClean(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	require.NoError(t, testkit.BuildImages(ctx))
	_, err := testkit.EnsureFrontDoor(ctx, testkit.DefaultFrontDoorPort) // the external proxy network
	require.NoError(t, err)
	dir := abraDirWith(t, testkit.Good)
	recipe := filepath.Join(dir, "recipes", "sample")
	b := make([]byte, 3)
	_, err = rand.Read(b)
	require.NoError(t, err)
	domain := "samp-" + hex.EncodeToString(b) + ".ci.local"
	stack := stackName(domain)

	// A recipe at compose file version 3.9, the first whose schema has limits.pids.
	composePath := filepath.Join(recipe, "compose.yml")
	data, err := os.ReadFile(composePath)
	require.NoError(t, err)
	bumped := strings.Replace(string(data), `version: "3.8"`, `version: "3.9"`, 1)
	require.NotEqual(t, string(data), bumped)
	require.NoError(t, os.WriteFile(composePath, []byte(bumped), 0o644))
	gitIn(t, recipe, "commit", "-q", "-am", "compose file version 3.9")
	head := gitIn(t, recipe, "rev-parse", "HEAD")

	code, _, stderr := runFake(t, dir, "app", "new", "sample", "--server", "default", "--domain", domain, "--secrets", "--chaos", "--no-input")
	require.Equal(t, 0, code, stderr)
	t.Cleanup(func() {
		if code, _, stderr := runFake(t, dir, "app", "remove", domain, "--force", "--no-input"); code != 0 {
			t.Errorf("cleanup of %s: %s", domain, stderr)
		}
	})
	require.NoError(t, os.MkdirAll(filepath.Join(recipe, ".cc-ci-limits"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(recipe, ".cc-ci-limits", ".gitignore"), []byte("*\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(recipe, ".cc-ci-limits", "compose.limits.yml"), []byte(limitsOverride), 0o644))
	envPath := filepath.Join(dir, "servers", "default", domain+".env")
	env, err := os.ReadFile(envPath)
	require.NoError(t, err)
	withOverride, err := appconfig.SetValue(string(env), "COMPOSE_FILE", "compose.yml:.cc-ci-limits/compose.limits.yml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(envPath, []byte(withOverride), 0o600))

	deployCtx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	var out, errOut strings.Builder
	code = run(deployCtx, []string{"app", "deploy", domain, "--chaos", "--no-input"},
		[]string{"PATH=" + os.Getenv("PATH"), "ABRA_DIR=" + dir}, &out, &errOut)
	require.Equal(t, 0, code, "%s\n%s", out.String(), errOut.String())

	limits := dockerOut(t, "service", "inspect", "--format",
		"{{.Spec.TaskTemplate.Resources.Limits.MemoryBytes}} {{.Spec.TaskTemplate.Resources.Limits.NanoCPUs}} {{.Spec.TaskTemplate.Resources.Limits.Pids}}",
		stack+"_app")
	assert.Equal(t, "100663296 500000000 64", limits, "96 MiB, 0.5 CPU and 64 pids, from the override")
	ctr := dockerOut(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+stack+"_app")
	require.NotEmpty(t, ctr)
	assert.Equal(t, "100663296 64", dockerOut(t, "inspect", "--format", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}", ctr),
		"the daemon enforces them on the task's container")
	assert.Equal(t, head[:8], dockerOut(t, "service", "inspect", "--format",
		`{{index .Spec.Labels "coop-cloud.`+stack+`.chaos-version"}}`, stack+"_app"), "the ignored override leaves the tree clean: no +U")
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

func dockerOut(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	require.NoError(t, err, "docker %v: %s", args, out)
	return strings.TrimSpace(string(out))
}
