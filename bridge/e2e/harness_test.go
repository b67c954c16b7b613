// Package e2e runs the real cc-ci-bridge binary between a FAKE GitHub and a FAKE Gitea (HTTP
// servers the bridge's real go-github and Gitea SDK clients talk to) and a FAKE Drone (which the
// bridge's real drone-go client talks to, and which runs builds). The suites that need a verdict
// have the fake Drone run the REAL cc-ci-plugin on the sample recipe on the real local swarm.
package e2e_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/testkit"
	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
	"coopcloud.tech/cc-ci/internal/testkit/fakegitea"
	"coopcloud.tech/cc-ci/internal/testkit/fakegithub"
	"coopcloud.tech/cc-ci/internal/testkit/forgehook"
)

// Names every test world shares.
const (
	repo       = "coop-cloud/sample"
	droneRepo  = "coop-cloud/cc-ci"
	maintainer = "maintainer" // member of the coop-cloud org
	stranger   = "stranger"   // no relation to the repo
	bot        = "cc-ci-bot"
	forgeToken = "forge-token"
)

var (
	githubSecret = []byte("github-hook-secret")
	giteaSecret  = []byte("gitea-hook-secret")
	droneSecret  = "drone-hook-secret"
)

// env is what TestMain prepared once: the bridge and plugin binaries, the FAKE abra, images and
// the front door.
var env testkit.E2E

func TestMain(m *testing.M) { os.Exit(setup(m)) }

func setup(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	tmp, err := os.MkdirTemp("", "ccci-bridge-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if env, err = testkit.PrepareE2E(ctx, tmp, "bridge/cc-ci-bridge", "plugin/cc-ci-plugin"); err != nil {
		fmt.Fprintf(os.Stderr, "e2e setup: %v\n", err)
		return 1
	}
	return m.Run()
}

// world is one bridge between fake forges and a fake Drone, each test its own.
type world struct {
	t      *testing.T
	dir    string
	forge  *fakeforge.State // one state behind both forge fakes
	github *fakegithub.Server
	gitea  *fakegitea.Server
	drone  *fakedrone.Server
	addr   string // the bridge's host:port
	bridge *bridgeProc
}

// newWorld starts the fakes, with repo enrolled on the forge named (forgehook.GitHub or
// forgehook.Gitea; both fakes share one state, so enrolling it on both would let the poll of one
// find the other's comments); runner runs every Drone build. The bridge is started by start.
func newWorld(t *testing.T, forge string, runner fakedrone.Runner) *world {
	t.Helper()
	w := &world{t: t, dir: t.TempDir(), forge: fakeforge.New(bot)}
	w.addr = freeAddr(t)
	w.github = fakegithub.New(w.forge, forgeToken)
	t.Cleanup(w.github.Close)
	w.gitea = fakegitea.New(w.forge, forgeToken)
	t.Cleanup(w.gitea.Close)
	w.drone = fakedrone.New(fakedrone.Config{Runner: runner, WebhookEndpoint: "http://" + w.addr + "/hooks/drone",
		WebhookSecret: droneSecret, BranchHeads: map[string]string{"main": forgehook.SHA("cc-ci main")}})
	t.Cleanup(w.drone.Close)

	w.forge.AddMember("coop-cloud", maintainer)
	// Gitea answers membership and permission questions only for an org member with admin on
	// the repo (see fakegitea); production's bot is set up the same way.
	w.forge.AddMember("coop-cloud", bot)
	w.forge.SetPermission(repo, bot, "admin")
	enrol := filepath.Join(w.dir, "enrolment.yml")
	require.NoError(t, os.WriteFile(enrol, []byte(forge+":\n  - repo: "+repo+"\n    recipe: sample\n"), 0o644))
	return w
}

// runsDir is where the builds of this world write their run dirs.
func (w *world) runsDir() string { return filepath.Join(w.dir, "runs") }

// defaultCloneURL is the recipe's clone URL in the forge's payloads and API answers alike.
const defaultCloneURL = "https://git.example.org/" + repo + ".git"

// openPR adds an open PR on repo with head sha.
func (w *world) openPR(n int, sha string) {
	w.forge.AddPR(fakeforge.PR{Repo: repo, Number: n, Open: true, HeadSHA: sha, HeadRef: "feature",
		Author: "contributor", CloneURL: defaultCloneURL})
}

// bridgeEnv is the bridge's environment: secrets in env vars, paths in this world.
func (w *world) bridgeEnv(extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"CCCI_BRIDGE_LISTEN=" + w.addr,
		"CCCI_BRIDGE_STORE=" + filepath.Join(w.dir, "bridge.db"),
		"CCCI_ENROLMENT=" + filepath.Join(w.dir, "enrolment.yml"),
		"CCCI_GITHUB_API=" + w.github.URL,
		"CCCI_GITHUB_TOKEN=" + forgeToken,
		"CCCI_GITHUB_WEBHOOK_SECRET=" + string(githubSecret),
		"CCCI_GITEA_URL=" + w.gitea.URL,
		"CCCI_GITEA_TOKEN=" + forgeToken,
		"CCCI_GITEA_WEBHOOK_SECRET=" + string(giteaSecret),
		"CCCI_DRONE_SERVER=" + w.drone.URL,
		"CCCI_DRONE_TOKEN=" + fakedrone.DefaultToken,
		"CCCI_DRONE_REPO=" + droneRepo,
		"CCCI_DRONE_WEBHOOK_SECRET=" + droneSecret,
		"CCCI_RUNS_DIR=" + w.runsDir(),
		"CCCI_RUNS_URL=https://ci.example.org/runs",
		"CCCI_DASHBOARD_URL=https://ci.example.org",
		"CCCI_RETRY_MIN=100ms",
		"CCCI_RETRY_MAX=1s",
		"CCCI_RECONCILE_INTERVAL=1s",
		"CCCI_POLL_INTERVAL=1h",
		"CCCI_LOG_FORMAT=json",
		"CCCI_LOG_LEVEL=debug",
	}, extra...)
}

// start starts the bridge binary and waits until it answers /healthz.
func (w *world) start(extra ...string) *bridgeProc {
	w.t.Helper()
	b := startBridge(w.t, w.bridgeEnv(extra...), w.addr)
	w.bridge = b
	return b
}

// deliver posts a signed forge delivery to the bridge and returns the status code.
func (w *world) deliver(d forgehook.Delivery) int {
	w.t.Helper()
	secret, path := githubSecret, "/hooks/github"
	if d.Forge == forgehook.Gitea {
		secret, path = giteaSecret, "/hooks/gitea"
	}
	resp, err := http.DefaultClient.Do(d.Request("http://"+w.addr+path, secret))
	require.NoError(w.t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// comment is a comment made on the fake forge and its webhook delivery.
type comment struct {
	forgehook.Delivery
	ID int64 // the comment's id on the forge
}

// testme is a comment by author on PR n, as the forge would deliver it; the comment also exists
// in the fake forge's state, as it would on the real forge.
func (w *world) testme(forge string, n int, author, body string) comment {
	c := w.forge.AddComment(repo, n, author, body)
	p := forgehook.CommentParams{Repo: repo, PR: n, CommentID: c.ID, Body: body, Author: author,
		CloneURL: w.cloneURL(), Time: c.Created}
	if forge == forgehook.Gitea {
		p.BaseURL = w.gitea.URL
		return comment{forgehook.GiteaComment(p), c.ID}
	}
	return comment{forgehook.GitHubComment(p), c.ID}
}

// cloneURL is the recipe's clone URL as the PR payload names it; the plugin tests use a local
// repo, set per test through the PR's CloneURL.
func (w *world) cloneURL() string {
	if pr, ok := w.forge.PR(repo, 1); ok && pr.CloneURL != "" {
		return pr.CloneURL
	}
	return defaultCloneURL
}

// waitFor polls cond (state in the fakes, which offer no events) until it holds or d passes.
func (w *world) waitFor(d time.Duration, what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out after %s waiting for %s\nbridge log:\n%s", d, what, w.bridge.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// bridgeProc is one running cc-ci-bridge.
type bridgeProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  strings.Builder
	done chan struct{}
}

func startBridge(t *testing.T, environ []string, addr string) *bridgeProc {
	t.Helper()
	b := &bridgeProc{done: make(chan struct{})}
	b.cmd = exec.Command(env.Bins["cc-ci-bridge"])
	b.cmd.Env = environ
	stderr, err := b.cmd.StderrPipe()
	require.NoError(t, err)
	b.cmd.Stdout = b.cmd.Stderr
	require.NoError(t, b.cmd.Start())
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			b.mu.Lock()
			b.log.WriteString(sc.Text() + "\n")
			b.mu.Unlock()
		}
		_ = b.cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(func() { b.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return b
			}
		}
		select {
		case <-b.done:
			t.Fatalf("bridge exited at start:\n%s", b.logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("bridge did not answer /healthz in 30s:\n%s", b.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (b *bridgeProc) logs() string {
	if b == nil {
		return "(no bridge)"
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.log.String()
}

// kill is kill -9: no shutdown, the store as the crash left it.
func (b *bridgeProc) kill() {
	_ = b.cmd.Process.Signal(syscall.SIGKILL)
	<-b.done
}

// stop is SIGTERM, as systemd stops the service; it returns the exit code.
func (b *bridgeProc) stop(t *testing.T) int {
	t.Helper()
	require.NoError(t, b.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-b.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("bridge did not stop on SIGTERM:\n%s", b.logs())
	}
	return b.cmd.ProcessState.ExitCode()
}

// freeAddr returns a loopback address nobody listens on (the fake Drone must know the bridge's
// webhook address before the bridge starts).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}
