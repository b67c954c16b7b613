package canonical

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
)

func green(mode, version string) *results.Results {
	r := &results.Results{Schema: results.Schema, RunID: "drone-7", Recipe: "sample", Ref: "abc", Mode: mode, Verdict: results.VerdictPass, Level: 3,
		Finished: time.Unix(1700000000, 0).UTC(), Manifest: map[string]string{}}
	if version != "" {
		r.Manifest["version"] = version
	}
	return r
}

func TestOnlyAColdGreenRunOfAReleasePromotes(t *testing.T) {
	t.Parallel()
	red := green(results.ModeCold, "0.2.0+2.0.0")
	red.Verdict = results.VerdictFail
	tests := []struct {
		name string
		run  *results.Results
		want bool
	}{
		{"a cold green run of a released version promotes", green(results.ModeCold, "0.2.0+2.0.0"), true},
		{"a quick run never promotes", green(results.ModeQuick, "0.2.0+2.0.0"), false},
		{"a run of an unreleased commit does not promote", green(results.ModeCold, ""), false},
		{"a red run does not promote", red, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runs := t.TempDir()
			ok, err := Promote(runs, tt.run)
			require.NoError(t, err)
			assert.Equal(t, tt.want, ok)
			rec, found, err := Read(runs, "sample")
			require.NoError(t, err)
			assert.Equal(t, tt.want, found)
			if tt.want {
				assert.Equal(t, "0.2.0+2.0.0", rec.Version)
				kept, err := results.ReadFile(rec.Results)
				require.NoError(t, err)
				assert.Equal(t, "drone-7", kept.RunID, "the canonical's results are kept beside it")
			}
		})
	}
}

func TestABrokenRecordIsAnErrorNamingTheFix(t *testing.T) {
	t.Parallel()
	runs := t.TempDir()
	require.NoError(t, os.MkdirAll(Dir(runs), 0o755))
	require.NoError(t, os.WriteFile(Path(runs, "sample"), []byte("{"), 0o644))
	_, _, err := Read(runs, "sample")
	assert.ErrorContains(t, err, "delete it")
}
