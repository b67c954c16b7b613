package swarm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/mount"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyCompose has a service that mounts a volume read-write, one that mounts it read-only, and
// one scaled to zero; the image is FROM scratch (no shell), as the data floor must handle.
const copyCompose = `version: "3.8"
services:
  app:
    image: ` + testImage + `
    command: ["serve"]
    volumes: ["data:/srv/data"]
    deploy:
      labels:
        backupbot.backup: "true"
  reader:
    image: ` + testImage + `
    command: ["serve"]
    volumes: ["data:/mnt/ro:ro"]
  idle:
    image: ` + testImage + `
    command: ["serve"]
    volumes: ["other:/other"]
    deploy:
      replicas: 0
volumes:
  data:
  other:
`

// deployCopy deploys copyCompose on a fresh stack and waits for it to converge.
func deployCopy(t *testing.T, c *Client) string {
	t.Helper()
	stack := newStack(t, c)
	deployStack(t, stack, copyCompose, nil)
	require.NoError(t, c.WaitConverged(t.Context(), stack, WaitOptions{Timeout: waitLimit}))
	return stack
}

func TestStackServicesListsMountsLabelsAndDesiredTasks(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := deployCopy(t, c)

	svcs, err := c.StackServices(t.Context(), stack)
	require.NoError(t, err)
	require.Len(t, svcs, 3)
	assert.Equal(t, []string{stack + "_app", stack + "_idle", stack + "_reader"},
		[]string{svcs[0].Name, svcs[1].Name, svcs[2].Name}, "sorted by name")
	app, idle, reader := svcs[0], svcs[1], svcs[2]

	assert.Equal(t, "true", app.Labels["backupbot.backup"])
	assert.Equal(t, uint64(1), app.Desired)
	assert.Equal(t, uint64(0), idle.Desired)
	assert.False(t, app.Job)
	require.Len(t, app.Mounts, 1)
	assert.Equal(t, mount.TypeVolume, app.Mounts[0].Type)
	assert.Equal(t, stack+"_data", app.Mounts[0].Source, "the full volume name")
	assert.Equal(t, "/srv/data", app.Mounts[0].Target)
	assert.False(t, app.Mounts[0].ReadOnly)
	require.Len(t, reader.Mounts, 1)
	assert.True(t, reader.Mounts[0].ReadOnly)
	assert.Equal(t, stack+"_other", idle.Mounts[0].Source)

	none, err := c.StackServices(t.Context(), stack+"x")
	require.NoError(t, err)
	assert.Empty(t, none, "a stack name that merely starts like this one has no services")
	_, err = c.StackServices(t.Context(), "")
	assert.Error(t, err)
}

func TestRunningContainerFindsTheTaskOrSaysThereIsNone(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := deployCopy(t, c)

	id, err := c.RunningContainer(t.Context(), stack+"_app")
	require.NoError(t, err)
	got := docker(t, "", "", "container", "inspect", "--format",
		`{{index .Config.Labels "com.docker.swarm.service.name"}} {{.State.Status}}`, id)
	assert.Equal(t, stack+"_app running", strings.TrimSpace(got))

	_, err = c.RunningContainer(t.Context(), stack+"_idle")
	assert.ErrorIs(t, err, ErrNoRunningTask, "a service scaled to zero")
	_, err = c.RunningContainer(t.Context(), stack+"_nosuch")
	require.Error(t, err)
	assert.NotErrorIs(t, err, fs.ErrNotExist)
}

// Files written through one container are seen through another that mounts the same volume,
// with their mode and owner; a shell-less image is no obstacle.
func TestWriteFileAndReadFileThroughTheArchiveAPI(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := deployCopy(t, c)
	app, err := c.RunningContainer(t.Context(), stack+"_app")
	require.NoError(t, err)
	reader, err := c.RunningContainer(t.Context(), stack+"_reader")
	require.NoError(t, err)

	meta := FileMeta{Mode: 0o640, UID: 1000, GID: 1001}
	require.NoError(t, c.WriteFile(t.Context(), app, "/srv/data/.ccci-test", []byte("first\n"), meta))
	require.NoError(t, c.WriteFile(t.Context(), app, "/srv/data/.ccci-test", []byte("second"), meta),
		"an existing file is replaced")

	var buf bytes.Buffer
	got, err := c.ReadFile(t.Context(), reader, "/mnt/ro/.ccci-test", &buf)
	require.NoError(t, err)
	assert.Equal(t, "second", buf.String())
	assert.Equal(t, meta, got)

	mode, err := c.StatPath(t.Context(), app, "/srv/data")
	require.NoError(t, err)
	assert.True(t, mode.IsDir())
	mode, err = c.StatPath(t.Context(), app, "/srv/data/.ccci-test")
	require.NoError(t, err)
	assert.True(t, mode.IsRegular())
}

func TestCopyErrorsTellAMissingPathFromAMissingContainer(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := deployCopy(t, c)
	app, err := c.RunningContainer(t.Context(), stack+"_app")
	require.NoError(t, err)
	reader, err := c.RunningContainer(t.Context(), stack+"_reader")
	require.NoError(t, err)
	gone := strings.Repeat("0", 64)
	var sink bytes.Buffer

	tests := []struct {
		name     string
		call     func() error
		notExist bool
		notReg   bool
	}{
		{name: "a missing file is not-exist",
			call:     func() error { _, err := c.ReadFile(t.Context(), app, "/srv/data/nothing", &sink); return err },
			notExist: true},
		{name: "a missing path is not-exist to stat",
			call:     func() error { _, err := c.StatPath(t.Context(), app, "/srv/data/nothing"); return err },
			notExist: true},
		{name: "writing into a missing directory is not-exist",
			call: func() error {
				return c.WriteFile(t.Context(), app, "/srv/data/no/dir/f", []byte("x"), FileMeta{Mode: 0o644})
			},
			notExist: true},
		{name: "reading a directory is refused without reading it",
			call:   func() error { _, err := c.ReadFile(t.Context(), app, "/srv/data", &sink); return err },
			notReg: true},
		{name: "a container that is gone is not a missing path",
			call: func() error { _, err := c.ReadFile(t.Context(), gone, "/srv/data/x", &sink); return err }},
		{name: "writing to a container that is gone is not a missing path",
			call: func() error { return c.WriteFile(t.Context(), gone, "/srv/data/x", []byte("x"), FileMeta{Mode: 0o644}) }},
		{name: "writing through a read-only mount fails, and not as a missing path",
			call: func() error { return c.WriteFile(t.Context(), reader, "/mnt/ro/x", []byte("x"), FileMeta{Mode: 0o644}) }},
		{name: "a relative path is refused",
			call: func() error { return c.WriteFile(t.Context(), app, "srv/data/x", []byte("x"), FileMeta{Mode: 0o644}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.Error(t, err)
			t.Log(err)
			assert.Equal(t, tt.notExist, isNotExist(err), "errors.Is(err, fs.ErrNotExist): %v", err)
			assert.Equal(t, tt.notReg, isNotRegular(err), "errors.Is(err, ErrNotRegular): %v", err)
		})
	}
	err = c.WriteFile(t.Context(), app, "/srv", []byte("x"), FileMeta{Mode: 0o644})
	require.Error(t, err, "a directory is never replaced by a file")
	mode, err := c.StatPath(t.Context(), app, "/srv")
	require.NoError(t, err)
	assert.True(t, mode.IsDir())
}

func isNotExist(err error) bool   { return errors.Is(err, fs.ErrNotExist) }
func isNotRegular(err error) bool { return errors.Is(err, ErrNotRegular) }

func TestReadTreeWalksTheRegularFilesOfADirectory(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := deployCopy(t, c)
	app, err := c.RunningContainer(t.Context(), stack+"_app")
	require.NoError(t, err)
	local := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(local, "dump", "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(local, "dump", "a.json"), []byte(`{"k":"v"}`), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(local, "dump", "sub", "b.txt"), []byte("b"), 0o644))
	require.NoError(t, os.Symlink("a.json", filepath.Join(local, "dump", "link")))
	docker(t, "", "", "cp", filepath.Join(local, "dump"), app+":/srv/data/")

	got := map[string]string{}
	err = c.ReadTree(t.Context(), app, "/srv/data/dump", func(rel string, meta FileMeta, r io.Reader) error {
		b, err := io.ReadAll(r)
		got[rel] = fmt.Sprintf("%s %o", b, meta.Mode)
		return err
	})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a.json": `{"k":"v"} 600`, "sub/b.txt": "b 644"}, got, "regular files only")

	calls := 0
	err = c.ReadTree(t.Context(), app, "/srv/data/dump", func(string, FileMeta, io.Reader) error { calls++; return fs.SkipAll })
	require.NoError(t, err)
	assert.Equal(t, 1, calls, "fs.SkipAll stops the walk")

	noop := func(string, FileMeta, io.Reader) error { return nil }
	assert.ErrorIs(t, c.ReadTree(t.Context(), app, "/srv/data/dump/a.json", noop), ErrNotDir)
	assert.ErrorIs(t, c.ReadTree(t.Context(), app, "/srv/data/nothing", noop), fs.ErrNotExist)
}
