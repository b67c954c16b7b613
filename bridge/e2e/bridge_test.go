package e2e_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/bridge/report"
	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
	"coopcloud.tech/cc-ci/internal/testkit/forgehook"
)

// stickies returns the bot's comments on PR n that carry the sticky marker.
func (w *world) stickies(n int) []fakeforge.Comment {
	var out []fakeforge.Comment
	for _, c := range w.forge.CommentsBy(repo, n, bot) {
		if report.IsSticky(c.Body) {
			out = append(out, c)
		}
	}
	return out
}

// final returns the last status on sha once it is no longer pending.
func (w *world) final(sha string) fakeforge.Status {
	w.t.Helper()
	var last fakeforge.Status
	w.waitFor(60*time.Second, "a final status on "+sha, func() bool {
		sts := w.forge.Statuses(repo, sha)
		if len(sts) == 0 {
			return false
		}
		last = sts[len(sts)-1]
		return last.State != "pending"
	})
	return last
}

func TestTestmeStartsOneBuildAndPostsTheVerdict(t *testing.T) {
	t.Parallel()
	for _, forge := range []string{forgehook.GitHub, forgehook.Gitea} {
		t.Run(forge, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, forge, nil)
			w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 3}.runner())
			sha := forgehook.SHA("head-1")
			w.openPR(1, sha)
			w.start()

			d := w.testme(forge, 1, maintainer, "Looks good to me.\n\n!testme\n")
			begin := time.Now()
			require.Equal(t, http.StatusAccepted, w.deliver(d.Delivery))
			t.Logf("webhook answered in %s", time.Since(begin))

			st := w.final(sha)
			assert.Equal(t, "success", st.State)
			assert.Contains(t, st.Description, "level 3/5")
			sts := w.forge.Statuses(repo, sha)
			require.GreaterOrEqual(t, len(sts), 2)
			assert.Equal(t, "pending", sts[0].State, "the PR got a live link before the verdict")
			assert.Equal(t, w.drone.BuildLink(droneRepoOwner, droneRepoName, 1), sts[0].TargetURL)
			assert.Equal(t, "cc-ci/testme", sts[0].Context)

			comment, ok := w.forge.Comment(repo, d.ID)
			require.True(t, ok)
			reactions := w.forge.Reactions(repo, comment.ID)
			require.Len(t, reactions, 1)
			assert.Equal(t, "eyes", reactions[0].Content)

			w.waitFor(10*time.Second, "the verdict in the sticky comment", func() bool {
				s := w.stickies(1)
				return len(s) == 1 && strings.Contains(s[0].Body, "level 3")
			})
			require.Len(t, w.stickies(1), 1, "one sticky comment, edited in place")
			builds := w.drone.Builds(droneRepoOwner, droneRepoName)
			require.Len(t, builds, 1)
			assert.Equal(t, map[string]string{
				"CCCI_RECIPE": "sample", "CCCI_REPO": repo, "CCCI_SRC": w.cloneURL(), "CCCI_REF": sha,
				"CCCI_PR": "1", "CCCI_MODE": "cold", "CCCI_FORGE": forge,
				"CCCI_REQUEST": forge + "/" + repo + "#c" + strconv.FormatInt(comment.ID, 10),
			}, builds[0].Params)
		})
	}
}

func TestQuickAndFailingRunsAreReportedAsSuch(t *testing.T) {
	t.Parallel()
	w := newWorld(t, forgehook.GitHub, nil)
	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 0}.runner())
	sha := forgehook.SHA("head-bad")
	w.openPR(1, sha)
	w.start()
	require.Equal(t, http.StatusAccepted, w.deliver(w.testme(forgehook.GitHub, 1, maintainer, "!testme --quick").Delivery))
	st := w.final(sha)
	assert.Equal(t, "failure", st.State)
	assert.Contains(t, strings.ToLower(st.Description), "install")
	builds := w.drone.Builds(droneRepoOwner, droneRepoName)
	require.Len(t, builds, 1)
	assert.Equal(t, "quick", builds[0].Params["CCCI_MODE"])
	w.waitFor(10*time.Second, "the failure in the sticky comment", func() bool {
		s := w.stickies(1)
		return len(s) == 1 && strings.Contains(s[0].Body, "app crash-loops") && strings.Contains(strings.ToLower(s[0].Body), "quick")
	})
}

func TestExactlyOneBuildFromABurstOfRedeliveriesAcrossAKill(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	w := newWorld(t, forgehook.GitHub, nil)
	w.drone.SetRunner(scripted{runsDir: w.runsDir(), level: 3, gate: gate}.runner())
	sha := forgehook.SHA("burst")
	w.openPR(1, sha)
	w.start()
	d := w.testme(forgehook.GitHub, 1, maintainer, "!testme")

	// 100 copies at once (a redelivery storm); the bridge is killed -9 when half were answered,
	// restarted, and the rest delivered again.
	var answered atomic.Int32
	var wg sync.WaitGroup
	killed := make(chan struct{})
	var once sync.Once
	for range 100 {
		wg.Go(func() {
			resp, err := http.DefaultClient.Do(d.Request("http://"+w.addr+"/hooks/github", githubSecret))
			if err != nil {
				return // the bridge was down: the forge would show a failed delivery
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusAccepted && answered.Add(1) == 50 {
				once.Do(func() { w.bridge.kill(); close(killed) })
			}
		})
	}
	wg.Wait()
	once.Do(func() { w.bridge.kill(); close(killed) })
	<-killed
	w.start()
	for range 50 {
		wg.Go(func() { assert.Equal(t, http.StatusAccepted, w.deliver(d.Delivery)) })
	}
	wg.Wait()

	w.waitFor(30*time.Second, "the build", func() bool { return w.drone.CreateCount() >= 1 })
	close(gate)
	assert.Equal(t, "success", w.final(sha).State)
	assert.Equal(t, 1, w.drone.CreateCount(), "exactly one build")
	assert.Len(t, w.stickies(1), 1, "exactly one sticky comment")
	assert.Len(t, w.forge.CommentsBy(repo, 1, bot), 1, "and no other comment")
}

func TestBadInputIsRefusedLoggedAndStartsNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, forgehook.GitHub, nil)
	w.openPR(1, forgehook.SHA("bad-input"))
	w.forge.AddPR(fakeforge.PR{Repo: repo, Number: 2, Open: false, HeadSHA: forgehook.SHA("closed")})
	w.start("CCCI_BRIDGE_MAX_BODY=65536")
	// Made here, not on the fake forge: the poll must not find it either.
	good := forgehook.GitHubComment(forgehook.CommentParams{Repo: repo, PR: 1, CommentID: 4242, Body: "!testme",
		Author: maintainer, CloneURL: defaultCloneURL})

	post := func(path string, body []byte, h http.Header) int {
		req, err := http.NewRequest(http.MethodPost, "http://"+w.addr+path, strings.NewReader(string(body)))
		require.NoError(t, err)
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	signed := good.Sign(githubSecret)
	tests := []struct {
		name    string
		do      func() int
		want    int
		logWant string
	}{
		{"a delivery signed with the wrong secret is 401", func() int {
			r := good.Request("http://"+w.addr+"/hooks/github", []byte("not-the-secret"))
			resp, err := http.DefaultClient.Do(r)
			require.NoError(t, err)
			_ = resp.Body.Close()
			return resp.StatusCode
		}, http.StatusUnauthorized, "signature"},
		{"a delivery without a signature is 401", func() int {
			h := signed.Headers.Clone()
			h.Del("X-Hub-Signature-256")
			h.Del("X-Hub-Signature")
			return post("/hooks/github", signed.Body, h)
		}, http.StatusUnauthorized, "signature"},
		{"a delivery without an event header is 400", func() int {
			h := signed.Headers.Clone()
			h.Del("X-GitHub-Event")
			return post("/hooks/github", signed.Body, h)
		}, http.StatusBadRequest, "event"},
		{"an oversized body is 413", func() int {
			big := forgehook.GitHubComment(forgehook.CommentParams{Repo: repo, PR: 1, CommentID: 99, Author: maintainer,
				Body: "!testme\n" + strings.Repeat("x", 70000)})
			return w.deliver(big)
		}, http.StatusRequestEntityTooLarge, "over the cap"},
		{"a signed body that is not JSON is 400", func() int {
			bad := signed
			bad.Body = []byte("{not json")
			return w.deliver(bad)
		}, http.StatusBadRequest, "json"},
		{"a comment on a closed PR is ignored", func() int {
			return w.deliver(forgehook.GitHubComment(forgehook.CommentParams{Repo: repo, PR: 2, CommentID: 4243,
				Body: "!testme", Author: maintainer, PRState: "closed", CloneURL: defaultCloneURL}))
		}, http.StatusOK, "closed"},
		{"a repo that is not enrolled is ignored, and logged", func() int {
			return w.deliver(forgehook.GitHubComment(forgehook.CommentParams{Repo: "someone/else", PR: 1, CommentID: 5,
				Body: "!testme", Author: maintainer}))
		}, http.StatusOK, "not enrolled"},
	}
	for _, tt := range tests {
		before := len(w.bridge.logs())
		assert.Equal(t, tt.want, tt.do(), tt.name)
		w.waitFor(5*time.Second, "a log line for: "+tt.name, func() bool {
			return strings.Contains(strings.ToLower(w.bridge.logs()[before:]), tt.logWant)
		})
	}
	assert.Equal(t, 0, w.drone.CreateCount(), "no build from bad input")
	assert.Empty(t, w.forge.CommentsBy(repo, 1, bot))
	assert.Empty(t, w.forge.CommentsBy(repo, 2, bot))
}

func TestAnUntrustedCommenterGetsOnePoliteReplyAndNoBuild(t *testing.T) {
	t.Parallel()
	w := newWorld(t, forgehook.GitHub, nil)
	sha := forgehook.SHA("untrusted")
	w.openPR(1, sha)
	w.start()
	d := w.testme(forgehook.GitHub, 1, stranger, "!testme")
	require.Equal(t, http.StatusAccepted, w.deliver(d.Delivery))
	require.Equal(t, http.StatusAccepted, w.deliver(d.Delivery), "a redelivery is accepted and changes nothing")
	w.waitFor(10*time.Second, "the reply", func() bool { return len(w.forge.CommentsBy(repo, 1, bot)) == 1 })
	reply := w.forge.CommentsBy(repo, 1, bot)[0].Body
	assert.Contains(t, strings.ToLower(reply), "write access")
	assert.NotContains(t, reply, "!testme\n", "the reply does not echo the comment")
	assert.Equal(t, 0, w.drone.CreateCount())
	assert.Empty(t, w.forge.Statuses(repo, sha))
	assert.Empty(t, w.forge.Reactions(repo, d.ID), "no reaction: nothing was accepted")
}

// droneRepoOwner and droneRepoName split droneRepo.
var droneRepoOwner, droneRepoName, _ = strings.Cut(droneRepo, "/")
