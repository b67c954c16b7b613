package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFakeAbraRecordsWhetherStdinIsATerminal(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	abra, err := BuildFakeAbra(ctx, t.TempDir())
	require.NoError(t, err)
	abraDir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(abraDir, "recipes", "sample", ".git"), 0o755))

	for _, withTTY := range []bool{true, false} {
		cmd := exec.CommandContext(ctx, abra, "recipe", "fetch", "sample", "--no-input")
		cmd.Env = append(os.Environ(), "ABRA_DIR="+abraDir, "CCCI_FAKE_ABRA_LOG=")
		if withTTY {
			f, err := pty.Start(cmd)
			require.NoError(t, err)
			// Drain until the child exits; the read then ends with EIO, which is expected.
			_, _ = io.Copy(io.Discard, f)
			require.NoError(t, cmd.Wait())
			require.NoError(t, f.Close())
		} else {
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, string(out))
		}
	}
	data, err := os.ReadFile(filepath.Join(abraDir, "fake-abra-calls.jsonl"))
	require.NoError(t, err)
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	require.Len(t, lines, 2)
	for i, want := range []bool{true, false} {
		var rec struct {
			TTY bool `json:"tty"`
		}
		require.NoError(t, json.Unmarshal(lines[i], &rec))
		assert.Equal(t, want, rec.TTY, "call %d", i)
	}
}
