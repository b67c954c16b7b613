package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	snapA = "aaaa1111bbbb2222cccc3333dddd4444eeee5555ffff6666aaaa7777bbbb8888"
	snapB = "aaaa1111ffff2222cccc3333dddd4444eeee5555ffff6666aaaa7777bbbb9999"
)

// snapshots makes a backups dir for domain holding the given snapshot ids (manifest ids as given
// in ids, keyed by directory name).
func snapshots(t *testing.T, domain string, ids map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for dir, id := range ids {
		require.NoError(t, os.MkdirAll(filepath.Join(root, dir), 0o755))
		data, err := json.Marshal(manifest{ID: id, Domain: domain})
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(root, dir, manifestName), data, 0o644))
	}
	return root
}

func TestFindSnapshotFindsExactlyTheSnapshotNamed(t *testing.T) {
	t.Parallel()
	root := snapshots(t, "d.ci.local", map[string]string{snapA: snapA, snapB: snapB})
	require.NoError(t, os.MkdirAll(filepath.Join(root, "."+snapA+".partial"), 0o755))
	tests := []struct {
		name    string
		ref     string
		want    string
		wantErr string
	}{
		{name: "the full id", ref: snapA, want: snapA},
		{name: "restic's 8-digit short id when it is unique", ref: "aaaa1111f", want: snapB},
		{name: "a prefix two snapshots share is ambiguous, never the newest", ref: "aaaa1111", wantErr: "ambiguous"},
		{name: "an unknown id is an error, never a fallback", ref: "deadbeef", wantErr: "no snapshot deadbeef"},
		{name: "latest is not a snapshot id here", ref: "latest", wantErr: `"latest" is not a snapshot id`},
		{name: "a path is not a snapshot id", ref: "../x", wantErr: "is not a snapshot id"},
		{name: "empty is not a snapshot id", ref: "", wantErr: "is not a snapshot id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir, m, err := findSnapshot(root, tt.ref)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, filepath.Join(root, tt.want), dir)
			assert.Equal(t, tt.want, m.ID)
		})
	}
}

func TestFindSnapshotRefusesAManifestOfAnotherSnapshot(t *testing.T) {
	t.Parallel()
	root := snapshots(t, "d.ci.local", map[string]string{snapA: snapB})
	_, _, err := findSnapshot(root, snapA)
	assert.ErrorContains(t, err, "manifest names")
}

func TestFindSnapshotWithNoBackupsSaysWhatToRunFirst(t *testing.T) {
	t.Parallel()
	_, _, err := findSnapshot(filepath.Join(t.TempDir(), "none"), "deadbeef")
	assert.ErrorContains(t, err, "run abra app backup create first")
}

func TestRestoreNeedsTheSnapshotFlag(t *testing.T) {
	t.Parallel()
	_, in, err := parseArgs([]string{"app", "restore", "d.ci.local", "--snapshot", "1f2e3d4c", "--no-input"}, commands())
	require.NoError(t, err)
	assert.Equal(t, "1f2e3d4c", in.flags["--snapshot"])
	_, _, err = parseArgs([]string{"app", "restore", "d.ci.local", "--no-input"}, commands())
	assert.ErrorContains(t, err, "flag --snapshot is required by the FAKE abra")
	_, _, err = parseArgs([]string{"app", "restore", "d.ci.local", "--snapshot=", "--no-input"}, commands())
	assert.ErrorContains(t, err, "flag --snapshot needs a non-empty value")
}

func TestSnapshotIDsLookLikeResticsAndDiffer(t *testing.T) {
	t.Parallel()
	a, err := newSnapshotID()
	require.NoError(t, err)
	b, err := newSnapshotID()
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9a-f]{64}$`, a)
	assert.NotEqual(t, a, b)
	assert.Equal(t, a[:8], shortID(a))
}
