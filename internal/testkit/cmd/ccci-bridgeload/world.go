package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/drone/drone-go/drone"

	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
	"coopcloud.tech/cc-ci/internal/testkit/fakegithub"
	"coopcloud.tech/cc-ci/internal/testkit/forgehook"
)

// Names of the benchmark's world, as in bridge/e2e.
const (
	repo       = "coop-cloud/sample"
	droneRepo  = "coop-cloud/cc-ci"
	maintainer = "maintainer" // member of the coop-cloud org: trusted
	bot        = "cc-ci-bot"
	forgeToken = "forge-token"
	cloneURL   = "https://git.example.org/" + repo + ".git"
)

var (
	githubSecret = []byte("github-hook-secret")
	droneSecret  = "drone-hook-secret"
)

// world is the fakes in this process and the bridge between them.
type world struct {
	forge     *fakeforge.State
	github    *fakegithub.Server
	drone     *fakedrone.Server
	bridge    *bridgeProc
	mem       *memSampler  // the bridge's memory, sampled
	gate      *gate        // between the bridge and the fake forge, with -hold-workers
	addr      string       // the bridge's host:port
	client    *http.Client // keep-alive client for the deliveries
	storePath string
	logPath   string
	nextPR    int // the next PR number phase 2 opens
}

// instant is the fast Drone runner: every build's step exits 0 at once, so builds end as soon
// as they start and the bridge reports them (the benchmark measures the bridge, not a run).
func instant(context.Context, drone.Build, io.Writer) (int, error) { return 0, nil }

// newWorld starts the fakes, opens cfg.prs PRs, and starts the bridge under taskset.
func newWorld(ctx context.Context, cfg config, dir string) (*world, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	w := &world{forge: fakeforge.New(bot), addr: addr, nextPR: 100000,
		storePath: filepath.Join(dir, "bridge.db"), logPath: filepath.Join(dir, "bridge.log")}
	w.github = fakegithub.New(w.forge, forgeToken)
	w.drone = fakedrone.New(fakedrone.Config{Runner: instant, WebhookEndpoint: "http://" + addr + "/hooks/drone",
		WebhookSecret: droneSecret, BranchHeads: map[string]string{"main": forgehook.SHA("cc-ci main")}})
	w.forge.AddMember("coop-cloud", maintainer)
	for n := 1; n <= cfg.prs; n++ {
		w.openPR(n)
	}
	// One idle connection per sender, so every delivery rides a kept-alive connection.
	w.client = &http.Client{Transport: &http.Transport{MaxIdleConns: cfg.conc + 64, MaxIdleConnsPerHost: cfg.conc + 64,
		IdleConnTimeout: time.Minute}, Timeout: 30 * time.Second}

	forgeURL := w.github.URL
	if cfg.holdWorkers {
		if w.gate, err = newGate(w.github.URL); err != nil {
			w.closeFakes()
			return nil, err
		}
		forgeURL = w.gate.srv.URL
	}

	enrol := filepath.Join(dir, "enrolment.yml")
	if err := os.WriteFile(enrol, []byte("github:\n  - repo: "+repo+"\n    recipe: sample\n"), 0o644); err != nil {
		w.closeFakes()
		return nil, fmt.Errorf("write enrolment: %w", err)
	}
	_ = os.Remove(w.storePath) // a kept -dir from an earlier run must not resume its queue
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"CCCI_BRIDGE_LISTEN=" + addr,
		"CCCI_BRIDGE_STORE=" + w.storePath,
		"CCCI_ENROLMENT=" + enrol,
		"CCCI_GITHUB_API=" + forgeURL,
		"CCCI_GITHUB_TOKEN=" + forgeToken,
		"CCCI_GITHUB_WEBHOOK_SECRET=" + string(githubSecret),
		"CCCI_GITHUB_BOT=" + bot,
		"CCCI_DRONE_SERVER=" + w.drone.URL,
		"CCCI_DRONE_TOKEN=" + fakedrone.DefaultToken,
		"CCCI_DRONE_REPO=" + droneRepo,
		"CCCI_DRONE_WEBHOOK_SECRET=" + droneSecret,
		"CCCI_RUNS_DIR=" + filepath.Join(dir, "runs"),
		// Every comment is also on the fake forge, so the catch-up poll would find nothing new;
		// it is kept out of the measurement altogether.
		"CCCI_POLL_INTERVAL=1h",
		"CCCI_LOG_FORMAT=json",
		"CCCI_LOG_LEVEL=" + cfg.logLevel,
	}
	if cfg.workers > 0 {
		env = append(env, "CCCI_BRIDGE_WORKERS="+strconv.Itoa(cfg.workers))
	}
	env = append(env, cfg.extraEnv...)
	if w.bridge, err = startBridge(ctx, cfg.bridge, cfg.cpus, env, w.logPath, addr); err != nil {
		w.closeFakes()
		return nil, err
	}
	w.mem = startMemSampler(w.bridge.pid())
	if err := w.awaitPoll(ctx, cfg.prs); err != nil {
		_ = w.close()
		return nil, err
	}
	return w, nil
}

// awaitPoll waits for the bridge's first catch-up pass, which it makes at start, to have listed
// the comments of the last PR (it goes through the open PRs in order). A pass still running
// when the deliveries begin would find their comments before their webhooks and turn the
// benchmark into one of the poll; the next pass is an hour away (CCCI_POLL_INTERVAL).
func (w *world) awaitPoll(ctx context.Context, lastPR int) error {
	path := fmt.Sprintf("/repos/%s/issues/%d/comments", repo, lastPR)
	deadline := time.Now().Add(time.Minute)
	for {
		for _, c := range w.forge.Calls() {
			if c.Method == http.MethodGet && c.Path == path {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the bridge's first poll pass did not reach PR %d in a minute; see %s", lastPR, w.logPath)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// openPR opens PR n with a head of its own.
func (w *world) openPR(n int) string {
	sha := forgehook.SHA("bench head " + strconv.Itoa(n))
	w.forge.AddPR(fakeforge.PR{Repo: repo, Number: n, Open: true, HeadSHA: sha, HeadRef: "feature",
		Author: "contributor", CloneURL: cloneURL})
	return sha
}

// delivery is one signed `!testme` as GitHub posts it, for a comment that also exists on the
// fake forge (so the bridge's poll, were it to run, would find the same comment).
func (w *world) delivery(pr int) forgehook.Delivery {
	c := w.forge.AddComment(repo, pr, maintainer, "!testme")
	return forgehook.GitHubComment(forgehook.CommentParams{Repo: repo, PR: pr, CommentID: c.ID, Body: c.Body,
		Author: maintainer, CloneURL: cloneURL, Time: c.Created}).Sign(githubSecret)
}

// close stops the bridge (SIGTERM, as systemd would) and then the fakes.
func (w *world) close() error {
	w.mem.close()
	err := w.bridge.stop()
	w.closeFakes()
	return err
}

func (w *world) closeFakes() {
	if w.gate != nil {
		w.gate.close()
	}
	w.drone.Close()
	w.github.Close()
}

// bridgeProc is the running cc-ci-bridge.
type bridgeProc struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
}

// startBridge starts bin (under taskset -c cpus when cpus is set) and waits for /healthz.
// taskset execs the bridge in its own process, so the pid is the bridge's.
func startBridge(ctx context.Context, bin, cpus string, env []string, logPath, addr string) (*bridgeProc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("bridge log: %w", err)
	}
	b := &bridgeProc{log: logf, done: make(chan struct{})}
	if cpus != "" {
		b.cmd = exec.Command("taskset", "-c", cpus, bin)
	} else {
		b.cmd = exec.Command(bin)
	}
	b.cmd.Env, b.cmd.Stdout, b.cmd.Stderr = env, logf, logf
	if err := b.cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("start bridge: %w", err)
	}
	go func() { _ = b.cmd.Wait(); close(b.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return b, b.checkExec(bin)
			}
		}
		select {
		case <-b.done:
			_ = logf.Close()
			return nil, fmt.Errorf("bridge exited at start (%s); see %s", b.cmd.ProcessState, logPath)
		case <-ctx.Done():
			_ = b.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = b.stop()
			return nil, fmt.Errorf("bridge did not answer /healthz in 30s; see %s", logPath)
		}
	}
}

// checkExec makes sure the pid read for RSS is the bridge, not a taskset that forked.
func (b *bridgeProc) checkExec(bin string) error {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", b.pid()))
	if err != nil {
		return fmt.Errorf("bridge process: %w", err)
	}
	// The kernel keeps the first 15 bytes of the name (TASK_COMM_LEN 16, with its NUL).
	got, want := strings.TrimSpace(string(comm)), filepath.Base(bin)
	if len(want) > 15 {
		want = want[:15]
	}
	if got != want {
		_ = b.stop()
		return fmt.Errorf("pid %d is %q, not the bridge %q", b.pid(), got, want)
	}
	return nil
}

func (b *bridgeProc) pid() int { return b.cmd.Process.Pid }

// stop sends SIGTERM and waits for the graceful shutdown (at most 30 s, then SIGKILL).
func (b *bridgeProc) stop() error {
	defer func() { _ = b.log.Close() }()
	select {
	case <-b.done:
		return nil
	default:
	}
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop bridge: %w", err)
	}
	select {
	case <-b.done:
		return nil
	case <-time.After(30 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
		return errors.New("bridge did not stop within 30 s of SIGTERM; killed")
	}
}

// freeAddr is a loopback address nobody listens on: the fake Drone must know the bridge's
// webhook address before the bridge starts.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("pick the bridge's port: %w", err)
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}
