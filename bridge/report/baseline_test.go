package report

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
)

// writeRun puts r at runsDir/<run id>/results.json, as the plugin does.
func writeRun(t *testing.T, runsDir string, r *results.Results) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(runsDir, r.RunID), 0o755))
	require.NoError(t, results.WriteFile(filepath.Join(runsDir, r.RunID, "results.json"), r))
}

func writeRaw(t *testing.T, runsDir, runID, data string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(runsDir, runID), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(runsDir, runID, "results.json"), []byte(data), 0o644))
}

func TestBaselineIsTheNewestCanonicalRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	day := func(d int) time.Time { return start.AddDate(0, 0, d) }
	pass := level3(ModeCold).Tiers
	failing := []results.Tier{tier(results.TierInstall, results.Fail, 3, "boom")}
	unverified := []results.Tier{tier(results.TierInstall, results.Unverified, 3, "docker down")}

	// drone-9 sorts after drone-10 by name; the newer finish time must win, not the name.
	writeRun(t, dir, finish("sample", ModeCold, "", "drone-9", day(1), pass...))
	writeRun(t, dir, finish("sample", ModeCold, "", "drone-10", day(2), pass...))
	writeRun(t, dir, finish("sample", ModeCold, "7", "drone-11", day(3), failing...))       // a PR run
	writeRun(t, dir, finish("sample", ModeQuick, "", "drone-12", day(4), failing...))       // a quick run
	writeRun(t, dir, finish("sample", ModeCold, "", "drone-13", day(5), unverified...))     // a CI error
	writeRun(t, dir, finish("other", ModeCold, "", "drone-14", day(6), failing...))         // another recipe
	writeRaw(t, dir, "drone-15", `{"schema": 1, "recipe": "sample", "mode": "cold", "verd`) // cut short
	writeRaw(t, dir, "drone-16", `{"schema": 2, "recipe": "sample"}`)                       // unknown schema
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "drone-17"), 0o755))                  // still running
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stray-file"), []byte("x"), 0o644))

	got, err := Baseline(dir, "sample")
	require.NotNil(t, got)
	assert.Equal(t, "drone-10", got.RunID)
	assert.Equal(t, 3, got.Level)
	require.Error(t, err, "corrupt files are reported")
	assert.ErrorContains(t, err, "drone-15")
	assert.ErrorContains(t, err, "drone-16")
	assert.NotContains(t, err.Error(), "drone-17", "a run without results.json yet is not a problem")
}

func TestBaselineSkipsAForgedVerdict(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeRun(t, dir, finish("sample", ModeCold, "", "drone-1", start, tier(results.TierInstall, results.Pass, 3, "")))
	forged := finish("sample", ModeCold, "", "drone-2", start.Add(time.Hour), tier(results.TierInstall, results.Pass, 3, ""))
	forged.Level = 5 // its tiers only make level 1
	writeRun(t, dir, forged)

	got, err := Baseline(dir, "sample")
	require.NotNil(t, got)
	assert.Equal(t, "drone-1", got.RunID)
	assert.ErrorContains(t, err, "drone-2")
}

func TestBaselineNoneIsNil(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeRun(t, dir, finish("sample", ModeCold, "3", "drone-1", start, level3(ModeCold).Tiers...))
	got, err := Baseline(dir, "sample")
	assert.NoError(t, err)
	assert.Nil(t, got, "only a PR run exists: no baseline")

	got, err = Baseline(t.TempDir(), "sample")
	assert.NoError(t, err)
	assert.Nil(t, got, "an empty runs dir has no baseline")
}

func TestBaselineOfAMissingRunsDirIsAnError(t *testing.T) {
	t.Parallel()
	got, err := Baseline(filepath.Join(t.TempDir(), "nope"), "sample")
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Nil(t, got)
}
