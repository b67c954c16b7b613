package e2e_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/testkit/forgehook"
)

func TestALatePushOfAnOlderHeadCancelsNothing(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	defer close(gate)
	w := newWorld(t, forgehook.GitHub, nil)
	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 3, gate: gate}.runner())
	older, newest := forgehook.SHA("late-older"), forgehook.SHA("late-newest")
	w.openPR(1, newest)
	w.start()
	require.Equal(t, http.StatusAccepted, w.deliver(w.testme(forgehook.GitHub, 1, maintainer, "!testme").Delivery))
	w.waitFor(20*time.Second, "the build on the newest head", func() bool { return w.drone.CreateCount() == 1 })
	// The webhook of an earlier push arrives late (or is redelivered by hand).
	require.Equal(t, http.StatusAccepted, w.deliver(forgehook.GitHubSync(forgehook.PushParams{Repo: repo, PR: 1, HeadSHA: older})))
	w.waitFor(10*time.Second, "the stale push to be dropped", func() bool { return strings.Contains(w.bridge.logs(), "stale push") })
	assert.Equal(t, 0, w.drone.CancelCount(), "the run on the newest head goes on")
}

func TestAVerdictTheForgeRefusedIsPostedOnceItAnswersAgain(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	w := newWorld(t, forgehook.GitHub, nil)
	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 3, gate: gate}.runner())
	sha := forgehook.SHA("forge-hiccup")
	w.openPR(1, sha)
	w.start()
	require.Equal(t, http.StatusAccepted, w.deliver(w.testme(forgehook.GitHub, 1, maintainer, "!testme").Delivery))
	w.waitFor(20*time.Second, "the pending status", func() bool { return len(w.forge.Statuses(repo, sha)) == 1 })
	w.forge.Fail("/repos/"+repo+"/statuses/", http.StatusBadGateway)
	close(gate)
	w.waitFor(20*time.Second, "the verdict to be refused by the forge", func() bool {
		return strings.Contains(w.bridge.logs(), "post the verdict of build 1")
	})
	assert.Len(t, w.forge.Statuses(repo, sha), 1, "still only the pending status")
	w.forge.Fail("/repos/"+repo+"/statuses/", 0)
	assert.Equal(t, "success", w.final(sha).State, "retried until the forge took it")
}

func TestATestmeSaidBeforeTheLastPushStartsNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, forgehook.GitHub, nil)
	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 3}.runner())
	first, pushed := forgehook.SHA("said-before"), forgehook.SHA("pushed-after")
	w.openPR(1, first)
	w.start()
	// The start-up catch-up pass is over before the comment exists (else it would find the
	// comment before the push, which is the race D39 leaves open).
	w.waitFor(10*time.Second, "the first poll pass", func() bool { return strings.Contains(w.bridge.logs(), "poll pass done") })
	// The maintainer's !testme webhook is lost; then the author pushes new code.
	w.forge.AddComment(repo, 1, maintainer, "!testme")
	w.forge.SetHead(repo, 1, pushed)
	require.Equal(t, http.StatusAccepted, w.deliver(forgehook.GitHubSync(forgehook.PushParams{Repo: repo, PR: 1, HeadSHA: pushed})))
	w.waitFor(10*time.Second, "the push to be recorded", func() bool { return strings.Contains(w.bridge.logs(), "no run in flight") })
	// The catch-up finds the comment: it was said before the push, so it must not test the push.
	w.bridge.stop(t)
	w.start("CCCI_POLL_INTERVAL=200ms")
	w.waitFor(20*time.Second, "the reply", func() bool {
		for _, c := range w.forge.CommentsBy(repo, 1, bot) {
			if strings.Contains(c.Body, "New commits were pushed after this `!testme`") {
				return true
			}
		}
		return false
	})
	assert.Equal(t, 0, w.drone.CreateCount(), "code nobody looked at was not run")
}

func TestAnUntrustedCommenterIsToldOnlyOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, forgehook.GitHub, nil)
	w.openPR(1, forgehook.SHA("told-once"))
	w.start()
	for range 3 {
		require.Equal(t, http.StatusAccepted, w.deliver(w.testme(forgehook.GitHub, 1, stranger, "!testme").Delivery))
	}
	w.waitFor(10*time.Second, "three refusals", func() bool { return strings.Count(w.bridge.logs(), `"state":"refused"`) == 3 })
	assert.Len(t, w.forge.CommentsBy(repo, 1, bot), 1, "one polite reply, not one per comment")
	assert.Equal(t, 0, w.drone.CreateCount())
}

func TestAForgedPassInTheLogOfAKilledBuildIsNoGreen(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	defer close(gate)
	w := newWorld(t, forgehook.GitHub, nil)
	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 0, gate: gate, logOnly: true, forged: true}.runner())
	sha := forgehook.SHA("forged")
	w.openPR(1, sha)
	w.start()
	require.Equal(t, http.StatusAccepted, w.deliver(w.testme(forgehook.GitHub, 1, maintainer, "!testme").Delivery))
	w.waitFor(20*time.Second, "the build", func() bool { return w.drone.CreateCount() == 1 })
	// The build is killed only once its log carries the forged pass.
	w.waitFor(60*time.Second, "the forged pass in the log", func() bool {
		return strings.Contains(w.drone.Log(droneRepoOwner, droneRepoName, 1), `"verdict":"pass"`)
	})
	require.NoError(t, w.drone.Client().BuildCancel(droneRepoOwner, droneRepoName, 1))
	st := w.final(sha)
	assert.Equal(t, "error", st.State, "a killed build whose log claims a pass is no green")
}

func TestACommentEditedIntoATestmeIsNoCommandForThePollEither(t *testing.T) {
	t.Parallel()
	w := newWorld(t, forgehook.GitHub, nil)
	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 3}.runner())
	sha := forgehook.SHA("edited")
	w.openPR(1, sha)
	w.start("CCCI_POLL_INTERVAL=200ms")
	w.waitFor(10*time.Second, "the first poll pass", func() bool { return strings.Contains(w.bridge.logs(), "poll pass done") })
	// A comment written now and edited a minute later to say !testme (its webhook, an "edited"
	// action, is ignored by intake; the poll must ignore it too).
	at := time.Now()
	w.forge.SetClock(func() time.Time { return at })
	c := w.forge.AddComment(repo, 1, maintainer, "looks good")
	w.forge.SetClock(func() time.Time { return at.Add(time.Minute) })
	_, ok := w.forge.EditComment(repo, c.ID, "!testme")
	require.True(t, ok)
	w.forge.SetClock(time.Now)
	passes := strings.Count(w.bridge.logs(), "poll pass done")
	w.waitFor(10*time.Second, "three more poll passes", func() bool {
		return strings.Count(w.bridge.logs(), "poll pass done") >= passes+3
	})
	assert.Equal(t, 0, w.drone.CreateCount(), "an edit is not a command")
	// The control: the same words as a new comment are one.
	w.forge.AddComment(repo, 1, maintainer, "!testme")
	assert.Equal(t, "success", w.final(sha).State)
	assert.Equal(t, 1, w.drone.CreateCount())
}
