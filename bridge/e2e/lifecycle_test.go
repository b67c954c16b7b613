package e2e_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/testkit/forgehook"
)

func TestACommentMadeWhileTheBridgeWasDownIsCaughtUpOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, forgehook.Gitea, nil)
	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 3}.runner())
	sha := forgehook.SHA("lost-webhook")
	w.openPR(1, sha)
	w.start("CCCI_POLL_INTERVAL=200ms")
	w.waitFor(10*time.Second, "a first poll pass", func() bool { return strings.Contains(w.bridge.logs(), "poll pass done") })
	require.Equal(t, 0, w.bridge.stop(t), "SIGTERM is a clean shutdown")

	// The maintainer comments while the bridge is down: the forge's webhook fails and GitHub
	// would not redeliver it on its own. Only the catch-up can find it.
	w.forge.AddComment(repo, 1, maintainer, "!testme")
	w.start("CCCI_POLL_INTERVAL=200ms")
	assert.Equal(t, "success", w.final(sha).State)
	// Three more poll passes see the same comment again; none starts another build.
	passes := strings.Count(w.bridge.logs(), "poll pass done")
	w.waitFor(10*time.Second, "three more poll passes", func() bool {
		return strings.Count(w.bridge.logs(), "poll pass done") >= passes+3
	})
	assert.Equal(t, 1, w.drone.CreateCount(), "caught up exactly once")
	assert.Contains(t, w.metrics(), `ccci_bridge_reconcile_actions_total{action="comment_caught_up"} 1`)
}

func TestBuildsRequestedDuringADroneOutageStartWhenItRecovers(t *testing.T) {
	t.Parallel()
	w := newWorld(t, forgehook.GitHub, nil)
	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 3}.runner())
	sha := forgehook.SHA("outage")
	w.openPR(1, sha)
	w.drone.SetDown(true)
	w.start()
	require.Equal(t, http.StatusAccepted, w.deliver(w.testme(forgehook.GitHub, 1, maintainer, "!testme").Delivery))
	w.waitFor(20*time.Second, "the PR told it is queued", func() bool {
		s := w.stickies(1)
		sts := w.forge.Statuses(repo, sha)
		return len(s) == 1 && strings.Contains(strings.ToLower(s[0].Body), "queued") &&
			len(sts) > 0 && strings.Contains(sts[len(sts)-1].Description, "queued")
	})
	assert.Equal(t, 0, w.drone.CreateCount())
	w.drone.SetDown(false)
	assert.Equal(t, "success", w.final(sha).State)
	assert.Equal(t, 1, w.drone.CreateCount(), "started once, after the outage")
	assert.Len(t, w.stickies(1), 1, "the queued comment became the verdict")
}

func TestOneRunPerPRAndHead(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	w := newWorld(t, forgehook.GitHub, nil)
	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 3, gate: gate}.runner())
	first, second := forgehook.SHA("first"), forgehook.SHA("second")
	w.openPR(1, first)
	w.start()

	require.Equal(t, http.StatusAccepted, w.deliver(w.testme(forgehook.GitHub, 1, maintainer, "!testme").Delivery))
	w.waitFor(20*time.Second, "the first build", func() bool { return w.drone.CreateCount() == 1 })

	// Same PR, same head, while the build runs: a reply with its link, no second build.
	require.Equal(t, http.StatusAccepted, w.deliver(w.testme(forgehook.GitHub, 1, maintainer, "!testme").Delivery))
	w.waitFor(20*time.Second, "the already-running reply", func() bool {
		for _, c := range w.forge.CommentsBy(repo, 1, bot) {
			if strings.Contains(c.Body, w.drone.BuildLink(droneRepoOwner, droneRepoName, 1)) && !strings.Contains(c.Body, "cc-ci:sticky") {
				return true
			}
		}
		return false
	})
	assert.Equal(t, 1, w.drone.CreateCount())

	// A push alone never starts a run: it cancels the one on the older head.
	w.forge.SetHead(repo, 1, second)
	require.Equal(t, http.StatusAccepted, w.deliver(forgehook.GitHubSync(forgehook.PushParams{Repo: repo, PR: 1, HeadSHA: second, Before: first})))
	w.waitFor(20*time.Second, "the sticky to ask for a new !testme", func() bool {
		s := w.stickies(1)
		return len(s) == 1 && strings.Contains(s[0].Body, "new commits") && strings.Contains(s[0].Body, second[:7])
	})
	w.waitFor(20*time.Second, "the cancel", func() bool { return w.drone.CancelCount() == 1 })
	assert.Equal(t, 1, w.drone.CreateCount(), "a push started nothing")
	assert.Equal(t, "error", w.final(first).State, "the cancelled run's head says so")

	// A new !testme on the new head starts the second build and it reports.
	require.Equal(t, http.StatusAccepted, w.deliver(w.testme(forgehook.GitHub, 1, maintainer, "!testme").Delivery))
	w.waitFor(20*time.Second, "the second build", func() bool { return w.drone.CreateCount() == 2 })
	close(gate)
	assert.Equal(t, "success", w.final(second).State)
	w.waitFor(10*time.Second, "the verdict in the one sticky comment", func() bool {
		s := w.stickies(1)
		return len(s) == 1 && strings.Contains(s[0].Body, second[:7]) && strings.Contains(s[0].Body, "level 3")
	})
	assert.Equal(t, "error", w.final(first).State, "the older head's verdict was not overwritten")
}

func TestANewHeadCancelsTheOlderRun(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	w := newWorld(t, forgehook.GitHub, nil)
	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 3, gate: gate}.runner())
	first, second := forgehook.SHA("old-head"), forgehook.SHA("new-head")
	w.openPR(1, first)
	w.start()
	require.Equal(t, http.StatusAccepted, w.deliver(w.testme(forgehook.GitHub, 1, maintainer, "!testme").Delivery))
	w.waitFor(20*time.Second, "the first build", func() bool { return w.drone.CreateCount() == 1 })
	// The push webhook was lost; the maintainer comments on the new head.
	w.forge.SetHead(repo, 1, second)
	require.Equal(t, http.StatusAccepted, w.deliver(w.testme(forgehook.GitHub, 1, maintainer, "!testme").Delivery))
	w.waitFor(20*time.Second, "the second build", func() bool { return w.drone.CreateCount() == 2 })
	assert.Equal(t, 1, w.drone.CancelCount(), "the older build was cancelled")
	close(gate)
	assert.Equal(t, "success", w.final(second).State)
	assert.Equal(t, "error", w.final(first).State)
	assert.Len(t, w.stickies(1), 1)
}

func TestAVerdictWhoseWebhookWasLostIsReconciled(t *testing.T) {
	t.Parallel()
	w := newWorld(t, forgehook.GitHub, nil)
	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 3}.runner())
	w.drone.DropWebhooks(true)
	sha := forgehook.SHA("no-drone-webhook")
	w.openPR(1, sha)
	w.start()
	require.Equal(t, http.StatusAccepted, w.deliver(w.testme(forgehook.GitHub, 1, maintainer, "!testme").Delivery))
	assert.Equal(t, "success", w.final(sha).State)
	assert.Contains(t, w.metrics(), `ccci_bridge_reconcile_actions_total{action="finished_without_webhook"} 1`)
	m := w.metrics()
	assert.Contains(t, m, `ccci_bridge_deliveries_total{forge="github",outcome="accepted"} 1`)
	assert.Contains(t, m, `ccci_bridge_builds_started_total{forge="github"} 1`)
	assert.Contains(t, m, `ccci_bridge_trigger_latency_seconds_count 1`)
}

// metrics returns the bridge's /metrics text.
func (w *world) metrics() string {
	w.t.Helper()
	resp, err := http.Get("http://" + w.addr + "/metrics")
	require.NoError(w.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(w.t, err)
	return string(b)
}

func TestSIGTERMAnswersTheWebhookInFlightAndKeepsTheQueue(t *testing.T) {
	t.Parallel()
	w := newWorld(t, forgehook.GitHub, nil)
	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 3}.runner())
	sha := forgehook.SHA("sigterm")
	w.openPR(1, sha)
	w.drone.SetDown(true) // the request stays queued in the store across the restart
	w.start()

	// A delivery whose body is still arriving when systemd stops the bridge.
	d := w.testme(forgehook.GitHub, 1, maintainer, "!testme").Sign(githubSecret)
	conn, err := net.Dial("tcp", w.addr)
	require.NoError(t, err)
	defer conn.Close()
	var head strings.Builder
	// Expect: 100-continue makes the server say when the handler starts reading the body, so the
	// signal comes while the request is certainly being served (not still in the accept backlog).
	fmt.Fprintf(&head, "POST /hooks/github HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nConnection: close\r\nExpect: 100-continue\r\n", w.addr, len(d.Body))
	for k, vs := range d.Headers {
		for _, v := range vs {
			fmt.Fprintf(&head, "%s: %s\r\n", k, v)
		}
	}
	head.WriteString("\r\n")
	_, err = conn.Write([]byte(head.String()))
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	cont, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusContinue, cont.StatusCode, "the handler is reading the body")
	_, err = conn.Write(d.Body[:len(d.Body)/2])
	require.NoError(t, err)
	require.NoError(t, w.bridge.cmd.Process.Signal(syscall.SIGTERM))
	w.waitFor(10*time.Second, "the shutdown to begin", func() bool { return strings.Contains(w.bridge.logs(), "shutting down") })
	_, err = conn.Write(d.Body[len(d.Body)/2:])
	require.NoError(t, err)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusAccepted, resp.StatusCode, "the webhook in flight was answered, and stored")
	<-w.bridge.done
	assert.Equal(t, 0, w.bridge.cmd.ProcessState.ExitCode())
	assert.Equal(t, 0, w.drone.CreateCount())

	w.drone.SetDown(false)
	w.start()
	assert.Equal(t, "success", w.final(sha).State, "the queued request resumed after the restart")
	assert.Equal(t, 1, w.drone.CreateCount())
}

func TestABuildKilledInDroneIsACIErrorWithTheReason(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	defer close(gate)
	w := newWorld(t, forgehook.GitHub, nil)
	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 3, gate: gate}.runner())
	sha := forgehook.SHA("killed")
	w.openPR(1, sha)
	w.start()
	require.Equal(t, http.StatusAccepted, w.deliver(w.testme(forgehook.GitHub, 1, maintainer, "!testme").Delivery))
	w.waitFor(20*time.Second, "the build", func() bool { return w.drone.CreateCount() == 1 })
	// An operator stops the build in Drone's UI (or its timeout fires).
	require.NoError(t, w.drone.Client().BuildCancel(droneRepoOwner, droneRepoName, 1))
	st := w.final(sha)
	assert.Equal(t, "error", st.State, "a killed build is the CI's error, never a red recipe")
	assert.Contains(t, st.Description, "killed")
	w.waitFor(10*time.Second, "the sticky to say so", func() bool {
		s := w.stickies(1)
		return len(s) == 1 && strings.Contains(s[0].Body, "killed") && strings.Contains(s[0].Body, "!testme")
	})
}

func TestAPushAfterTheBuildEndedKeepsItsVerdict(t *testing.T) {
	t.Parallel()
	w := newWorld(t, forgehook.GitHub, nil)
	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 3}.runner())
	w.drone.DropWebhooks(true) // the build's end is not heard of, and reconcile is far off
	first, second := forgehook.SHA("ended-first"), forgehook.SHA("ended-second")
	w.openPR(1, first)
	w.start("CCCI_RECONCILE_INTERVAL=1h")
	require.Equal(t, http.StatusAccepted, w.deliver(w.testme(forgehook.GitHub, 1, maintainer, "!testme").Delivery))
	w.waitFor(20*time.Second, "the build", func() bool { return w.drone.CreateCount() == 1 })
	_, err := w.drone.WaitFinished(t.Context(), droneRepoOwner, droneRepoName, 1)
	require.NoError(t, err)

	w.forge.SetHead(repo, 1, second)
	require.Equal(t, http.StatusAccepted, w.deliver(forgehook.GitHubSync(forgehook.PushParams{Repo: repo, PR: 1, HeadSHA: second, Before: first})))
	assert.Equal(t, "success", w.final(first).State, "the finished run's verdict was posted, not cancelled")
	assert.Equal(t, 0, w.drone.CancelCount())
}
