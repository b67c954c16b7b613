package swarm

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testImage is built by TestMain from testdata/swarmtest (a static Go binary FROM scratch): no
// image can be pulled here.
const testImage = "ccci-swarmtest:1"

// waitLimit bounds a wait that is expected to end some other way (converged, crash loop,
// rollback). It only ends a test that is failing already, so it is generous: on a loaded 2-CPU
// CI box the engine has taken 15-30 s to start one container.
const waitLimit = 5 * time.Minute

func TestMain(m *testing.M) {
	if err := buildTestImage(); err != nil {
		fmt.Fprintln(os.Stderr, "swarm tests need a running Docker engine with a swarm (run make docker-up):", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// buildTestImage compiles testdata/swarmtest statically and builds testImage from it with the
// legacy builder (BuildKit would try to reach a registry for its frontend).
func buildTestImage() error {
	dir, err := os.MkdirTemp("", "swarmtest-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "swarmtest"), "./testdata/swarmtest")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build testdata/swarmtest: %w: %s", err, out)
	}
	dockerfile := "FROM scratch\nCOPY swarmtest /swarmtest\nENTRYPOINT [\"/swarmtest\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return err
	}
	img := exec.Command("docker", "build", "-q", "-t", testImage, dir)
	img.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := img.CombinedOutput(); err != nil {
		return fmt.Errorf("docker build %s: %w: %s", testImage, err, out)
	}
	return nil
}

func newClient(t testing.TB) *Client {
	t.Helper()
	c, err := New(t.Context())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newStack returns a fresh CI-shaped stack name ("swt-<6 hex>_ci_local", like
// "samp-1a2b3c_ci_local") and registers its teardown, so a failing test leaves nothing behind.
func newStack(t testing.TB, c *Client) string {
	t.Helper()
	b := make([]byte, 3)
	_, err := rand.Read(b)
	require.NoError(t, err)
	stack := "swt-" + hex.EncodeToString(b) + "_ci_local"
	cleanupStack(t, c, stack)
	return stack
}

func cleanupStack(t testing.TB, c *Client, stack string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := c.Teardown(ctx, stack, ""); err != nil {
			t.Errorf("cleanup of stack %s: %v", stack, err)
		}
	})
}

// deployStack writes compose (with {{stack}} replaced by the stack name) and files into a fresh
// directory and runs `docker stack deploy` there, as abra does.
func deployStack(t testing.TB, stack, compose string, files map[string]string) {
	t.Helper()
	dir := t.TempDir()
	compose = strings.ReplaceAll(compose, "{{stack}}", stack)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yml"), []byte(compose), 0o644))
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	docker(t, dir, "", "stack", "deploy", "--detach=true", "--resolve-image", "never", "-c", "compose.yml", stack)
}

// docker runs the docker CLI and returns its stdout; any failure fails the test.
func docker(t testing.TB, dir, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "docker", args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "docker %s: %s", strings.Join(args, " "), stderr.String())
	return stdout.String()
}

// createUnlabelledSecret creates a secret the way abra does: named <stack>_<name>_<version>,
// without the stack namespace label.
func createUnlabelledSecret(t testing.TB, name string) {
	t.Helper()
	docker(t, "", "s3cr3t-value", "secret", "create", name, "-")
}

// fullCompose is an app like a real recipe's: a healthchecked service with a volume, a stack
// secret, an abra-style external secret, a config, an internal network and the external proxy
// network, plus a second service.
const fullCompose = `version: "3.8"
services:
  app:
    image: ` + testImage + `
    command: ["serve"]
    healthcheck:
      test: ["CMD", "/swarmtest", "probe"]
      interval: 1s
      timeout: 30s
      retries: 3
    volumes: ["data:/data"]
    secrets: [api_key, db_password]
    configs: [settings]
    networks: [internal, proxy]
  worker:
    image: ` + testImage + `
    command: ["serve"]
    networks: [internal]
volumes:
  data:
secrets:
  api_key:
    file: ./api_key.txt
  db_password:
    external: true
    name: {{stack}}_db_password_v1
configs:
  settings:
    file: ./settings.txt
networks:
  internal:
  proxy:
    external: true
`

var fullFiles = map[string]string{"api_key.txt": "key-123\n", "settings.txt": "setting=1\n"}

// deployFull deploys fullCompose (creating its abra-style secret first) and waits for it.
func deployFull(t testing.TB, c *Client, stack string) {
	t.Helper()
	createUnlabelledSecret(t, stack+"_db_password_v1")
	deployStack(t, stack, fullCompose, fullFiles)
	require.NoError(t, c.WaitConverged(t.Context(), stack, WaitOptions{Timeout: waitLimit}))
}

// fullObjects is what deployFull leaves on the swarm, as Residue reports it (containers aside).
func fullObjects(stack string) TeardownReport {
	return TeardownReport{
		Services: []string{stack + "_app", stack + "_worker"},
		Volumes:  []string{stack + "_data"},
		Secrets:  []string{stack + "_api_key", stack + "_db_password_v1"},
		Configs:  []string{stack + "_settings"},
		Networks: []string{stack + "_internal"},
	}
}
