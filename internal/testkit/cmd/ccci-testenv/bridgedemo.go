package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/drone/drone-go/drone"

	"coopcloud.tech/cc-ci/internal/testkit"
	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
	"coopcloud.tech/cc-ci/internal/testkit/fakegithub"
	"coopcloud.tech/cc-ci/internal/testkit/forgehook"
)

// The demo's world, named as in bridge/e2e: a recipe repo on a FAKE GitHub, the cc-ci repo on a
// FAKE Drone, a maintainer (an org member, so trusted) and the bot the bridge acts as.
const (
	demoRepo      = "coop-cloud/sample"
	demoDroneRepo = "coop-cloud/cc-ci"
	demoMember    = "maintainer"
	demoBot       = "cc-ci-bot"
	demoToken     = "demo-forge-token"
	demoHookKey   = "demo-github-webhook-secret"
	demoDroneKey  = "demo-drone-webhook-secret"
	// verdictPosted is the message of the bridge's log line once a verdict's status and sticky
	// comment are both on the PR (bridge/trigger/verdict.go).
	verdictPosted = `"msg":"verdict posted"`
)

// demoConfig is the bridge-demo subcommand's flags.
type demoConfig struct {
	bridge, plugin      string // the binaries
	dashboard           string // the cc-ci-dashboard binary; empty: no dashboard at the end
	src, head           string // the recipe repo and the PR head under test
	recipe              string // the recipe the repo is enrolled as
	pr                  int
	work                string // lock, runs, abra, the bridge's store, enrolment and log
	overlays, frontDoor string
	suffix              string
	// The plugin's timeouts, and the longest wait for the verdict on the PR.
	stepTimeout, readyTimeout, deadline, wait time.Duration
}

func parseDemo(args []string) (demoConfig, error) {
	var c demoConfig
	fs := flag.NewFlagSet("bridge-demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.bridge, "bridge", "", "cc-ci-bridge binary")
	fs.StringVar(&c.plugin, "plugin", "", "cc-ci-plugin binary")
	fs.StringVar(&c.dashboard, "dashboard", "", "cc-ci-dashboard binary, run against the FAKE Drone at the end")
	fs.StringVar(&c.src, "src", "", "recipe repo (a path is a valid clone URL)")
	fs.StringVar(&c.head, "head", "", "the PR head under test")
	fs.StringVar(&c.work, "work", "", "work dir")
	fs.StringVar(&c.overlays, "overlays", "", "overlays dir")
	fs.StringVar(&c.frontDoor, "frontdoor", "", "front door URL")
	fs.StringVar(&c.suffix, "domain-suffix", "ci.local", "domain suffix")
	fs.StringVar(&c.recipe, "recipe", testkit.RecipeName, "recipe name enrolled for the repo")
	fs.IntVar(&c.pr, "pr", 1, "PR number")
	fs.DurationVar(&c.stepTimeout, "step-timeout", 5*time.Minute, "plugin step timeout")
	fs.DurationVar(&c.deadline, "deadline", 20*time.Minute, "plugin deadline")
	fs.DurationVar(&c.readyTimeout, "ready-timeout", 2*time.Minute, "plugin ready timeout")
	fs.DurationVar(&c.wait, "wait", 25*time.Minute, "longest wait for the verdict")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return c, usageError("bridge-demo takes only flags")
	}
	for _, f := range []struct{ name, v string }{{"--bridge", c.bridge}, {"--plugin", c.plugin}, {"--src", c.src},
		{"--head", c.head}, {"--work", c.work}, {"--frontdoor", c.frontDoor}} {
		if f.v == "" {
			return c, usageError("bridge-demo needs " + f.name)
		}
	}
	return c, nil
}

// bridgeDemo runs one `!testme` the way a maintainer sees it: a signed webhook from the FAKE
// GitHub to the real cc-ci-bridge, which starts a build on the FAKE Drone, whose step is the real
// cc-ci-plugin on the recipe; then it prints what the PR received. It fails unless the PR's
// final status is success.
func bridgeDemo(ctx context.Context, args []string, out io.Writer) error {
	c, err := parseDemo(args)
	if err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	forge := fakeforge.New(demoBot)
	forge.AddMember("coop-cloud", demoMember)
	forge.AddPR(fakeforge.PR{Repo: demoRepo, Number: c.pr, Open: true, HeadSHA: c.head, HeadRef: "feature",
		Author: "contributor", Title: "Upgrade to 2.1.0", CloneURL: c.src})
	github := fakegithub.New(forge, demoToken)
	defer github.Close()
	droneSrv := fakedrone.New(fakedrone.Config{Runner: c.runner(out), WebhookEndpoint: "http://" + addr + "/hooks/drone",
		WebhookSecret: demoDroneKey, BranchHeads: map[string]string{"main": forgehook.SHA("cc-ci main")},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	defer droneSrv.Close() // after the bridge: Close waits for a build a cancel is tearing down

	fmt.Fprintf(out, "FAKE GitHub (test double, internal/testkit/fakegithub): %s, PR %s#%d at %s\n", github.URL, demoRepo, c.pr, short(c.head))
	fmt.Fprintf(out, "FAKE Drone  (test double, internal/testkit/fakedrone):  %s, its step runs the REAL %s\n", droneSrv.URL, c.plugin)
	b, err := startDemoBridge(ctx, c, addr, github.URL, droneSrv.URL)
	if err != nil {
		return err
	}
	defer b.stop()
	fmt.Fprintf(out, "REAL cc-ci-bridge: http://%s (log: %s)\n", addr, b.logPath)

	comment := forge.AddComment(demoRepo, c.pr, demoMember, "Looks good to me, let's see it run.\n\n!testme\n")
	d := forgehook.GitHubComment(forgehook.CommentParams{Repo: demoRepo, PR: c.pr, CommentID: comment.ID,
		Body: comment.Body, Author: demoMember, CloneURL: c.src, Time: comment.Created})
	fmt.Fprintf(out, "\n%s comments on the PR:\n%s\nPOST http://%s/hooks/github (X-GitHub-Event: %s, X-Hub-Signature-256 signed)\n",
		demoMember, indent(comment.Body), addr, d.Event)
	status, ack, err := deliver(ctx, d.Request("http://"+addr+"/hooks/github", []byte(demoHookKey)))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "webhook answered: HTTP %d %s in %s\n\n", status, http.StatusText(status), ack.Round(10*time.Microsecond))
	if status != http.StatusAccepted {
		return fmt.Errorf("the bridge refused the webhook (HTTP %d); see %s", status, b.logPath)
	}

	waitCtx, cancel := context.WithTimeout(ctx, c.wait)
	defer cancel()
	select {
	case <-b.verdict:
	case <-b.done:
		return fmt.Errorf("the bridge exited before the verdict; see %s", b.logPath)
	case <-waitCtx.Done():
		printPR(out, forge, c, comment.ID)
		return fmt.Errorf("no verdict on the PR within %s (%w); see %s", c.wait, context.Cause(waitCtx), b.logPath)
	}
	final := printPR(out, forge, c, comment.ID)
	if c.dashboard != "" {
		// While the FAKE Drone still answers: the dashboard reads its builds and the runs dir.
		if err := renderDashboard(ctx, c, droneSrv.URL, out); err != nil {
			return err
		}
	}
	if final != "success" {
		return fmt.Errorf("the PR's verdict is %q, not success", final)
	}
	return nil
}

// runner is the FAKE Drone's step: the real plugin as drone-runner-exec runs cc-ci's exec
// pipeline. The host paths are the runner's environment, the recipe, ref and PR come from the
// bridge's build params; PATH is this process's, as the exec runner passes its own PATH (so the
// FAKE abra that demo.sh put first stays first). The step's output goes to the build log and to
// out, line by line.
func (c demoConfig) runner(out io.Writer) fakedrone.Runner {
	step := fakedrone.ExecConfig{
		Bin: c.plugin,
		Env: []string{
			"CCCI_APP_LOCK_DIR=" + filepath.Join(c.work, "lock"),
			"CCCI_RUNS_DIR=" + filepath.Join(c.work, "runs"),
			"CCCI_ABRA_DIR=" + filepath.Join(c.work, "abra"),
			"CCCI_OVERLAYS_DIR=" + c.overlays,
			"CCCI_DOMAIN_SUFFIX=" + c.suffix,
			"CCCI_FRONTDOOR_URL=" + c.frontDoor,
			"CCCI_STEP_TIMEOUT=" + c.stepTimeout.String(),
			"CCCI_READY_TIMEOUT=" + c.readyTimeout.String(),
			"CCCI_DEADLINE=" + c.deadline.String(),
		},
	}.Runner()
	return func(ctx context.Context, b drone.Build, log io.Writer) (int, error) {
		prefix := fmt.Sprintf("  [FAKE Drone build #%d] ", b.Number)
		fmt.Fprintf(out, "%sstep cc-ci: %s with %s\n", prefix, c.plugin, params(b.Params))
		pw := &prefixWriter{w: out, prefix: prefix}
		code, err := step(ctx, b, io.MultiWriter(log, pw))
		pw.flush()
		fmt.Fprintf(out, "%sstep exited %d\n", prefix, code)
		return code, err
	}
}

// demoBridge is the running cc-ci-bridge; its log goes to a file, and verdict is closed when it
// logs that a verdict is posted.
type demoBridge struct {
	cmd     *exec.Cmd
	logPath string
	verdict chan struct{}
	done    chan struct{}
}

func startDemoBridge(ctx context.Context, c demoConfig, addr, githubURL, droneURL string) (*demoBridge, error) {
	if err := os.MkdirAll(c.work, 0o755); err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	enrol := filepath.Join(c.work, "enrolment.yml")
	if err := os.WriteFile(enrol, []byte("github:\n  - repo: "+demoRepo+"\n    recipe: "+c.recipe+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("write enrolment: %w", err)
	}
	store := filepath.Join(c.work, "bridge.db")
	_ = os.Remove(store) // a fresh queue: an earlier demo's requests are not this one's
	b := &demoBridge{logPath: filepath.Join(c.work, "bridge.log"), verdict: make(chan struct{}), done: make(chan struct{})}
	logf, err := os.Create(b.logPath)
	if err != nil {
		return nil, fmt.Errorf("bridge log: %w", err)
	}
	b.cmd = exec.Command(c.bridge)
	b.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"CCCI_BRIDGE_LISTEN=" + addr,
		"CCCI_BRIDGE_STORE=" + store,
		"CCCI_ENROLMENT=" + enrol,
		"CCCI_GITHUB_API=" + githubURL,
		"CCCI_GITHUB_TOKEN=" + demoToken,
		"CCCI_GITHUB_WEBHOOK_SECRET=" + demoHookKey,
		"CCCI_DRONE_SERVER=" + droneURL,
		"CCCI_DRONE_TOKEN=" + fakedrone.DefaultToken,
		"CCCI_DRONE_REPO=" + demoDroneRepo,
		"CCCI_DRONE_WEBHOOK_SECRET=" + demoDroneKey,
		"CCCI_RUNS_DIR=" + filepath.Join(c.work, "runs"),
		"CCCI_LOG_FORMAT=json",
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("bridge log pipe: %w", err)
	}
	b.cmd.Stdout, b.cmd.Stderr = pw, pw
	err = b.cmd.Start()
	_ = pw.Close()
	if err != nil {
		_ = pr.Close()
		_ = logf.Close()
		return nil, fmt.Errorf("start %s: %w", c.bridge, err)
	}
	go b.watch(pr, logf)
	if err := b.healthy(ctx, addr); err != nil {
		b.stop()
		return nil, err
	}
	return b, nil
}

// watch copies the bridge's log to its file until the bridge exits, closing verdict at the
// first "verdict posted" line.
func (b *demoBridge) watch(pr, logf *os.File) {
	defer close(b.done)
	defer func() { _ = logf.Close() }()
	defer func() { _ = pr.Close() }()
	var once sync.Once
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		_, _ = logf.Write(append(sc.Bytes(), '\n'))
		if strings.Contains(sc.Text(), verdictPosted) {
			once.Do(func() { close(b.verdict) })
		}
	}
	_ = b.cmd.Wait()
}

// healthy waits until the bridge answers /healthz; it polls, an external process offers no
// event.
func (b *demoBridge) healthy(ctx context.Context, addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the bridge did not answer /healthz in 30s; see %s", b.logPath)
		}
		select {
		case <-b.done:
			return fmt.Errorf("the bridge exited at start:\n%s", tail(b.logPath))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop is SIGTERM, as systemd stops the service, then SIGKILL after 30 s.
func (b *demoBridge) stop() {
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		_ = b.cmd.Process.Kill()
	}
	select {
	case <-b.done:
	case <-time.After(30 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
	}
}

// deliver posts the webhook and times the answer.
func deliver(ctx context.Context, req *http.Request) (int, time.Duration, error) {
	begin := time.Now()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return 0, 0, fmt.Errorf("post the webhook: %w", err)
	}
	ack := time.Since(begin)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, ack, nil
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

// tail is the end of the file at path, for an error message.
func tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return string(data[max(0, len(data)-4096):])
}

func short(sha string) string { return sha[:min(len(sha), 7)] }

// params renders build params as KEY=value, sorted, for the step's first log line.
func params(p map[string]string) string {
	parts := make([]string, 0, len(p))
	for _, k := range slices.Sorted(maps.Keys(p)) {
		parts = append(parts, k+"="+strconv.Quote(p[k]))
	}
	return strings.Join(parts, " ")
}
