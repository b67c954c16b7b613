package container

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drone/drone-go/drone"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/rundir"
	"coopcloud.tech/cc-ci/internal/swarm"
	"coopcloud.tech/cc-ci/internal/testkit"
	"coopcloud.tech/cc-ci/internal/testkit/dronecfg"
)

// productionImage is the image .drone.yml names; the tests run testkit.PluginImage in its place.
const productionImage = "cc-ci-plugin:local"

// The container side of the host dirs (DESIGN.md 3, as .drone.yml mounts them; the dronecfg
// contract test holds .drone.yml to these).
const (
	lockDir = "/run/lock/cc-ci"
	runsDir = "/var/lib/cc-ci/runs"
	abraDir = "/var/lib/cc-ci/abra"
)

// overlaysMount is where a test's own overlays dir is mounted, as a runner volume.
const overlaysMount = "/ccci-test-overlays"

// host is one case's share of the machine: the host side of the lock, runs and abra dirs, and a
// domain suffix no other case uses, so that a janitor pass of one case never sees another's stacks.
type host struct{ testkit.Host }

func newHost(t *testing.T, suffix string) host {
	return host{testkit.NewHost(t.TempDir(), suffix)}
}

// build is one recipe-test build as the bridge starts it.
type build struct {
	number int64
	rec    testkit.Recipe
	src    string // the recipe's clone URL on the git server
	pr     string
	// overlays, when set, is mounted as the runner's overlays dir instead of the image's.
	overlays string
}

// newBuild generates the good sample recipe on the git server for build number n and PR pr.
func newBuild(t *testing.T, n int64, pr string) build {
	t.Helper()
	dir := filepath.Join(env.gitRoot, "b"+strconv.FormatInt(n, 10))
	rec, err := testkit.MakeRecipe(filepath.Join(dir, testkit.RecipeName), testkit.Good)
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return build{number: n, rec: rec, pr: pr, src: env.gitURL + "/b" + strconv.FormatInt(n, 10) + "/" + testkit.RecipeName}
}

func (b build) domain(h host) string {
	return naming.Domain(testkit.RecipeName, b.pr, b.rec.Head, h.Suffix)
}
func (b build) upgradeDomain(h host) string {
	return naming.UpgradeDomain(testkit.RecipeName, b.pr, b.rec.Head, h.Suffix)
}

// params are the build params of bridge/trigger/start.go.
func (b build) params() map[string]string {
	return map[string]string{"CCCI_RECIPE": testkit.RecipeName, "CCCI_REPO": "coop-cloud/sample",
		"CCCI_SRC": b.src, "CCCI_REF": b.rec.Head, "CCCI_PR": b.pr, "CCCI_MODE": "cold", "CCCI_FORGE": "gitea",
		"CCCI_REQUEST": "gitea/coop-cloud/sample#" + b.pr + "/c1"}
}

// resultsFile is where the run's results.json lands on the host.
func (b build) resultsFile(h host) string {
	return rundir.ResultsFile(h.RunsDir, rundir.DroneRunID(uint64(b.number)))
}

var (
	pipelineOnce sync.Once
	pipeline     *dronecfg.Pipeline
	pipelineErr  error
)

// recipeTest is the repo's recipe-test pipeline.
func recipeTest(t *testing.T) *dronecfg.Pipeline {
	t.Helper()
	pipelineOnce.Do(func() {
		var root string
		if root, pipelineErr = testkit.RepoRoot(context.Background()); pipelineErr != nil {
			return
		}
		var f *dronecfg.File
		if f, pipelineErr = dronecfg.Load(filepath.Join(root, ".drone.yml")); pipelineErr != nil {
			return
		}
		pipeline, pipelineErr = f.Pipeline("recipe-test")
	})
	require.NoError(t, pipelineErr)
	return pipeline
}

func randomID(t *testing.T) string {
	b := make([]byte, 10)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return "drone-" + hex.EncodeToString(b)
}

// container is the recipe-test step's container for b on h, as Drone's docker runner creates
// it, with the test image and the host dirs moved to h.
func container(t *testing.T, h host, b build) *dronecfg.Container {
	t.Helper()
	r := dronecfg.Run{
		System: drone.System{Proto: "https", Host: "drone.ci.example", Version: "2.26.0"},
		Repo: drone.Repo{Namespace: "coop-cloud", Name: "cc-ci", Slug: "coop-cloud/cc-ci", SCM: "git",
			Branch: "main", Trusted: true, Timeout: 90, HTTPURL: "https://git.example/coop-cloud/cc-ci.git"},
		Build: drone.Build{Number: b.number, Event: "custom", Trigger: "cc-ci-bridge", Target: "main", Source: "main",
			Ref: "refs/heads/main", After: strings.Repeat("c", 40), Params: b.params()},
		Stage:      drone.Stage{Name: "recipe-test", Kind: "pipeline", Type: "docker", Number: 1, OS: "linux", Arch: "amd64", Machine: "ci1"},
		StepNumber: 1,
		// The runner host's DRONE_RUNNER_ENVIRON: this machine's front door and suffix, and
		// waits short enough that a hang fails the test rather than the suite.
		RunnerEnviron: map[string]string{"CCCI_DOMAIN_SUFFIX": h.Suffix, "CCCI_FRONTDOOR_URL": env.frontDoor,
			"CCCI_STEP_TIMEOUT": "4m", "CCCI_READY_TIMEOUT": "20s"},
		WorkspaceVolume: randomID(t),
		NetworkID:       randomID(t),
	}
	if b.overlays != "" {
		r.RunnerVolumes = map[string]string{b.overlays: overlaysMount + ":ro"}
		r.RunnerEnviron["CCCI_OVERLAYS_DIR"] = overlaysMount
	}
	c, err := recipeTest(t).Container("cc-ci", r)
	require.NoError(t, err)
	require.Equal(t, productionImage, c.Image)
	c.Image = testkit.PluginImage
	moved := map[string]string{lockDir: h.LockDir, runsDir: h.RunsDir, abraDir: h.AbraDir}
	for i, m := range c.Mounts {
		switch {
		case !m.Bind || m.Target == "/var/run/docker.sock" || strings.HasPrefix(m.Name, "runner:"):
		case moved[m.Target] != "":
			require.Equal(t, m.Target, m.Source, "a host dir is mounted at its own path")
			c.Mounts[i].Source = moved[m.Target]
			delete(moved, m.Target)
		default:
			t.Fatalf(".drone.yml mounts host path %s, which this test does not move to a temp dir: extend it", m.Source)
		}
	}
	require.Empty(t, moved, "the step mounts every host dir")
	for _, d := range []string{h.LockDir, h.RunsDir, h.AbraDir} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	out, err := exec.Command("docker", "volume", "create", r.WorkspaceVolume).CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Cleanup(func() { _ = exec.Command("docker", "volume", "rm", "-f", r.WorkspaceVolume).Run() })
	return c
}

// step is the running recipe-test step: its container and its log, line by line.
type step struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd

	mu      sync.Mutex
	out     strings.Builder
	ended   bool          // the log reached EOF: the container is gone
	changed chan struct{} // a line was logged or the log ended (capacity 1, never blocks)
	exited  chan struct{} // closed once `docker run` has returned
}

// startStep starts b's step on h and returns at once.
func startStep(t *testing.T, h host, b build) *step {
	t.Helper()
	c := container(t, h, b)
	s := &step{t: t, name: "ccci-e2e-" + randomID(t), changed: make(chan struct{}, 1), exited: make(chan struct{})}
	args, err := c.DockerRunArgs(s.name)
	require.NoError(t, err)
	s.cmd = exec.Command("docker", args...)
	rd, pw, err := os.Pipe()
	require.NoError(t, err)
	s.cmd.Stdout, s.cmd.Stderr = pw, pw
	require.NoError(t, s.cmd.Start())
	require.NoError(t, pw.Close())
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = exec.Command("docker", "rm", "--force", s.name).Run()
		select {
		case <-s.exited:
		case <-time.After(time.Minute):
			t.Errorf("docker run %s did not return after the container was removed", s.name)
		}
		if t.Failed() || os.Getenv("DEBUG_E2E") != "" {
			t.Logf("step log:\n%s", s.output())
		}
	})
	go func() {
		defer rd.Close()
		sc := bufio.NewScanner(rd)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			s.mu.Lock()
			s.out.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			s.notify()
		}
		s.mu.Lock()
		s.ended = true
		s.mu.Unlock()
		s.notify()
	}()
	return s
}

func (s *step) notify() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *step) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// awaitLine waits until a line containing every word has been logged.
func (s *step) awaitLine(within time.Duration, words ...string) {
	s.t.Helper()
	timeout := time.After(within)
	for {
		s.mu.Lock()
		log, ended := s.out.String(), s.ended
		s.mu.Unlock()
		for line := range strings.SplitSeq(log, "\n") {
			if containsAll(line, words) {
				return
			}
		}
		if ended {
			require.FailNow(s.t, "the step ended before logging the line", "want a line with %q:\n%s", words, log)
		}
		select {
		case <-s.changed:
		case <-timeout:
			require.FailNow(s.t, "no such line in the step's log", "want a line with %q within %s:\n%s", words, within, log)
		}
	}
}

func containsAll(line string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(line, w) {
			return false
		}
	}
	return true
}

// exitCode waits for the container to end and returns its exit code, as Drone reads it
// (ContainerWait, then State.ExitCode).
func (s *step) exitCode(within time.Duration) int {
	s.t.Helper()
	select {
	case <-s.exited:
	case <-time.After(within):
		require.FailNow(s.t, "the step did not end", "within %s:\n%s", within, s.output())
	}
	out, err := exec.Command("docker", "inspect", "--format", "{{.State.ExitCode}}", s.name).Output()
	require.NoError(s.t, err)
	code, err := strconv.Atoi(strings.TrimSpace(string(out)))
	require.NoError(s.t, err)
	return code
}

// assertPluginIsPID1 checks, while the step runs, that the container's first process is the
// plugin itself: no init, no shell in between.
func (s *step) assertPluginIsPID1() {
	s.t.Helper()
	out, err := exec.Command("docker", "inspect", "--format", "{{.State.Pid}} {{.HostConfig.Init}}", s.name).Output()
	require.NoError(s.t, err)
	fields := strings.Fields(string(out))
	require.Len(s.t, fields, 2)
	assert.NotEqual(s.t, "true", fields[1], "no --init: Drone's runner sets none")
	status, err := os.ReadFile(filepath.Join("/proc", fields[0], "status"))
	require.NoError(s.t, err)
	var nspid string
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "NSpid:"); ok {
			nspid = rest
		}
	}
	ids := strings.Fields(nspid)
	require.NotEmpty(s.t, ids)
	assert.Equal(s.t, "1", ids[len(ids)-1], "the container's first process is PID 1 in its namespace")
	cmdline, err := os.ReadFile(filepath.Join("/proc", fields[0], "cmdline"))
	require.NoError(s.t, err)
	assert.Equal(s.t, testkit.ImagePluginPath, strings.Split(string(cmdline), "\x00")[0], "PID 1 is the plugin")
}

// janitorPass runs ONE pass of the real janitor binary on h (on the host, as its systemd timer
// does) and returns its JSON log lines.
func janitorPass(t *testing.T, h host) []map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.janitor, "--log-format", "json")
	cmd.Env = append(os.Environ(), "CCCI_APP_LOCK_DIR="+h.LockDir, "CCCI_ABRA_DIR="+h.AbraDir,
		"CCCI_DOMAIN_SUFFIX="+h.Suffix, "CCCI_DEADLINE=60m")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "janitor pass failed:\n%s\n%s", out, stderr.String())
	var lines []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		var e map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &e), "janitor log line %q", line)
		lines = append(lines, e)
	}
	return lines
}

// residue lists what of stack is on the swarm.
func residue(t *testing.T, stack string) swarm.TeardownReport {
	t.Helper()
	c, err := swarm.New(t.Context())
	require.NoError(t, err)
	defer c.Close()
	r, err := c.Residue(t.Context(), stack)
	require.NoError(t, err)
	return r
}

// readResults reads the run's results.json from the host's runs dir.
func readResults(t *testing.T, h host, b build, log string) *results.Results {
	t.Helper()
	res, err := results.ReadFile(b.resultsFile(h))
	require.NoError(t, err, "the run writes results.json to the mounted runs dir:\n%s", log)
	return res
}
