package run

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/recipe"
	"coopcloud.tech/cc-ci/internal/results"
)

func TestAbortedTiersKeepWhatWasDecidedAndNameTheCause(t *testing.T) {
	decided := []results.Tier{{Name: results.TierInstall, Status: results.Pass}}
	got := abortedTiers(decided, "run terminated by signal")
	require.Len(t, got, 6, "every tier is reported")
	assert.Equal(t, results.Pass, got[0].Status, "what was proven before the abort is kept")
	for _, tr := range got[1:] {
		assert.Equal(t, results.Unverified, tr.Status, tr.Name)
		assert.Contains(t, tr.Reason, "run terminated by signal")
	}
	assert.Equal(t, results.VerdictUnverified, results.Verdict(got), "an aborted run is never green")
	assert.Len(t, decided, 1, "the decided tiers are not modified")
}

func TestFetchExitCode(t *testing.T) {
	existing := t.TempDir()
	tests := []struct {
		name string
		src  string
		err  error
		want int
	}{
		{"a ref the source does not have is bad input", existing, fmt.Errorf("fetch: %w", recipe.ErrUnknownRef), 2},
		{"a local source that does not exist is bad input", filepath.Join(existing, "nope"), errors.New("clone failed"), 2},
		{"a clone of an existing local source that fails is infrastructure", existing, errors.New("disk full"), 3},
		{"a remote source that fails is infrastructure (network)", "https://git.example.org/r.git", errors.New("timeout"), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, fetchExitCode(tt.src, tt.err))
		})
	}
}

func TestLogWriterCopiesToLogFileOnceTeed(t *testing.T) {
	var stdout bytes.Buffer
	w := &logWriter{stdout: &stdout}
	fmt.Fprint(w, "before\n")
	f, err := os.Create(filepath.Join(t.TempDir(), "log.txt"))
	require.NoError(t, err)
	w.tee(f)
	fmt.Fprint(w, "after\n")
	require.NoError(t, f.Close())
	data, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	assert.Equal(t, "before\nafter\n", stdout.String())
	assert.Equal(t, "after\n", string(data))
}

func TestClockReportsOverheadAsWallMinusOutside(t *testing.T) {
	c := newClock()
	c.add("abra", 2e9)
	c.add("docker", 7e9)
	got := c.report(10e9)
	assert.Contains(t, got, "wall 10.00s")
	assert.Contains(t, got, "plugin overhead 1.000s (10.00%)")
	assert.True(t, strings.Index(got, "abra") < strings.Index(got, "docker"), "kinds in a stable order")
}
