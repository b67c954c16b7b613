package e2e_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/testkit/forgehook"
)

// testmeVerdict runs one !testme through a world with runner s and returns the final status and
// the sticky comment.
func testmeVerdict(t *testing.T, w *world, sha string) (string, string) {
	t.Helper()
	w.openPR(1, sha)
	w.start()
	require.Equal(t, http.StatusAccepted, w.deliver(w.testme(forgehook.GitHub, 1, maintainer, "!testme").Delivery))
	st := w.final(sha)
	var body string
	w.waitFor(10*time.Second, "the sticky verdict", func() bool {
		s := w.stickies(1)
		if len(s) == 1 && !strings.Contains(s[0].Body, "running") {
			body = s[0].Body
		}
		return body != ""
	})
	return st.State, body
}

func TestAVerdictOnlyInTheStepLogIsRead(t *testing.T) {
	t.Parallel()
	w := newWorld(t, forgehook.GitHub, nil)
	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 3, logOnly: true}.runner())
	state, body := testmeVerdict(t, w, forgehook.SHA("log-only"))
	assert.Equal(t, "success", state)
	assert.Contains(t, body, "level 3")
	assert.NoDirExists(t, filepath.Join(w.runsDir(), "drone-1"), "the runs dir had nothing: the log was read")
}

func TestResultsOfAnotherRefAreNeverReportedAsThisRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t, forgehook.GitHub, nil)
	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 3, ref: forgehook.SHA("someone else")}.runner())
	state, body := testmeVerdict(t, w, forgehook.SHA("this ref"))
	assert.Equal(t, "error", state, "no trustworthy verdict is a CI error, never a green")
	assert.NotContains(t, body, "level 3/5 · pass")
}

func TestARegressionFromTheLastColdReleaseRunLeadsTheSummary(t *testing.T) {
	t.Parallel()
	w := newWorld(t, forgehook.GitHub, nil)
	// The recipe's last cold run of a release (no PR) reached level 3.
	base := scripted{level: 3}.results(droneBuild(90, forgehook.SHA("release"), ""))
	base.Mode, base.PR, base.Manifest["version"] = "cold", "", "0.2.0+2.0.0"
	require.NoError(t, os.MkdirAll(filepath.Join(w.runsDir(), "drone-90"), 0o755))
	require.NoError(t, results.WriteFile(filepath.Join(w.runsDir(), "drone-90", "results.json"), base))

	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 0}.runner())
	state, body := testmeVerdict(t, w, forgehook.SHA("regressing"))
	assert.Equal(t, "failure", state)
	assert.Contains(t, body, "level 3 -> 0 since `0.2.0+2.0.0`** 📉 the last cold run of the release")
	i, j := strings.Index(body, "level 3 -> 0"), strings.Index(body, "| install")
	require.True(t, i >= 0 && j >= 0)
	assert.Less(t, i, j, "the regression is said before the tier table")
}
