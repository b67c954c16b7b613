package lifetime

import (
	"bytes"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWrapCommand(t *testing.T) {
	t.Parallel()
	self, err := os.Executable()
	require.NoError(t, err)
	var out bytes.Buffer
	tests := []struct {
		name       string
		opts       WrapOptions
		wantPath   string
		wantArgs   []string
		wantEnv    []string
		wantStdout any
	}{
		{
			name:       "zero options re-execute this binary with its arguments, environment and stdio",
			wantPath:   self,
			wantArgs:   append([]string{self}, os.Args[1:]...),
			wantEnv:    append(envWithout(os.Environ(), EnvChild), EnvChild+"=4242"),
			wantStdout: os.Stdout,
		},
		{
			name:       "explicit options are used and an inherited guarded-child pid is replaced",
			opts:       WrapOptions{Path: "/bin/plugin", Args: []string{"--recipe", "x"}, Env: []string{"A=1", EnvChild + "=1", "B=2"}, Stdout: &out},
			wantPath:   "/bin/plugin",
			wantArgs:   []string{"/bin/plugin", "--recipe", "x"},
			wantEnv:    []string{"A=1", "B=2", EnvChild + "=4242"},
			wantStdout: &out,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd, err := tt.opts.command(4242)
			require.NoError(t, err)
			assert.Equal(t, tt.wantPath, cmd.Path)
			assert.Equal(t, tt.wantArgs, cmd.Args)
			assert.Equal(t, tt.wantEnv, cmd.Env)
			assert.Equal(t, tt.wantStdout, cmd.Stdout)
			assert.Equal(t, os.Stdin, cmd.Stdin)
			require.NotNil(t, cmd.SysProcAttr)
			assert.Equal(t, syscall.SIGTERM, cmd.SysProcAttr.Pdeathsig, "the child must get SIGTERM when the wrapper dies")
		})
	}
}

func envWithout(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
