package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"coopcloud.tech/cc-ci/internal/abra"
	"coopcloud.tech/cc-ci/internal/applock"
	"coopcloud.tech/cc-ci/internal/canonical"
	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/internal/recipe"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/rundir"
	"coopcloud.tech/cc-ci/internal/swarm"
	"coopcloud.tech/cc-ci/plugin/ladder"
	"coopcloud.tech/cc-ci/plugin/ladder/floor"
	"coopcloud.tech/cc-ci/plugin/overlay"
)

// runner holds one run's state. The teardown funnel may run on the signal goroutine while
// execute is still going, so everything it reads is behind mu.
type runner struct {
	s       *Settings
	out     *logWriter // the Drone log: stdout, plus log.txt once the run dir exists
	log     *slog.Logger
	started time.Time
	clock   *clock
	masker  *abra.Masker // every secret value seen; applied to results before they are written
	// step is held by whatever abra call is in flight; the teardown funnel takes it (and keeps
	// it), so it never races a deploy that is still creating services, and no call starts after.
	step chan struct{}

	mu        sync.Mutex
	runCtx    context.Context // its cause says why an aborted run ended
	dir       *rundir.Dir
	locks     []*applock.Lock // one per app domain, in Settings.Domains order
	docker    *swarm.Client
	abra      *abra.Client
	res       *results.Results
	tiers     []results.Tier // decided so far, for an aborted run's results
	completed bool           // the ladder returned; otherwise the run was aborted
	warmBusy  bool           // the warm app is being changed: an abort must remove it
	code      int            // exit code when the run could not produce a verdict (2 or 3); 0 = from verdict
}

func newRunner(s *Settings, stdout io.Writer, logger *slog.Logger) *runner {
	return &runner{s: s, out: &logWriter{stdout: stdout}, log: logger, started: time.Now(), clock: newClock(),
		masker: abra.NewMasker(), step: make(chan struct{}, 1)}
}

func (r *runner) printf(format string, a ...any) { fmt.Fprintf(r.out, format, a...) }

func (r *runner) elapsed() float64 { return time.Since(r.started).Seconds() }

// execute prepares the run (dir, lock, checkout, docker) and climbs the ladder. Every early
// return records why in results.json; the caller runs the teardown funnel afterwards.
func (r *runner) execute(ctx context.Context) {
	s := r.s
	r.mu.Lock()
	r.runCtx = ctx
	r.mu.Unlock()
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
	r.printf("==> cc-ci run %s: recipe %s at %s (PR %s), apps %s (fresh) and %s (upgrade)\n", id, s.Recipe, s.Ref, orNone(s.PR), s.Domain(), s.UpgradeDomain())
	r.printf("    run dir %s, ABRA_DIR %s\n", dir.Root, dir.AbraDir)
	if err := os.MkdirAll(filepath.Join(s.AbraDir, "servers", s.Server), 0o755); err != nil {
		r.abort(3, "prepare abra server dir: %v", err)
		return
	}
	if !r.prepare(ctx, dir) {
		return
	}
	recipeDir := dir.RecipeDir(s.Recipe)
	r.printf("==> [%7.1fs] FETCH    %s at %s\n", r.elapsed(), s.Src, s.Ref)
	fetchStart := time.Now()
	head, err := recipe.Fetch(ctx, s.Src, recipeDir, s.Ref)
	r.clock.since("git", fetchStart)
	if err != nil {
		r.abort(fetchExitCode(s.Src, err), "fetch recipe: %v", err)
		return
	}

	// A released version under test is named in the manifest (the bridge's regression line).
	if v, verr := recipe.VersionAt(ctx, recipeDir, head); verr == nil && v != "" {
		r.mu.Lock()
		r.res.Manifest["version"] = v
		r.mu.Unlock()
	}

	ov, err := overlay.Resolve(overlay.Options{Root: s.OverlaysDir, Recipe: s.Recipe, Checkout: recipeDir, CopyTo: filepath.Join(dir.Root, "overlay")})
	for _, n := range ov.Notes {
		r.printf("    overlay: %s\n", n)
	}
	if err != nil {
		r.abort(2, "%v (fix the overlay; nothing was deployed)", err)
		return
	}
	g, err := newGuard(s, r.clock)
	if err != nil {
		r.abort(2, "%v (fix the operator's allowances; nothing was deployed)", err)
		return
	}
	l := r.ladder(dir, recipeDir, head, ov)
	l.Guard = g
	var outcome ladder.Outcome
	if s.Mode == ModeQuick {
		outcome = r.runQuick(ctx, l)
	} else {
		outcome = l.Run(ctx)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.completed = true
	r.res.Tiers = outcome.Tiers
	r.res.UpgradeBase = outcome.UpgradeBase
	r.res.Deploys = outcome.Deploys
	r.res.Apps = outcome.Apps
	r.res.FailureExcerpt = outcome.FailureExcerpt
	for k, v := range outcome.Artifacts {
		r.res.Artifacts[k] = v
	}
	r.res.Allowances = outcome.Allowances
}

// prepare takes both apps' locks (always in the same order, so two runs of one PR and ref
// cannot deadlock), connects to Docker, checks the infrastructure, and removes leftovers of an
// earlier run of the same apps (a SIGKILLed run the janitor has not reaped yet), so they cannot
// fail this one.
func (r *runner) prepare(ctx context.Context, dir *rundir.Dir) bool {
	s := r.s
	locks := s.Domains()
	if s.Mode == ModeQuick {
		// The warm app is shared by every quick run of the recipe: one at a time.
		locks = append(locks, s.WarmDomain())
	}
	for _, domain := range locks {
		r.printf("==> [%7.1fs] LOCK     app lock %s\n", r.elapsed(), applock.Path(s.LockDir, domain))
		lock, err := applock.Acquire(ctx, s.LockDir, domain, applock.Options{Logger: r.log})
		if err != nil {
			r.abort(3, "acquire app lock: %v", err)
			return false
		}
		r.mu.Lock()
		r.locks = append(r.locks, lock)
		r.mu.Unlock()
	}
	docker, err := swarm.New(ctx)
	if err != nil {
		r.abort(3, "docker: %v", err)
		return false
	}
	r.mu.Lock()
	r.docker = docker
	r.mu.Unlock()
	if err := r.checkInfra(ctx); err != nil {
		r.abort(3, "the CI infrastructure cannot run the ladder, nothing was deployed: %v", err)
		return false
	}
	for _, domain := range s.Domains() {
		start := time.Now()
		report, err := docker.Teardown(ctx, naming.Stack(domain), dir.AppEnvPath(s.Server, domain))
		r.clock.since("docker", start)
		if err != nil {
			r.abort(3, "remove leftovers of an earlier run of %s: %v", domain, err)
			return false
		}
		if !report.Empty() {
			r.printf("    removed leftovers of an earlier run of %s: %s\n", domain, strings.Join(residueNames(report, nil), ", "))
		}
	}
	return true
}

// fetchExitCode: an unknown ref or a local source that does not exist is bad input (2);
// anything else (network, disk, git) is infrastructure (3).
func fetchExitCode(src string, err error) int {
	if errors.Is(err, recipe.ErrUnknownRef) {
		return 2
	}
	if !strings.Contains(src, "://") && !strings.Contains(src, "@") {
		if _, serr := os.Stat(src); errors.Is(serr, os.ErrNotExist) {
			return 2
		}
	}
	return 3
}

// ladder wires the ladder to the real abra, swarm, git checkout, the generic data floor and the
// overlay's data probe.
func (r *runner) ladder(dir *rundir.Dir, recipeDir, head string, ov overlay.Overlay) *ladder.Ladder {
	s := r.s
	env := r.childEnv(dir, recipeDir)
	stepTimeout, readyTimeout := s.StepTimeout, s.ReadyTimeout
	if d := ov.Config.Timeouts.Deploy.D(); d > 0 {
		stepTimeout = d
	}
	if d := ov.Config.Timeouts.HTTP.D(); d > 0 {
		readyTimeout = d
	}
	ab := &abra.Client{Bin: s.AbraBin, Env: env, Dir: recipeDir, Out: r.out, Masker: r.masker, Timeout: stepTimeout, Logger: r.log}
	r.mu.Lock()
	r.abra = ab
	docker := r.docker
	r.mu.Unlock()
	l := &ladder.Ladder{
		Config: ladder.Config{
			Recipe: s.Recipe, FreshDomain: s.Domain(), UpgradeDomain: s.UpgradeDomain(), Server: s.Server,
			ServerDir: filepath.Join(dir.AbraDir, "servers", s.Server),
			RecipeDir: recipeDir, Head: head, FrontDoor: s.FrontDoor, StepTimeout: stepTimeout, ReadyTimeout: readyTimeout,
			Overlay: ov, ArtifactsDir: dir.Root,
		},
		Abra:  &stepAbra{c: ab, step: r.step},
		Swarm: timedSwarm{c: docker, clock: r.clock},
		Git:   gitCheckout{dir: recipeDir, override: s.UpgradeBase, canonical: r.canonicalVersion(), clock: r.clock},
		HTTP:  r.httpClient(),
		Floor: func(stack string) ladder.DataFloor {
			return timedFloor{f: &floor.Floor{Docker: docker, Stack: stack, Out: r.out}, clock: r.clock}
		},
		Check:  r.newChecker(dir, env),
		Out:    r.out,
		OnTier: r.tierDecided,
	}
	r.printOverlay(ov)
	if probe := r.overlayProbe(env, recipeDir, ov); probe != nil {
		l.Data = timedProbe{p: probe, clock: r.clock}
	}
	return l
}

// canonicalVersion is the recipe's last green canonical, for the base chain ("" when none or
// unreadable: the chain then goes on to the newest release, and the log says why).
func (r *runner) canonicalVersion() string {
	rec, ok, err := canonical.Read(r.s.RunsDir, r.s.Recipe)
	switch {
	case err != nil:
		r.printf("    canonical: %v\n", err)
	case ok:
		r.printf("    canonical: last green %s (run %s, level %d)\n", rec.Version, rec.RunID, rec.Level)
		return rec.Version
	}
	return ""
}

// httpClient is the front-door client: timed as "http", never following redirects itself (the
// ladder judges each), and for an https front door checking the certificate against each app's
// own name.
func (r *runner) httpClient() *http.Client {
	base := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: ladder.NoRedirects,
		Transport: timedTransport{rt: &ladder.HostTLS{Base: base}, clock: r.clock}}
}

// printOverlay prints the overlay in effect and records it in the manifest.
func (r *runner) printOverlay(ov overlay.Overlay) {
	r.printf("    overlay in effect: %s\n", ov.Summary())
	if ov.Dir == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Manifest["overlay"] = ov.Dir
	r.res.Manifest["overlay-source"] = ov.Source
	if ov.File != "" {
		r.res.Manifest["overlay-config"] = ov.File
	}
	if t := ov.Config.Timeouts; t.Deploy > 0 || t.HTTP > 0 {
		r.res.Manifest["overlay-timeouts"] = fmt.Sprintf("deploy %s, http %s", orDefault(t.Deploy.D(), r.s.StepTimeout), orDefault(t.HTTP.D(), r.s.ReadyTimeout))
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (r *runner) tierDecided(t results.Tier) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tiers = append(r.tiers, t)
}

// overlayProbe returns the data probe declared by the recipe's overlay, recording it in the
// manifest, or nil when there is none.
func (r *runner) overlayProbe(env []string, recipeDir string, ov overlay.Overlay) *ladder.HookProbe {
	if ov.Dir == "" {
		return nil
	}
	hooks := filepath.Join(ov.Dir, "hooks")
	w, rd := filepath.Join(hooks, "data-write"), filepath.Join(hooks, "data-read")
	if !executable(w) || !executable(rd) {
		r.printf("    overlay data probe: none (the generic data floor only)\n")
		return nil
	}
	r.mu.Lock()
	r.res.Manifest["overlay"] = ov.Dir
	r.res.Manifest["data-probe"] = hooks
	r.mu.Unlock()
	r.printf("    overlay data probe: hooks/{data-write,data-read}, in addition to the generic data floor\n")
	return &ladder.HookProbe{WritePath: w, ReadPath: rd, Env: env, Dir: recipeDir, Timeout: time.Minute}
}

// childEnv is the environment of every child of the run (abra, the data hooks, the overlay's
// tests and install_steps.sh), built from an explicit list: the run's CCCI_* values, ABRA_DIR,
// and what a tool needs to run (PATH, HOME, locale, the Docker endpoint). Nothing else of the
// runner's environment, its secrets among them, reaches code next to a PR's compose files.
func (r *runner) childEnv(dir *rundir.Dir, recipeDir string) []string {
	env := []string{"ABRA_DIR=" + dir.AbraDir, "CCCI_RECIPE=" + r.s.Recipe, "CCCI_RECIPE_DIR=" + recipeDir,
		"CCCI_FRONTDOOR=" + r.s.FrontDoor, "CCCI_RUN_DIR=" + dir.Root, "CCCI_REF=" + r.s.Ref, "CCCI_MODE=" + r.s.Mode}
	for _, k := range childEnvKeys {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// childEnvKeys are the runner's variables a child may see.
var childEnvKeys = []string{"PATH", "HOME", "USER", "TMPDIR", "LANG", "LC_ALL", "TZ",
	"DOCKER_HOST", "DOCKER_API_VERSION", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY"}

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
