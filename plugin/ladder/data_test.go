package ladder

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hook writes an executable shell script into dir. The HookProbe tests run sequentially: writing
// an executable while another test forks can make exec fail with "text file busy".
func hook(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755))
	return path
}

// TestHookProbeWrite: the hook gets the key and value as arguments, runs in the probe's Dir, and
// is told which app it is asked about (CCCI_DOMAIN, CCCI_STACK), overriding any stale value the
// run's environment carries.
func TestHookProbeWrite(t *testing.T) {
	dir := t.TempDir()
	w := hook(t, dir, "data-write", `printf '%s=%s domain=%s stack=%s dir=%s' "$1" "$2" "$CCCI_DOMAIN" "$CCCI_STACK" "$(pwd)" > written`)
	p := &HookProbe{WritePath: w, Env: []string{"CCCI_DOMAIN=stale.example", "CCCI_STACK=stale_example", "PATH=/usr/bin:/bin"},
		Dir: dir, Timeout: 10 * time.Second}

	require.NoError(t, p.Write(t.Context(), upgradeDomain, keyInstall, "ccci-0011 two words"))
	got, err := os.ReadFile(filepath.Join(dir, "written"))
	require.NoError(t, err)
	assert.Equal(t, keyInstall+"=ccci-0011 two words domain="+upgradeDomain+" stack="+upgradeStack+" dir="+dir, string(got))
}

func TestHookProbeRead(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		timeout   time.Duration
		want      string
		wantFound bool
		wantErr   []string
	}{
		{name: "a read prints the value, returned without its line end", body: `echo "value-of-$1"`,
			timeout: 10 * time.Second, want: "value-of-" + keyBackup, wantFound: true},
		{name: "a read exiting 3 means the key is absent, not an error", body: `exit 3`,
			timeout: 10 * time.Second},
		{name: "a read exiting 1 is an error carrying the hook's stderr", body: `echo "psql: connection refused" >&2; exit 1`,
			timeout: 10 * time.Second, wantErr: []string{"data-read " + keyBackup, "exit status 1", "psql: connection refused"}},
		{name: "a zero timeout runs the hook under the default bound instead of failing at once", body: `echo ok`,
			want: "ok", wantFound: true},
		{name: "a read is told which app it is asked about", body: `echo "$CCCI_DOMAIN $CCCI_STACK"`,
			timeout: 10 * time.Second, want: freshDomain + " " + freshStack, wantFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r := hook(t, dir, "data-read", tt.body)
			p := &HookProbe{ReadPath: r, Dir: dir, Timeout: tt.timeout}

			got, found, err := p.Read(t.Context(), freshDomain, keyBackup)
			if tt.wantErr != nil {
				require.Error(t, err)
				for _, want := range tt.wantErr {
					assert.Contains(t, err.Error(), want)
				}
				assert.False(t, found)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantFound, found)
		})
	}
}

func TestHookProbeTimeout(t *testing.T) {
	dir := t.TempDir()
	// sh waits for its child, which holds the hook's stdout open: killing sh alone would leave
	// the read blocked on the pipe until the child exits.
	r := hook(t, dir, "data-read", "sleep 60\necho never")
	p := &HookProbe{ReadPath: r, Dir: dir, Timeout: 200 * time.Millisecond}

	start := time.Now()
	_, found, err := p.Read(t.Context(), freshDomain, keyBackup)
	elapsed := time.Since(start)

	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "after 200ms")
	assert.False(t, found)
	assert.Less(t, elapsed, hookWaitDelay, "the hook's whole process group is killed at the timeout")
}
