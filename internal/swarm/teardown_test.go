package swarm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTeardownRemovesEverythingAndIsIdempotent(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := newStack(t, c)
	deployFull(t, c, stack)
	envPath := filepath.Join(t.TempDir(), "swt.example.org.env")
	require.NoError(t, os.WriteFile(envPath, []byte("TYPE=swt\n"), 0o600))

	start := time.Now()
	report, err := c.Teardown(t.Context(), stack, envPath)
	t.Logf("teardown of a 2-service stack took %s", time.Since(start).Round(time.Millisecond))
	require.NoError(t, err)
	want := fullObjects(stack)
	want.EnvRemoved = true
	assert.ElementsMatch(t, want.Services, report.Services)
	assert.Empty(t, report.Containers, "swarm removed the task containers itself")
	assert.Equal(t, want.Volumes, report.Volumes)
	assert.ElementsMatch(t, want.Secrets, report.Secrets)
	assert.Equal(t, want.Configs, report.Configs)
	assert.Equal(t, want.Networks, report.Networks)
	assert.True(t, report.EnvRemoved)
	assert.NoFileExists(t, envPath)

	residue, err := c.Residue(t.Context(), stack)
	require.NoError(t, err)
	assert.True(t, residue.Empty(), "residue: %+v", residue)
	for _, kind := range []string{"service", "container", "volume", "secret", "config", "network"} {
		args := []string{kind, "ls", "--format", "{{.Name}}"}
		if kind == "container" {
			args = []string{"container", "ls", "-a", "--format", "{{.Names}}"}
		}
		assert.NotContains(t, docker(t, "", "", args...), stack, "docker %s ls", kind)
	}
	assert.Contains(t, docker(t, "", "", "network", "ls", "--format", "{{.Name}}"), "proxy\n",
		"the external proxy network is not the app's")
	docker(t, "", "", "image", "inspect", testImage) // images are never removed

	again, err := c.Teardown(t.Context(), stack, envPath)
	require.NoError(t, err)
	assert.True(t, again.Empty(), "second teardown: %+v", again)
}

// The other stack's name is this one plus more letters, and it holds an abra-style unlabelled
// secret too; a third secret is named like this stack's but labelled for the other one.
func TestTeardownDoesNotTouchOtherStackWithSimilarName(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := newStack(t, c)
	other := stack + "b"
	cleanupStack(t, c, other)
	for _, s := range []string{stack, other} {
		createUnlabelledSecret(t, s+"_db_password_v1")
		deployStack(t, s, fullCompose, fullFiles)
	}
	for _, s := range []string{stack, other} {
		require.NoError(t, c.WaitConverged(t.Context(), s, WaitOptions{Timeout: waitLimit}))
	}
	foreign := stack + "_foreign_v1"
	docker(t, "", "x", "secret", "create", "--label", NamespaceLabel+"="+other, foreign, "-")

	before, err := c.Residue(t.Context(), other)
	require.NoError(t, err)
	require.Contains(t, before.Secrets, foreign)

	_, err = c.Teardown(t.Context(), stack, "")
	require.NoError(t, err)

	gone, err := c.Residue(t.Context(), stack)
	require.NoError(t, err)
	assert.True(t, gone.Empty(), "residue of %s: %+v", stack, gone)
	after, err := c.Residue(t.Context(), other)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	require.NoError(t, c.WaitConverged(t.Context(), other, WaitOptions{Timeout: waitLimit}),
		"the other stack still runs")
}

func TestTeardownRejectsEmptyStackName(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	for _, stack := range []string{"", "_", "a b", "*"} {
		report, err := c.Teardown(t.Context(), stack, "")
		assert.Error(t, err, "stack %q", stack)
		assert.True(t, report.Empty())
	}
}

// BenchmarkTeardownOneServiceStack measures Teardown of a converged 1-service stack with a volume.
// Run: go test ./swarm/ -run '^$' -bench Teardown -benchtime 3x
func BenchmarkTeardownOneServiceStack(b *testing.B) {
	c := newClient(b)
	for b.Loop() {
		b.StopTimer()
		stack := newStack(b, c)
		deployStack(b, stack, strings.Join([]string{`version: "3.8"`, `services:`, `  app:`,
			`    image: ` + testImage, `    command: ["serve"]`, `    volumes: ["data:/data"]`,
			`volumes:`, `  data:`}, "\n"), nil)
		require.NoError(b, c.WaitConverged(b.Context(), stack, WaitOptions{Timeout: time.Minute}))
		b.StartTimer()
		_, err := c.Teardown(b.Context(), stack, "")
		require.NoError(b, err)
	}
}
