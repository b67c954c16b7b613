package run

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"coopcloud.tech/cc-ci/internal/abra"
	"coopcloud.tech/cc-ci/internal/applock"
	"coopcloud.tech/cc-ci/internal/recipe"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/rundir"
	"coopcloud.tech/cc-ci/internal/swarm"
	"coopcloud.tech/cc-ci/plugin/ladder"
)

// runner holds one run's state. The teardown funnel may run on the signal goroutine while
// execute is still going, so everything it reads is behind mu.
type runner struct {
	s       *Settings
	stdout  io.Writer
	log     *slog.Logger
	started time.Time
	clock   *clock
	abra    *abra.Client // for the time spent inside abra

	mu        sync.Mutex
	out       io.Writer // stdout, plus log.txt once the run dir exists
	logFile   *os.File
	dir       *rundir.Dir
	lock      *applock.Lock
	docker    *swarm.Client
	res       *results.Results
	appMaybe  bool // app new may have run: teardown must look at the swarm
	completed bool // the ladder returned; otherwise the run was aborted
	code      int  // exit code when the run could not produce a verdict (2 or 3); 0 = from verdict
}

func newRunner(s *Settings, stdout io.Writer, logger *slog.Logger) *runner {
	return &runner{s: s, stdout: stdout, out: stdout, log: logger, started: time.Now(), clock: newClock()}
}

func (r *runner) printf(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.out, format, a...)
}

// execute prepares the run (dir, lock, checkout, docker) and climbs the ladder. Every early
// return records why in results.json; the caller runs the teardown funnel afterwards.
func (r *runner) execute(ctx context.Context) {
	s := r.s
	id := rundir.RunID(func(k string) string {
		if k == "DRONE_BUILD_NUMBER" {
			return s.BuildNumber
		}
		return os.Getenv(k)
	}, os.Getpid())
	dir, err := rundir.Create(s.RunsDir, s.AbraDir, id)
	if err != nil {
		r.abort(3, "create run dir: %v (fix: make CCCI_RUNS_DIR and CCCI_ABRA_DIR writable)", err)
		return
	}
	r.begin(dir)
	r.printf("==> cc-ci run %s: recipe %s at %s (PR %s), app %s\n", id, s.Recipe, s.Ref, orNone(s.PR), s.Domain())
	r.printf("    run dir %s, ABRA_DIR %s\n", dir.Root, dir.AbraDir)

	if err := os.MkdirAll(filepath.Join(s.AbraDir, "servers", s.Server), 0o755); err != nil {
		r.abort(3, "prepare abra server dir: %v", err)
		return
	}
	r.printf("==> [%7.1fs] LOCK     waiting for app lock %s\n", r.elapsed(), applock.Path(s.LockDir, s.Domain()))
	lock, err := applock.Acquire(ctx, s.LockDir, s.Domain(), applock.Options{Logger: r.log})
	if err != nil {
		r.abort(3, "acquire app lock: %v", err)
		return
	}
	r.mu.Lock()
	r.lock = lock
	r.mu.Unlock()

	r.printf("==> [%7.1fs] FETCH    %s at %s\n", r.elapsed(), s.Src, s.Ref)
	recipeDir := dir.RecipeDir(s.Recipe)
	fetchStart := time.Now()
	head, err := recipe.Fetch(ctx, s.Src, recipeDir, s.Ref)
	r.clock.since("git", fetchStart)
	if err != nil {
		r.abort(2, "fetch recipe: %v", err)
		return
	}
	docker, err := swarm.New(ctx)
	if err != nil {
		r.abort(3, "docker: %v", err)
		return
	}
	r.mu.Lock()
	r.docker = docker
	r.appMaybe = true
	r.mu.Unlock()

	l := r.ladder(dir, recipeDir, head, docker)
	outcome := l.Run(ctx)

	r.mu.Lock()
	defer r.mu.Unlock()
	r.completed = true
	r.res.Tiers = outcome.Tiers
	r.res.UpgradeBase = outcome.UpgradeBase
	r.res.Deploys = outcome.Deploys
	r.res.FailureExcerpt = outcome.FailureExcerpt
}

// ladder wires the ladder to the real abra, swarm, git checkout and the overlay's data probe.
func (r *runner) ladder(dir *rundir.Dir, recipeDir, head string, docker *swarm.Client) *ladder.Ladder {
	s := r.s
	env := r.hookEnv(dir, recipeDir)
	ab := &abra.Client{Bin: s.AbraBin, Env: env, Dir: recipeDir, Out: r.out, Masker: abra.NewMasker(), Timeout: s.StepTimeout, Logger: r.log}
	timed := &http.Client{Timeout: 10 * time.Second, CheckRedirect: ladder.NoRedirects,
		Transport: timedTransport{rt: http.DefaultTransport, clock: r.clock}}
	l := &ladder.Ladder{
		Config: ladder.Config{
			Recipe: s.Recipe, Domain: s.Domain(), Stack: s.Stack(), Server: s.Server,
			RecipeDir: recipeDir, Head: head, FrontDoor: s.FrontDoor, StepTimeout: s.StepTimeout, ReadyTimeout: s.ReadyTimeout,
		},
		Abra:  ab,
		Swarm: timedSwarm{c: docker, clock: r.clock},
		Git:   gitCheckout{dir: recipeDir, clock: r.clock},
		HTTP:  timed,
		Out:   r.out,
	}
	if probe := r.overlayProbe(env, recipeDir); probe != nil {
		l.Data = timedProbe{p: probe, clock: r.clock}
	}
	r.abra = ab
	return l
}

// overlayProbe returns the data probe declared by the recipe's overlay, recording it in the
// manifest, or nil when there is none.
func (r *runner) overlayProbe(env []string, recipeDir string) *ladder.HookProbe {
	if r.s.OverlaysDir == "" {
		r.printf("    overlays in effect: none (generic ladder)\n")
		return nil
	}
	hooks := filepath.Join(r.s.OverlaysDir, r.s.Recipe, "hooks")
	w, rd := filepath.Join(hooks, "data-write"), filepath.Join(hooks, "data-read")
	if !executable(w) || !executable(rd) {
		r.printf("    overlays in effect: none in %s (generic ladder)\n", filepath.Join(r.s.OverlaysDir, r.s.Recipe))
		return nil
	}
	r.mu.Lock()
	r.res.Manifest["data-probe"] = hooks
	r.mu.Unlock()
	r.printf("    overlays in effect: data probe %s/{data-write,data-read}\n", hooks)
	return &ladder.HookProbe{WritePath: w, ReadPath: rd, Env: env, Dir: recipeDir, Timeout: time.Minute}
}

func (r *runner) hookEnv(dir *rundir.Dir, recipeDir string) []string {
	return append(dir.Environ(os.Environ()),
		"CCCI_DOMAIN="+r.s.Domain(), "CCCI_STACK="+r.s.Stack(), "CCCI_RECIPE="+r.s.Recipe,
		"CCCI_RECIPE_DIR="+recipeDir, "CCCI_FRONTDOOR="+r.s.FrontDoor, "CCCI_RUN_DIR="+dir.Root)
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func (r *runner) elapsed() float64 { return time.Since(r.started).Seconds() }
