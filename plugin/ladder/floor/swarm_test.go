package floor_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"coopcloud.tech/cc-ci/internal/swarm"
	"coopcloud.tech/cc-ci/internal/testkit"
	"coopcloud.tech/cc-ci/plugin/ladder/floor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// realCompose is a recipe-like stack on the sample app image (FROM scratch: no shell on its
// PATH, so the floor must do without one): the app keeps its database file db.json on the data
// volume, which today's backup labels limit to that file and a dump.json that the backup writes
// (as a pre-hook would), and uploads on a second volume, backed up whole. {{uploads}} is the uploads mount path, {{data}} the data volume's name.
const realCompose = `version: "3.8"
services:
  app:
    image: ccci-sample:1.0.0
    command: ["/app", "serve"]
    environment:
      - APP_TITLE={{title}}
    volumes:
      - "{{data}}:/data"
      - "uploads:{{uploads}}"
    secrets: [api_key]
    deploy:
      labels:
        backupbot.backup: "true"
        backupbot.backup.volumes.{{data}}.path: "db.json,dump.json"
volumes:
  {{data}}:
  uploads:
secrets:
  api_key:
    file: ./api_key.txt
`

// TestFloorOnARealSwarm drives the floor through an upgrade, a backup and a restore (done with
// the docker CLI, as an independent tool) and an upgrade that renames a volume, on the local
// swarm.
func TestFloorOnARealSwarm(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	require.NoError(t, testkit.BuildImages(ctx), "build the sample app images (needs the local Docker engine: make docker-up)")
	c, err := swarm.New(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	stack := realStack(t, c)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "api_key.txt"), []byte("key-123\n"), 0o600))
	deploy := func(title, data, uploads string) {
		t.Helper()
		compose := strings.NewReplacer("{{title}}", title, "{{data}}", data, "{{uploads}}", uploads).Replace(realCompose)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yml"), []byte(compose), 0o644))
		run(t, dir, "docker", "stack", "deploy", "--detach=true", "--resolve-image", "never", "-c", "compose.yml", stack)
		require.NoError(t, c.WaitConverged(ctx, stack, swarm.WaitOptions{Timeout: 2 * time.Minute}))
	}
	var out bytes.Buffer
	f := &floor.Floor{Docker: c, Stack: stack, Out: &out}
	t.Cleanup(func() { t.Logf("floor output:\n%s", out.String()) })

	// Upgrade: a new task (new environment) with the uploads volume mounted elsewhere.
	deploy("v1", "data", "/srv/uploads")
	before, err := c.RunningContainer(ctx, stack+"_app")
	require.NoError(t, err)
	n, err := f.MarkVolumes(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	deploy("v2", "data", "/srv/files")
	ctr, err := c.RunningContainer(ctx, stack+"_app")
	require.NoError(t, err)
	require.NotEqual(t, before, ctr, "the upgrade replaced the container")
	require.NoError(t, f.CheckVolumes(ctx))

	// Backup and restore.
	n, err = f.MarkBackupPaths(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "db.json (a labelled file), dump.json (absent until the backup) and the uploads volume (a directory)")
	backup := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(backup, "dump.json"), []byte(`{"note":"dumped"}`), 0o644))
	run(t, "", "docker", "cp", filepath.Join(backup, "dump.json"), ctr+":/data/dump.json") // the pre-hook
	run(t, "", "docker", "cp", ctr+":/data/db.json", filepath.Join(backup, "db.json"))
	run(t, "", "docker", "cp", ctr+":/srv/files", filepath.Join(backup, "files"))
	require.NoError(t, f.MutateBackupPaths(ctx))
	assert.Empty(t, f.Uncovered())
	err = f.CheckBackupPaths(ctx)
	var lost *floor.LostError
	require.ErrorAs(t, err, &lost, "a restore that does nothing")
	assert.Len(t, lost.Losses, 3)
	assert.Contains(t, err.Error(), "volume data (service app, /data/db.json): want its content at backup time")
	assert.Contains(t, err.Error(), `volume data (service app, /data/dump.json): want its content at backup time ("{\"note\":\"dumped\"}")`)
	for _, file := range []string{"db.json", "dump.json"} {
		run(t, "", "docker", "cp", filepath.Join(backup, file), ctr+":/data/"+file)
	}
	run(t, "", "docker", "cp", filepath.Join(backup, "files")+"/.", ctr+":/srv/files")
	require.NoError(t, f.CheckBackupPaths(ctx))

	// An upgrade that renames the data volume loses it.
	deploy("v3", "appdata", "/srv/files")
	err = f.CheckVolumes(ctx)
	require.ErrorAs(t, err, &lost)
	require.Len(t, lost.Losses, 1)
	assert.Equal(t, "data", lost.Losses[0].Volume)
	assert.Equal(t, "app", lost.Losses[0].Service)
	assert.Contains(t, err.Error(), "found no service mounts the volume any more (was mounted at /data)")
}

// realStack returns a fresh CI-shaped stack name and registers its teardown.
func realStack(t *testing.T, c *swarm.Client) string {
	t.Helper()
	b := make([]byte, 3)
	_, err := rand.Read(b)
	require.NoError(t, err)
	stack := "flr-" + hex.EncodeToString(b) + "_ci_local"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := c.Teardown(ctx, stack, ""); err != nil {
			t.Errorf("teardown of stack %s: %v", stack, err)
		}
	})
	return stack
}

func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), out)
}
