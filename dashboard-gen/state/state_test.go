package state

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAMissingStateIsEmptyAndABadOneIsAnError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, err := Load(filepath.Join(dir, "none.json"))
	require.NoError(t, err)
	assert.Equal(t, New(""), st)

	var other bytes.Buffer
	require.NoError(t, gob.NewEncoder(&other).Encode(State{Schema: 2}))
	tests := []struct {
		name, data, want string
	}{
		{"a torn file", `{"schema": 1, "runs": [`, "remove it"},
		{"another schema", other.String(), "schema 2, want 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "state.json")
			require.NoError(t, os.WriteFile(path, []byte(tt.data), 0o644))
			_, err := Load(path)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestStateRoundTrips(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	pass := Run{Build: 1, Recipe: "sample", Status: "success", Results: FromRunsDir, Verdict: "pass", Level: 3, Created: at, Finished: at,
		Capped: &Note{Tier: "lint", Reason: "no lint"}}
	st := New("f")
	st.Newest, st.Recipes = 3, []string{"sample"}
	st.Summaries["sample"] = &Summary{Tail: []Run{pass}, Current: &pass, Since: at, Changes: []Run{pass}, From: []string{""}}
	st.Settle([]Run{{Build: 3, Status: "running", Results: NotYet, Created: at}, {Build: 2, Status: "success", Results: NotYet, Created: at}})
	assert.Len(t, st.Unsettled, 2, "running, or finished with its results not read yet")
	st.Settle([]Run{{Build: 2, Status: "success", Results: FromRunsDir, Created: at}})
	assert.Len(t, st.Unsettled, 1)

	data, err := st.Encode()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "state")
	require.NoError(t, Save(path, data))
	back, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, st, back)
}

func TestTheAPIFileIsReadBackLineByLine(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	hostile := `a"b\\c</script>,"recipe":"x"`
	runs := []Run{{Build: 3, Recipe: "other", Status: "running", Results: NotYet, Created: at},
		{Build: 1, Recipe: "sample", Status: "success", Results: FromRunsDir, Verdict: "pass", Level: 3, Created: at, Finished: at},
		{Build: 2, Recipe: hostile, Status: "killed", Results: Missing, Created: at}}
	a := ParseAPI(nil)
	require.NoError(t, a.Merge(runs))
	data := a.Bytes()
	var all []map[string]any
	require.NoError(t, json.Unmarshal(data, &all), "one JSON array")
	require.Len(t, all, 3)
	assert.Equal(t, float64(1), all[0]["build"], "by build number")
	assert.Equal(t, "2025-03-01T12:00:00Z", all[0]["finished"])
	assert.NotContains(t, all[1], "finished", "a zero time is left out, not year 1")

	back := ParseAPI(data)
	assert.Equal(t, 3, back.Len())
	got, err := back.Recipe(hostile)
	require.NoError(t, err)
	require.Len(t, got, 1, "a name with quotes and backslashes is read back")
	assert.Equal(t, int64(2), got[0].Build)
	got, err = back.Recipe("sample")
	require.NoError(t, err)
	assert.Equal(t, runs[1:2], got)

	require.NoError(t, back.Merge([]Run{{Build: 3, Recipe: "other", Status: "success", Results: Missing, Created: at},
		{Build: 4, Recipe: "sample", Status: "failure", Results: Missing, Created: at}}))
	again := back.Bytes()
	assert.Equal(t, 4, ParseAPI(again).Len())
	assert.Contains(t, string(again), `{"build":3,"run_id":"","recipe":"other","status":"success"`, "a changed run's line is replaced")
	assert.Equal(t, string(data[:strings.Index(string(data), "\n{\"build\":2")]), string(again[:strings.Index(string(again), "\n{\"build\":2")]),
		"an unchanged line is kept as it was")

	torn := ParseAPI(append(append([]byte{}, data[:len(data)-20]...), []byte("\n{\"build\":9,\"recipe\"")...))
	assert.Equal(t, 2, torn.Len(), "a torn line is left out")
}
