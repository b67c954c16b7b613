package ladder

import (
	"context"
	"fmt"

	"coopcloud.tech/cc-ci/internal/recipe"
	"coopcloud.tech/cc-ci/internal/results"
)

// liftUpgrade says what would let an upgrade be proven.
const liftUpgrade = "publish a release (an annotated tag X.Y.Z+upstream) that is an ancestor of the PR head, or set CCCI_UPGRADE_BASE to a release or commit to upgrade from"

// upgrade is what an existing operator does: an app installed at the base, holding data, moved
// to the PR head with a chaos deploy after adding what the head introduces (secrets, env keys).
// It proves the deployment moved (chaos-version label), converged without a rollback, still
// answers as itself, and kept its data (the generic floor's volume markers and the overlay's
// datum). It returns the upgraded app, the tier, and what the upgrade needed.
func (l *Ladder) upgrade(ctx context.Context, base recipe.Base, hasBase bool) (*app, *tier, []string) {
	t := l.newTier(results.TierUpgrade)
	if !hasBase {
		l.gap(t, "no upgrade base: "+base.Reason, liftUpgrade)
		l.banner("UPGRADE", "skip: %s", t.Reason)
		return nil, t, nil
	}
	a := l.newApp(results.RoleUpgrade, l.UpgradeDomain)
	what := base.Tag
	if what == "" {
		what = "commit " + short(base.Commit)
	}
	// The base is not under test: if it does not come up, the upgrade cannot be proven from it,
	// which is a gap, not the head's failure (a PR may be the fix for a broken release).
	b := l.newSubTier(t)
	if !l.installBase(ctx, b, a, base) {
		if b.Status == results.Fail {
			l.gap(t, fmt.Sprintf("the upgrade base %s does not come up (%s): no upgrade can be proven from it", what, b.Reason),
				"fix the release "+what+", or set CCCI_UPGRADE_BASE to a release that deploys")
		} else {
			t.absorb(b)
		}
		t.Checks = append(t.Checks, b.Checks...)
		// Backup and restore then run on the fresh app, whose recipe is the head: put it back.
		l.checkoutRef(ctx, t, l.Head)
		return a, t, nil
	}
	t.Checks = append(t.Checks, b.Checks...)
	t.Warnings = append(t.Warnings, b.Warnings...)
	if !l.markData(ctx, t, a) {
		return a, t, nil
	}

	if !l.checkoutRef(ctx, t, l.Head) {
		return a, t, nil
	}
	needs, ok := l.addWhatTheHeadNeeds(ctx, t, a)
	if !ok {
		return a, t, needs
	}
	if !l.deploy(ctx, t, a, "chaos deploy", "", "the PR head "+short(l.Head)+" (chaos)") ||
		!l.converged(ctx, t, a, "converged without rollback") ||
		!l.chaosLabelIs(ctx, t, a, l.Head, "the PR head") ||
		!l.serving(ctx, t, a) ||
		!l.checkData(ctx, t, a) {
		return a, t, needs
	}
	l.stable(ctx, t, a)
	return a, t, needs
}

// installBase creates a at the base and deploys it there, proving it came up.
func (l *Ladder) installBase(ctx context.Context, t *tier, a *app, base recipe.Base) bool {
	if base.Tag != "" {
		return l.create(ctx, t, a, base.Tag, false) &&
			l.configure(ctx, t, a) &&
			l.deploy(ctx, t, a, "deploy base", base.Tag, base.Tag) &&
			l.converged(ctx, t, a, "base converged") &&
			l.labelEquals(ctx, t, a, "base version label", "coop-cloud."+a.Stack+".version", base.Tag) &&
			l.serving(ctx, t, a)
	}
	what := "the default branch's tip " + short(base.Commit)
	return l.checkoutRef(ctx, t, base.Commit) &&
		l.create(ctx, t, a, "", true) &&
		l.configure(ctx, t, a) &&
		l.deploy(ctx, t, a, "deploy base", "", what+" (chaos)") &&
		l.converged(ctx, t, a, "base converged") &&
		l.chaosLabelIs(ctx, t, a, base.Commit, what) &&
		l.serving(ctx, t, a)
}

// markData writes the generic floor's marker into every named volume and the overlay's datum,
// before the upgrade.
func (l *Ladder) markData(ctx context.Context, t *tier, a *app) bool {
	if a.floor != nil {
		n, err := a.floor.MarkVolumes(ctx)
		switch {
		case err != nil:
			floorFailed(ctx, t, "mark volumes", "the app's volumes did not take a marker", err)
			return false
		case n == 0:
			t.skipCheck("mark volumes", "the stack has no named volume: no data to carry across")
		default:
			t.pass("mark volumes", "wrote a random marker into %d named volume(s)", n)
		}
		a.volumes = n
	}
	return l.seed(ctx, t, a, keyInstall)
}

// checkData proves the markers and the datum written before the upgrade are still there.
func (l *Ladder) checkData(ctx context.Context, t *tier, a *app) bool {
	if a.floor != nil && a.seededVolumes() {
		if err := a.floor.CheckVolumes(ctx); err != nil {
			floorFailed(ctx, t, "volumes survive upgrade", "the upgrade loses data (check volume names and mount paths)", err)
			return false
		}
		t.pass("volumes survive upgrade", "every named volume's marker is back after the upgrade")
	}
	return l.verify(ctx, t, a, "data survives upgrade", keyInstall,
		"the datum written before the upgrade is gone after upgrading to the PR head: the upgrade loses data (check volume names and mount paths)")
}
