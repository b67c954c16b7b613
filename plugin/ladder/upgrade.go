package ladder

import (
	"context"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/internal/results"
)

// upgrade moves the live deployment to the PR head with a chaos deploy and proves it moved: the
// chaos-version label names the head, the swarm converged without a rollback, the app still
// answers as itself, and the datum written before the upgrade is still there.
func (l *Ladder) upgrade(ctx context.Context, hasBase bool, baseReason string) *tier {
	t := l.newTier(results.TierUpgrade)
	if !hasBase {
		t.skip(baseReason)
		l.banner("UPGRADE", "skip: %s", baseReason)
		return t
	}
	if !l.checkoutHead(ctx, t) {
		return t
	}
	l.banner("UPGRADE", "abra app deploy --chaos at %s", short(l.Head))
	sctx, cancel := l.step(ctx)
	l.deployedAt = time.Now()
	err := l.Abra.Deploy(sctx, l.Domain, "", true)
	cancel()
	if err != nil {
		t.callFailed(ctx, "chaos deploy", err)
		return t
	}
	t.pass("chaos deploy", "deployed %s", short(l.Head))
	if !l.converged(ctx, t, "converged without rollback") {
		return t
	}
	if !l.chaosLabelIsHead(ctx, t) {
		return t
	}
	if !l.serving(ctx, t) {
		return t
	}
	if l.verify(ctx, t, "data survives upgrade", keyInstall,
		"the datum written before the upgrade is gone after upgrading to the PR head: the upgrade loses data (check volume names and mount paths)") {
		l.stable(ctx, t)
	}
	return t
}

// chaosLabelIsHead proves the deployment runs the PR head: abra labels a chaos deploy with the
// short commit it deployed, "+U" when the tree had uncommitted changes.
func (l *Ladder) chaosLabelIsHead(ctx context.Context, t *tier) bool {
	key := "coop-cloud." + l.Stack + ".chaos-version"
	got, err := l.label(ctx, key)
	if err != nil {
		t.unverified("chaos-version label: %v", err)
		return false
	}
	switch {
	case got == "":
		t.fail("chaos-version label", "no %s label after the chaos deploy: the deployment did not move to the PR head", key)
		return false
	case strings.HasSuffix(got, "+U"):
		t.fail("chaos-version label", "%s=%s: abra deployed a dirty tree, not the exact PR head", key, got)
		return false
	case len(got) < 7 || !strings.HasPrefix(l.Head, got):
		t.fail("chaos-version label", "%s=%s does not name the PR head %s", key, got, short(l.Head))
		return false
	}
	t.pass("chaos-version label", "%s=%s", key, got)
	return true
}

func short(sha string) string {
	if len(sha) > 8 {
		return sha[:8]
	}
	return sha
}
