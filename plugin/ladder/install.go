package ladder

import (
	"context"

	"coopcloud.tech/cc-ci/internal/results"
)

// seedKeys are the data probe's keys; values are random per run.
const (
	keyInstall  = "ccci-install"
	keyBackup   = "ccci-backup"
	keyMutation = "ccci-after-backup"
)

// install is what a new operator does: create an app of the PR head and deploy it, fresh. It
// proves the head installs from nothing (an init script, a first-boot variable), converges,
// runs the head, answers as itself through the front door and stays up.
func (l *Ladder) install(ctx context.Context) (*app, *tier) {
	t := l.newTier(results.TierInstall)
	if !l.preflight(t) {
		return nil, t
	}
	a := l.newApp(results.RoleFresh, l.FreshDomain)
	// The head is checked out before app new, so the app's .env comes from the head's .env.sample.
	if !l.checkoutRef(ctx, t, l.Head) || !l.create(ctx, t, a, "", true) || !l.configure(ctx, t, a) {
		return a, t
	}
	l.pinnedImages(ctx, t, a)
	if !l.deploy(ctx, t, a, "deploy", "", "the PR head "+short(l.Head)+" (chaos)") ||
		!l.converged(ctx, t, a, "converged") ||
		!l.chaosLabelIs(ctx, t, a, l.Head, "the PR head") ||
		!l.serving(ctx, t, a) {
		return a, t
	}
	l.stable(ctx, t, a)
	if t.ok() {
		// Before any mutation: the page a new operator sees first.
		l.screenshot(ctx, a)
	}
	return a, t
}
