package testkit

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inImage runs the plugin image with entrypoint (the image's own when empty) and args, and
// returns the combined output and exit code.
func inImage(t *testing.T, image, entrypoint string, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	argv := []string{"run", "--rm", "--network", "none"}
	for _, e := range env {
		argv = append(argv, "--env", e)
	}
	if entrypoint != "" {
		argv = append(argv, "--entrypoint", entrypoint)
	}
	argv = append(append(argv, image), args...)
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", argv...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if cmd.ProcessState == nil {
		require.NoError(t, err, "docker run did not run")
	}
	return out.String(), cmd.ProcessState.ExitCode()
}

// TestThePluginImageCarriesWhatARunNeeds runs each tool of the image inside it, without any
// network: a missing shared library, helper or file shows as the tool failing to start.
func TestThePluginImageCarriesWhatARunNeeds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	image, err := BuildPluginImage(ctx)
	require.NoError(t, err)
	ref := strings.Repeat("ab", 20)
	tests := []struct {
		name       string
		entrypoint string
		env        []string
		args       []string
		wantCode   int
		want       []string
	}{
		{name: "git runs, and its https remote helper finds every library it links",
			entrypoint: "/bin/sh", args: []string{"-c", "git --version && /usr/lib/git-core/git-remote-https; true"},
			want: []string{"git version 2.", "usage: git remote-curl"}},
		{name: "curl runs with its TLS and HTTP/2 libraries",
			entrypoint: "/usr/bin/curl", args: []string{"--version"}, want: []string{"libcurl/", "nghttp2/"}},
		{name: "the docker CLI runs (the FAKE abra deploys with it)",
			entrypoint: "/usr/bin/docker", args: []string{"--version"}, want: []string{"Docker version"}},
		{name: "abra on PATH is the FAKE abra",
			entrypoint: "/bin/sh", args: []string{"-c", "command -v abra && abra --version"},
			wantCode: 1, want: []string{ImageAbraPath, "FAKE abra"}},
		{name: "busybox is /bin/sh and gives the hooks their file tools",
			entrypoint: "/bin/sh", args: []string{"-c", "f=$(mktemp) && echo probe > \"$f\" && grep -q probe \"$f\" && cat \"$f\" && rm \"$f\""},
			want: []string{"probe"}},
		{name: "/tmp is world-writable and sticky, HOME is root's",
			entrypoint: "/bin/sh", args: []string{"-c", "stat -c '%a' /tmp && echo \"home=$HOME\""},
			want: []string{"1777", "home=/root"}},
		{name: "the CA bundle is there for https recipe sources",
			entrypoint: "/bin/sh", args: []string{"-c", "test -s /etc/ssl/certs/ca-certificates.crt && echo present"},
			want: []string{"present"}},
		{name: "the repo's overlays are in the image with their hooks executable, and CCCI_OVERLAYS_DIR names them",
			entrypoint: "/bin/sh", args: []string{"-c", "test -x \"$CCCI_OVERLAYS_DIR/sample/hooks/data-read\" && echo \"$CCCI_OVERLAYS_DIR\""},
			want: []string{ImageOverlaysDir}},
		{name: "chromium is not in the image",
			entrypoint: "/bin/sh", args: []string{"-c", "command -v chromium || command -v chromium-browser"}, wantCode: 127},
		{name: "the entrypoint is the plugin, naming each setting's env var",
			args: []string{"--help"}, want: []string{"$PLUGIN_RECIPE", "$CCCI_RECIPE", "$DRONE_BUILD_NUMBER"}},
		{name: "without settings the plugin exits 2 naming what is missing", wantCode: 2,
			want: []string{"recipe is missing: set PLUGIN_RECIPE"}},
		{name: "as the container's PID 1 the plugin starts its guarded child, which accepts PID 1 as its wrapper",
			env: []string{"PLUGIN_RECIPE=sample", "PLUGIN_REF=" + ref}, wantCode: 3,
			// Past the orphan check, the run itself finds no Docker engine (no socket mounted):
			// the box's fault, so unverified and exit 3, never fail.
			want: []string{"guarded child started", "ping docker engine", `"verdict":"unverified"`}},
		{name: "a forged guarded child as PID 1 (its parent is no wrapper) refuses to run", wantCode: 3,
			env:  []string{"CCCI_GUARDED_CHILD=1", "PLUGIN_RECIPE=sample", "PLUGIN_REF=" + ref},
			want: []string{"refusing to run: guarded child orphaned", "wrapper pid was 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, code := inImage(t, image, tt.entrypoint, tt.env, tt.args...)
			assert.Equal(t, tt.wantCode, code, out)
			for _, w := range tt.want {
				assert.Contains(t, out, w)
			}
			assert.NotContains(t, out, "error while loading shared libraries")
		})
	}
}

func TestLddPathsReadsEveryLibraryAndRefusesAMissingOne(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		out     string
		want    []string
		wantErr string
	}{
		{name: "a dynamic program's libraries and loader are listed, the vDSO is not",
			out: "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f)\n" +
				"\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n",
			want: []string{"/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}},
		{name: "a library ldd cannot find stops the build naming it",
			out:     "\tlibfoo.so.1 => not found\n",
			wantErr: "missing library: libfoo.so.1 => not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := lddPaths([]byte(tt.out))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
