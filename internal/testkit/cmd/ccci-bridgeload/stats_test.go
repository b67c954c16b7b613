package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPctIsTheNearestRank(t *testing.T) {
	t.Parallel()
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = ms(i + 1)
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"an empty sample is zero", nil, .99, 0},
		{"one sample is every percentile", []time.Duration{ms(7)}, .5, ms(7)},
		{"p50 of 1..100 ms is 50 ms", hundred, .5, ms(50)},
		{"p99 of 1..100 ms is 99 ms", hundred, .99, ms(99)},
		{"p100 is the maximum", hundred, 1, ms(100)},
		{"p0 is the minimum", hundred, 0, ms(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, pct(tc.sorted, tc.p))
		})
	}
}

func TestLabelReadsOneValueOfAPrometheusLabelSet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, set, key, want string
	}{
		{"the first label", `forge="github",outcome="accepted"`, "forge", "github"},
		{"a later label", `forge="github",outcome="accepted"`, "outcome", "accepted"},
		{"a key that is the suffix of another is not matched by it", `xforge="gitea",forge="github"`, "forge", "github"},
		{"a missing label is empty", `result="started"`, "forge", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, label(tc.set, tc.key))
		})
	}
}

func TestFinalCountsEveryResultButStarted(t *testing.T) {
	t.Parallel()
	m := metricSet{results: map[string]float64{"started": 10, "reported": 7, "duplicate": 2, "refused": 1}}
	assert.InDelta(t, 10.0, m.final(), 0)
}

func TestBridgeEnvTakesOnlyKeyValuePairs(t *testing.T) {
	t.Parallel()
	var e envList
	require.NoError(t, e.Set("GOGC=50"))
	require.Error(t, e.Set("GOGC"))
	assert.Equal(t, envList{"GOGC=50"}, e)
}

func TestFlagsNeedTheBridgeBinary(t *testing.T) {
	t.Parallel()
	_, err := parseFlags(nil, &testWriter{t})
	require.ErrorContains(t, err, "-bridge is required")
	c, err := parseFlags([]string{"-bridge", "/bin/true", "-n", "5"}, &testWriter{t})
	require.NoError(t, err)
	assert.Equal(t, 5, c.n)
	assert.Equal(t, "0,1", c.cpus, "the bridge is pinned to 2 CPUs unless told otherwise")
}

// testWriter sends the flag package's output to the test log.
type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
