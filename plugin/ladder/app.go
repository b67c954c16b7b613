package ladder

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/swarm"
)

// app is one of the run's apps and what the ladder knows of its latest deploy.
type app struct {
	role   string // results.RoleFresh or results.RoleUpgrade
	Domain string
	Stack  string
	// deployedAt is the start of the latest deploy, convergedAt when it was judged converged:
	// a task failing after convergedAt fails the tier, one failing before is a reported restart.
	deployedAt  time.Time
	convergedAt time.Time
	// redeploy deploys the latest deploy's files again: set by deploy, used (once) by converged
	// when the engine failed to start a container of it, nil otherwise.
	redeploy func(ctx context.Context) error
	seeded   map[string]string
	floor    DataFloor
	volumes  int // named volumes the floor marked before the upgrade
}

func (a *app) seededVolumes() bool { return a.volumes > 0 }

// newApp registers one of the run's apps (so the deploy-count guard sees it even when its
// creation fails).
func (l *Ladder) newApp(role, domain string) *app {
	a := &app{role: role, Domain: domain, Stack: naming.Stack(domain), seeded: map[string]string{}}
	if l.Floor != nil {
		a.floor = l.Floor(a.Stack)
	}
	l.apps = append(l.apps, a)
	return a
}

// create runs `abra app new` for a, once: at version, or with chaos at the checked-out commit.
func (l *Ladder) create(ctx context.Context, t *tier, a *app, version string, chaos bool) bool {
	l.banner(t.Name, "abra app new %s %s (%s app %s)", l.Recipe, version, a.role, a.Domain)
	sctx, cancel := l.step(ctx)
	err := l.Abra.AppNew(sctx, l.Recipe, version, l.Server, a.Domain, chaos)
	cancel()
	if err != nil {
		t.callFailed(ctx, "app new", err)
		return false
	}
	t.pass("app new", "created %s", a.Domain)
	return true
}

// deploy deploys a at version, or with chaos at the checked-out commit, once the guard has
// judged what it would run.
func (l *Ladder) deploy(ctx context.Context, t *tier, a *app, check, version, what string) bool {
	chaos := version == ""
	// A release is deployed from its tag, which `abra app new <recipe> <version>` checked out:
	// the guard reads the same files abra is about to deploy.
	if !l.guarded(ctx, t, a, what) {
		return false
	}
	l.banner(t.Name, "abra app deploy %s %s", a.Domain, what)
	a.redeploy = func(ctx context.Context) error {
		sctx, cancel := l.step(ctx)
		defer cancel()
		a.deployedAt = time.Now()
		return l.Abra.Deploy(sctx, a.Domain, version, chaos)
	}
	if err := a.redeploy(ctx); err != nil {
		a.redeploy = nil
		t.callFailed(ctx, check, err)
		return false
	}
	t.pass(check, "deployed %s", what)
	return true
}

// guarded asks the guard about the configuration a's deploy would run: a refused construct
// fails the tier before anything is deployed, naming what to change or how an operator allows it.
func (l *Ladder) guarded(ctx context.Context, t *tier, a *app, what string) bool {
	if l.Guard == nil {
		return true
	}
	g, err := l.Guard.Check(ctx, l.RecipeDir, l.envPath(a), a.Stack)
	switch {
	case err != nil:
		t.fail("policy", "the configuration of %s could not be checked before deploying: %v", what, err)
		return false
	case len(g.Refused) > 0:
		t.fail("policy", "refused before deploying %s: %s", what, strings.Join(g.Refused, "; "))
		return false
	}
	allowed := g.Allowed
	for _, al := range allowed {
		if !slices.Contains(l.allowed, al) {
			l.allowed = append(l.allowed, al)
		}
	}
	t.pass("policy", "nothing the policy refuses in %s%s", what, allowedNote(len(allowed)))
	if len(g.Limits) > 0 {
		l.banner(t.Name, "resource limits: %s", strings.Join(g.Limits, "; "))
	}
	return true
}

func allowedNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d construct(s) allowed by the operator)", n)
}

// converged waits for every service of a to run its desired replicas, failing fast on a crash
// loop, a swarm rollback or an image that cannot be pulled. Restarts before convergence (an app
// that started before its database: swarm ignores depends_on) are reported as warnings.
//
// When the engine failed to start a container of the latest deploy (a known engine bug: the task
// never ran the recipe's code), the same files are deployed once more, as swarm would retry a
// task: a redeploy of unchanged files starts a paused or rolled-back update again. A second
// engine fault leaves the tier unverified.
func (l *Ladder) converged(ctx context.Context, t *tier, a *app, check string) bool {
	redeploy := a.redeploy
	a.redeploy = nil
	conv, err := l.waitConverged(ctx, t, a)
	if fault := swarm.EngineFaultOf(err); fault != "" && redeploy != nil && ctx.Err() == nil {
		l.banner(t.Name, "%s of %s (%s), not the recipe: deploying the same files again, once", swarm.EngineFaultWords, a.Stack, fault)
		t.Warnings = append(t.Warnings, fmt.Sprintf("%s of %s (%s); the same files were deployed again and this result is the second deploy's", swarm.EngineFaultWords, a.Stack, fault))
		if err := redeploy(ctx); err != nil {
			t.callFailed(ctx, check, err)
			return false
		}
		conv, err = l.waitConverged(ctx, t, a)
	}
	if err != nil {
		t.convergeFailed(ctx, check, err)
		return false
	}
	a.convergedAt = conv.At
	for _, r := range conv.Restarts {
		if r.EngineFault != "" {
			// Swarm restarted a task the engine never started: not a restart of the recipe's.
			l.banner(t.Name, "%s of %s (%s); swarm started it again", swarm.EngineFaultWords, r.Service, r.EngineFault)
			continue
		}
		t.Warnings = append(t.Warnings, fmt.Sprintf("service %s restarted before converging (exit %d: %s); reported, not failed: swarm ignores depends_on, so an app may start before what it needs",
			r.Service, r.ExitCode, r.Err))
	}
	t.pass(check, "all services of %s running", a.Stack)
	return true
}

// waitConverged is one wait for a's stack to converge since its latest deploy, bounded by a step.
func (l *Ladder) waitConverged(ctx context.Context, t *tier, a *app) (swarm.Convergence, error) {
	l.banner(t.Name, "waiting for %s to converge", a.Stack)
	sctx, cancel := l.step(ctx)
	defer cancel()
	return l.Swarm.WaitConvergedReport(sctx, a.Stack, swarm.WaitOptions{Timeout: l.StepTimeout, CrashThreshold: 3, Since: a.deployedAt})
}

// stable fails the tier when a task of a's current deployment failed after it converged: a
// service that crashes every few seconds must not pass because the probes landed while it was up.
func (l *Ladder) stable(ctx context.Context, t *tier, a *app) {
	if !t.ok() {
		return
	}
	since := a.convergedAt
	if since.IsZero() {
		since = a.deployedAt
	}
	if err := l.Swarm.CheckStable(ctx, a.Stack, since); err != nil {
		var se *swarm.StabilityError
		if errors.As(err, &se) {
			t.fail("stayed up", "%v", err)
			return
		}
		t.unverified("stayed up: %v", err)
		return
	}
	t.pass("stayed up", "no task of %s failed since it converged", a.Stack)
}

// checkoutRef puts the recipe checkout at ref (the PR head, or a base commit).
func (l *Ladder) checkoutRef(ctx context.Context, t *tier, ref string) bool {
	if _, err := l.Git.Checkout(ctx, ref); err != nil {
		t.unverified("check out %s: %v", short(ref), err)
		return false
	}
	return true
}

// labelEquals checks a deploy label on a's services (abra puts its version labels on the app
// service; any service carrying the label counts, all that carry it must agree).
func (l *Ladder) labelEquals(ctx context.Context, t *tier, a *app, check, key, want string) bool {
	got, err := l.label(ctx, a, key)
	if err != nil {
		t.unverified("%s: %v", check, err)
		return false
	}
	if got != want {
		t.fail(check, "label %s is %q, want %q: the deployment did not move to the version under test", key, got, want)
		return false
	}
	t.pass(check, "%s=%s", key, got)
	return true
}

func (l *Ladder) label(ctx context.Context, a *app, key string) (string, error) {
	labels, err := l.Swarm.ServiceLabels(ctx, a.Stack)
	if err != nil {
		return "", err
	}
	found := ""
	for _, ls := range labels {
		if v, ok := ls[key]; ok {
			if found != "" && v != found {
				return "", errorf("services of %s disagree on label %s (%q vs %q)", a.Stack, key, found, v)
			}
			found = v
		}
	}
	return found, nil
}

// chaosLabelIs proves a's deployment runs commit sha: abra labels a chaos deploy with the short
// commit it deployed, "+U" when the tree had uncommitted changes.
func (l *Ladder) chaosLabelIs(ctx context.Context, t *tier, a *app, sha, what string) bool {
	key := "coop-cloud." + a.Stack + ".chaos-version"
	got, err := l.label(ctx, a, key)
	if err != nil {
		t.unverified("chaos-version label: %v", err)
		return false
	}
	switch {
	case got == "":
		t.fail("chaos-version label", "no %s label after the chaos deploy: the deployment did not move to %s", key, what)
		return false
	case strings.HasSuffix(got, "+U"):
		t.fail("chaos-version label", "%s=%s: abra deployed a dirty tree, not exactly %s", key, got, what)
		return false
	case len(got) < 7 || !strings.HasPrefix(sha, got):
		t.fail("chaos-version label", "%s=%s does not name %s %s", key, got, what, short(sha))
		return false
	}
	t.pass("chaos-version label", "%s=%s", key, got)
	return true
}

// dataLoss is implemented by a data-floor error that is the recipe losing data (floor.LostError).
type dataLoss interface{ DataLost() bool }

// floorFailed classifies a data-floor error: lost data is the recipe's failure, anything else
// (the Docker API, no running container) is infrastructure.
func floorFailed(ctx context.Context, t *tier, check, lost string, err error) {
	var le dataLoss
	if errors.As(err, &le) && le.DataLost() {
		t.failOrAbort(ctx, check, "%s: %v", lost, err)
		return
	}
	t.unverified("%s: %v", check, err)
}

func short(sha string) string {
	if len(sha) > 8 {
		return sha[:8]
	}
	return sha
}

// gap marks t as a skip the ladder decided by itself, or as a declared skip when the overlay
// says the tier cannot apply (expected_na): only the latter holds the rung.
func (l *Ladder) gap(t *tier, reason, lift string) {
	if declared := l.Overlay.NotApplicable(t.Name); declared != "" {
		t.Status, t.Declared = results.Skip, true
		t.Reason = "declared not applicable in " + l.Overlay.File + ": " + declared + " (the ladder found: " + reason + ")"
		return
	}
	t.Status, t.Reason, t.Lift = results.Skip, reason, lift
}
