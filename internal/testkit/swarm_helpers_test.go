package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireSwarm fails (not skips) when no swarm manager answers: the real-swarm tests are the
// point of this package. -short skips them, for a quick unit run.
func requireSwarm(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("real-swarm test: skipped because -short was given")
	}
	out, err := exec.Command("docker", "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}").CombinedOutput()
	require.NoError(t, err, "docker engine not reachable (run scripts/docker-up.sh): %s", out)
	require.Equal(t, "active true", strings.TrimSpace(string(out)), "this node must be a swarm manager (run scripts/docker-up.sh)")
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, (n+1)/2)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)[:n]
}

func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	require.NoError(t, err, "docker %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

// through sends one request through the front door at url with the Host header set to host.
func through(t *testing.T, ctx context.Context, url, method, host, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}
