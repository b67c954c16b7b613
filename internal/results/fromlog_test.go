package results

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// finished is a complete, finalized level-3 pass, as the plugin prints it.
func finished(t *testing.T) *Results {
	t.Helper()
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	r := &Results{RunID: "drone-7", Recipe: "sample", Repo: "coop-cloud/sample", PR: "3", Ref: strings.Repeat("ab", 20),
		Mode: "cold", Domain: "samp-000000.ci.local", Started: start, Tiers: tiers(Pass, Pass, Pass, Pass),
		Apps: oneApp, Deploys: 1, Teardown: Teardown{Clean: true}, Manifest: map[string]string{}, Artifacts: map[string]string{}}
	r.Finalize(start.Add(90 * time.Second))
	require.Equal(t, VerdictPass, r.Verdict)
	return r
}

// droneLog is a step log as drone-go's Logs returns it: one message per line, newline kept.
func droneLog(lines ...string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l + "\n"
	}
	return out
}

func TestLogLineIsOneLineThatRoundTrips(t *testing.T) {
	t.Parallel()
	r := finished(t)
	r.FailureExcerpt = "line one\nline two # not a heading # and a card-looking #x#"
	r.Tiers[1].Reason = "a | b\r\nc"
	line, err := LogLine(r)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(line, LogPrefix))
	assert.NotContains(t, line, "\n", "the results must stay on one log line")
	assert.NotContains(t, line, "#", "runner-go's livelog.Copy drops lines matching #(.*?)#")

	got, err := FromLog(droneLog("==> teardown", line))
	require.NoError(t, err)
	assert.Equal(t, r.FailureExcerpt, got.FailureExcerpt)
	assert.Equal(t, r.Tiers[1].Reason, got.Tiers[1].Reason)
	assert.Equal(t, 3, got.Level)
	assert.Equal(t, VerdictPass, got.Verdict)
	assert.True(t, r.Finished.Equal(got.Finished))
}

func TestFromLogTakesTheLastResultsLine(t *testing.T) {
	t.Parallel()
	real := finished(t)
	realLine, err := LogLine(real)
	require.NoError(t, err)

	fake := finished(t)
	fake.RunID = "fake"
	fakeLine, err := LogLine(fake)
	require.NoError(t, err)

	got, err := FromLog(droneLog("a recipe hook prints a fake verdict:", fakeLine, "teardown...", realLine))
	require.NoError(t, err)
	assert.Equal(t, "drone-7", got.RunID, "the plugin's own line is printed last and must win")
}

func TestFromLogReassemblesALineTheRuntimeSplit(t *testing.T) {
	t.Parallel()
	r := finished(t)
	r.FailureExcerpt = strings.Repeat("x", 40_000) // over docker's 16 KiB log buffer
	line, err := LogLine(r)
	require.NoError(t, err)
	// docker logs a long line as 16 KiB partial messages without newlines; each becomes one
	// Drone line (moby daemon/logger/copier.go, runner-go livelog.Writer).
	lines := []string{"==> before\n"}
	rest := line + "\n"
	for len(rest) > 16*1024 {
		lines = append(lines, rest[:16*1024])
		rest = rest[16*1024:]
	}
	lines = append(lines, rest, "after\n")

	got, err := FromLog(lines)
	require.NoError(t, err)
	assert.Len(t, got.FailureExcerpt, 40_000)
}

func TestFromLogAcceptsCRLF(t *testing.T) {
	t.Parallel()
	line, err := LogLine(finished(t))
	require.NoError(t, err)
	got, err := FromLog([]string{line + "\r\n"})
	require.NoError(t, err)
	assert.Equal(t, 3, got.Level)
}

func TestFromLogRefusesWhatIsNotAVerdict(t *testing.T) {
	t.Parallel()
	valid := finished(t)
	encode := func(mutate func(m map[string]any)) string {
		data, err := json.Marshal(valid)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(data, &m))
		mutate(m)
		data, err = json.Marshal(m)
		require.NoError(t, err)
		return LogPrefix + string(data)
	}
	tests := []struct {
		name    string
		log     []string
		wantErr string
	}{
		{"a log without a results line is an error", droneLog("==> INSTALL", "results: /var/lib/cc-ci/runs/drone-7/results.json"), "no cc-ci-results: line"},
		{"an empty log is an error", nil, "no cc-ci-results: line"},
		{"the prefix in the middle of a line does not count", droneLog("echo " + encode(func(map[string]any) {})), "no cc-ci-results: line"},
		{"a line cut short is not JSON", droneLog(encode(func(map[string]any) {})[:60]), "parse results line"},
		{"another schema is refused", droneLog(encode(func(m map[string]any) { m["schema"] = 2 })), "schema 2, want 1"},
		{"a missing recipe is refused", droneLog(encode(func(m map[string]any) { delete(m, "recipe") })), "missing recipe"},
		{"a missing ref is refused", droneLog(encode(func(m map[string]any) { m["ref"] = "" })), "missing ref"},
		{"a missing verdict is refused", droneLog(encode(func(m map[string]any) { delete(m, "verdict") })), "missing verdict"},
		{"a missing finish time is refused", droneLog(encode(func(m map[string]any) { delete(m, "finished") })), "missing finished"},
		{"a pass its tiers do not support is refused", droneLog(encode(func(m map[string]any) {
			m["tiers"] = []map[string]any{{"name": TierInstall, "status": "fail"}}
		})), "its tiers make level 0 fail"},
		{"a level its tiers do not reach is refused", droneLog(encode(func(m map[string]any) { m["level"] = 5 })), "says level 5 pass"},
		{"the last line decides even when an earlier one was valid", droneLog(encode(func(map[string]any) {}), encode(func(m map[string]any) { m["schema"] = 9 })), "schema 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := FromLog(tt.log)
			require.Error(t, err)
			assert.ErrorContains(t, err, tt.wantErr)
			assert.Nil(t, got)
		})
	}
}

func TestFromLogWithoutALineIsErrNoLogLine(t *testing.T) {
	t.Parallel()
	_, err := FromLog(droneLog("killed"))
	assert.ErrorIs(t, err, ErrNoLogLine)
}
