package ladder

import (
	"context"
	"errors"
	"time"

	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/swarm"
)

// seedKeys are the data probe's keys; values are random per run.
const (
	keyInstall  = "ccci-install"
	keyBackup   = "ccci-backup"
	keyMutation = "ccci-after-backup"
)

// install creates the app once and deploys it ONCE at the upgrade base (or, with no base, at the
// head), then proves it converged, answers as itself through the front door, and holds a datum.
func (l *Ladder) install(ctx context.Context, baseTag string, hasBase bool) *tier {
	t := l.newTier(results.TierInstall)
	if !l.preflight(t) {
		return t
	}
	version := ""
	if hasBase {
		version = baseTag
	}
	l.banner("INSTALL", "abra app new %s %s (domain %s)", l.Recipe, version, l.Domain)
	sctx, cancel := l.step(ctx)
	err := l.Abra.AppNew(sctx, l.Recipe, version, l.Server, l.Domain)
	cancel()
	if err != nil {
		t.callFailed(ctx, "app new", err)
		return t
	}
	t.pass("app new", "created %s", l.Domain)

	what := "the PR head (chaos: no published release to start from)"
	if hasBase {
		what = baseTag
	} else if !l.checkoutHead(ctx, t) {
		return t
	}
	l.banner("INSTALL", "abra app deploy %s", what)
	sctx, cancel = l.step(ctx)
	l.deployedAt = time.Now()
	err = l.Abra.Deploy(sctx, l.Domain, version, !hasBase)
	cancel()
	if err != nil {
		t.callFailed(ctx, "deploy", err)
		return t
	}
	t.pass("deploy", "deployed %s", what)

	if !l.converged(ctx, t, "converged") {
		return t
	}
	if hasBase && !l.labelEquals(ctx, t, "version label", "coop-cloud."+l.Stack+".version", baseTag) {
		return t
	}
	if !hasBase && !l.chaosLabelIsHead(ctx, t) {
		return t
	}
	if !l.serving(ctx, t) {
		return t
	}
	if l.seed(ctx, t, keyInstall) {
		l.stable(ctx, t)
	}
	return t
}

// stable fails the tier when a task of the current deployment failed after it converged: a
// service that crashes every few seconds must not pass because the probes landed while it was up.
func (l *Ladder) stable(ctx context.Context, t *tier) {
	if !t.ok() {
		return
	}
	if err := l.Swarm.CheckStable(ctx, l.Stack, l.deployedAt); err != nil {
		var se *swarm.StabilityError
		if errors.As(err, &se) {
			t.fail("stayed up", "%v", err)
			return
		}
		t.unverified("stayed up: %v", err)
		return
	}
	t.pass("stayed up", "no task of %s failed since the deploy", l.Stack)
}

// checkoutHead puts the recipe checkout back at the PR head. abra app new without a version
// checks out the newest release (or the default branch), so a chaos deploy right after it would
// deploy that instead of the commit under test.
func (l *Ladder) checkoutHead(ctx context.Context, t *tier) bool {
	if _, err := l.Git.Checkout(ctx, l.Head); err != nil {
		t.unverified("check out the PR head %s: %v", l.Head, err)
		return false
	}
	return true
}

// converged waits for every service to run its desired replicas, failing fast on a crash loop or
// a swarm rollback.
func (l *Ladder) converged(ctx context.Context, t *tier, check string) bool {
	l.banner(t.Name, "waiting for %s to converge", l.Stack)
	sctx, cancel := l.step(ctx)
	defer cancel()
	err := l.Swarm.WaitConverged(sctx, l.Stack, swarm.WaitOptions{Timeout: l.StepTimeout, CrashThreshold: 3, Since: l.deployedAt})
	if err != nil {
		t.convergeFailed(ctx, check, err)
		return false
	}
	t.pass(check, "all services of %s running", l.Stack)
	return true
}

// labelEquals checks a deploy label on the recipe's services (abra puts its version labels on
// the app service; any service carrying the label counts, all that carry it must agree).
func (l *Ladder) labelEquals(ctx context.Context, t *tier, check, key, want string) bool {
	got, err := l.label(ctx, key)
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

func (l *Ladder) label(ctx context.Context, key string) (string, error) {
	labels, err := l.Swarm.ServiceLabels(ctx, l.Stack)
	if err != nil {
		return "", err
	}
	found := ""
	for _, ls := range labels {
		if v, ok := ls[key]; ok {
			if found != "" && v != found {
				return "", errorf("services of %s disagree on label %s (%q vs %q)", l.Stack, key, found, v)
			}
			found = v
		}
	}
	return found, nil
}
