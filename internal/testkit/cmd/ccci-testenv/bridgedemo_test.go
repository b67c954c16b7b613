package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
)

func TestStepOutputIsPrefixedLineByLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"a line split across writes is printed once, whole", []string{"==> [ 0.1s] IN", "STALL starting\n"},
			"> ==> [ 0.1s] INSTALL starting\n"},
		{"several lines in one write each get the prefix", []string{"a\nb\n"}, "> a\n> b\n"},
		{"an unterminated last line is printed by flush", []string{"done\nexit"}, "> done\n> exit\n"},
		{"the results JSON line is shortened to its size", []string{results.LogPrefix + `{"level":3}` + "\n"},
			"> " + results.LogPrefix + "{...} (11 bytes of JSON: results.json, for a bridge that cannot read the runs dir)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			p := &prefixWriter{w: &b, prefix: "> "}
			for _, w := range tt.writes {
				n, err := p.Write([]byte(w))
				require.NoError(t, err)
				assert.Equal(t, len(w), n)
			}
			p.flush()
			assert.Equal(t, tt.want, b.String())
		})
	}
}

func TestBridgeDemoNeedsItsBinariesRecipeAndWorkDir(t *testing.T) {
	t.Parallel()
	full := []string{"--bridge", "b", "--plugin", "p", "--src", "/r/sample", "--head", "abc", "--work", "/w", "--frontdoor", "http://x"}
	c, err := parseDemo(append(full, "--pr", "7", "--deadline", "3m"))
	require.NoError(t, err)
	assert.Empty(t, c.dashboard, "the dashboard at the end is optional")
	assert.Equal(t, 7, c.pr)
	assert.Equal(t, 3*time.Minute, c.deadline)
	assert.Equal(t, "sample", c.recipe, "the sample recipe is enrolled by default")
	for i := 0; i < len(full); i += 2 {
		without := append(append([]string{}, full[:i]...), full[i+2:]...)
		_, err := parseDemo(without)
		var ue usageError
		require.ErrorAs(t, err, &ue, "without %s", full[i])
		assert.Contains(t, err.Error(), full[i])
	}
	_, err = parseDemo(append(full, "extra"))
	assert.Error(t, err, "no positional arguments")
	c, err = parseDemo(append(full, "--dashboard", "/bin/cc-ci-dashboard"))
	require.NoError(t, err)
	assert.Equal(t, "/bin/cc-ci-dashboard", c.dashboard)
	assert.Equal(t, "/w/dashboard/site/index.html", dashboardIndex(c.work))
}
