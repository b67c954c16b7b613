package ladder

import (
	"context"
	"fmt"
	"time"

	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/internal/results"
)

// keyWarm is the data probe's key for the datum the warm app carries from run to run.
const keyWarm = "ccci-warm"

// liftQuick says what proves the tiers a quick run leaves out.
const liftQuick = "comment `!testme` for a cold run: only it installs, backs up and restores, and only it counts as a merge gate"

// Warm is the long-lived warm-<recipe> app a quick run reuses: where it is, which commit it
// runs, and the data seeded into it when it was created (proven to survive each quick run).
type Warm struct {
	Domain string            `json:"domain"`
	Ref    string            `json:"ref"`
	Seeded map[string]string `json:"seeded,omitempty"`
}

// WarmResult is what a run did to the warm app, for the caller to record or clean up: Keep
// (write Warm as the new state) or Broken (remove the app and its state: it is in an unknown
// condition). Note says what happened, for the log and the summary.
type WarmResult struct {
	Warm   Warm
	Keep   bool
	Broken bool
	Note   string
}

// RunQuick is a quick run (`!testme --quick`): the warm app is upgraded to the head as an
// operator's upgrade would be, its data is proven to survive, and FUNCTIONAL and LINT run on it.
// On a pass it stays as the warm app at the head; otherwise it is put back to its last-known-good
// state (the commit it ran, and a snapshot taken just before, when the recipe declares backups).
// Install, backup and restore are not run: they are gaps, so a quick run never reaches a level
// that a cold run would have to prove.
func (l *Ladder) RunQuick(ctx context.Context, w Warm) (Outcome, WarmResult) {
	l.start = time.Now()
	l.arts = map[string]string{}
	var out Outcome
	add := l.adder(&out)
	defer l.banner("DONE", "quick run finished")

	add(l.notRun(results.TierInstall))
	a := &app{role: results.RoleWarm, Domain: w.Domain, Stack: naming.Stack(w.Domain), seeded: map[string]string{}}
	for k, v := range w.Seeded {
		a.seeded[k] = v
	}
	l.apps = append(l.apps, a)
	t := l.newTier(results.TierUpgrade)
	snapshot := l.lastKnownGood(ctx, t, a)
	ok := l.checkoutRef(ctx, t, l.Head)
	if ok {
		var needs []string
		needs, ok = l.addWhatTheHeadNeeds(ctx, t, a)
		out.UpgradeBase = results.UpgradeBase{Commit: w.Ref, Reason: "quick run: the warm app " + w.Domain + " at " + short(w.Ref), Needs: needs}
	}
	ok = ok &&
		l.deploy(ctx, t, a, "chaos deploy", "", "the PR head "+short(l.Head)+" (chaos)") &&
		l.converged(ctx, t, a, "converged without rollback") &&
		l.chaosLabelIs(ctx, t, a, l.Head, "the PR head") &&
		l.serving(ctx, t, a)
	if _, seeded := a.seeded[keyWarm]; ok && !seeded {
		t.skipCheck("warm data survives", "the warm app was created without a data probe: no datum to find again")
	} else if ok {
		l.verify(ctx, t, a, "warm data survives", keyWarm, "the datum the warm app has held since it was created is gone after upgrading it to the PR head: the upgrade loses data")
	}
	l.stable(ctx, t, a)
	add(t)
	add(l.notRun(results.TierBackup), l.notRun(results.TierRestore))
	if t.ok() {
		f := l.functional(ctx, a)
		add(f)
		if climbing(f) {
			add(l.lint(ctx))
		} else {
			add(notReached(results.TierFunctional, results.TierLint)...)
		}
	} else {
		add(notReached(results.TierUpgrade, results.TierFunctional, results.TierLint)...)
	}
	out = l.finish(out)
	if results.Verdict(out.Tiers) == results.VerdictPass {
		return out, WarmResult{Warm: Warm{Domain: w.Domain, Ref: l.Head, Seeded: w.Seeded}, Keep: true,
			Note: "the warm app now runs " + short(l.Head)}
	}
	if ctx.Err() != nil {
		// The run is being aborted: the teardown funnel removes the warm app, whose state is now
		// unknown; nothing may start here that it would race.
		return out, WarmResult{Warm: w, Broken: true, Note: "the run was aborted mid-way; the warm app is removed, and the next quick run falls back to a cold run"}
	}
	return out, l.putBack(ctx, a, w, snapshot)
}

// lastKnownGood takes a snapshot of the warm app before it is touched, when the recipe declares
// backups, so a failed quick run can put its data back. "" means there is none (the put-back
// then only redeploys the commit the app ran).
func (l *Ladder) lastKnownGood(ctx context.Context, t *tier, a *app) string {
	declared, err := l.backupServices(ctx, a)
	if err != nil || len(declared) == 0 {
		t.skipCheck("last-known-good snapshot", "the recipe declares no backups: a failed quick run can only redeploy the commit the warm app ran")
		return ""
	}
	sctx, cancel := l.step(ctx)
	snapshot, err := l.Abra.BackupCreate(sctx, a.Domain)
	cancel()
	if err != nil {
		t.skipCheck("last-known-good snapshot", fmt.Sprintf("no snapshot before the upgrade (%v): a failed quick run can only redeploy the commit the warm app ran", err))
		return ""
	}
	t.pass("last-known-good snapshot", "snapshot %s of the warm app before the upgrade", snapshot)
	return snapshot
}

// putBack returns the warm app to the commit it ran and, when there is one, the snapshot taken
// before this run: a warm app left half-upgraded would poison every later quick run. If it
// cannot be put back, the caller removes it.
func (l *Ladder) putBack(ctx context.Context, a *app, w Warm, snapshot string) WarmResult {
	l.banner("WARM", "putting %s back to %s", a.Domain, short(w.Ref))
	t := l.newSubTier(&tier{Tier: results.Tier{Name: "warm"}})
	ok := l.checkoutRef(ctx, t, w.Ref) &&
		l.deploy(ctx, t, a, "redeploy", "", "the warm app's last good commit "+short(w.Ref)+" (chaos)") &&
		l.converged(ctx, t, a, "converged")
	if ok && snapshot != "" {
		sctx, cancel := l.step(ctx)
		err := l.Abra.Restore(sctx, a.Domain, snapshot)
		cancel()
		ok = err == nil && l.converged(ctx, t, a, "converged after restore")
	}
	ok = ok && l.serving(ctx, t, a)
	l.checkoutRef(ctx, t, l.Head)
	if !ok {
		return WarmResult{Warm: w, Broken: true, Note: fmt.Sprintf("the warm app could not be put back to %s (%s): it is removed, and the next quick run falls back to a cold run", short(w.Ref), t.Reason)}
	}
	what := "its last good commit " + short(w.Ref)
	if snapshot != "" {
		what += " and snapshot " + snapshot
	}
	return WarmResult{Warm: w, Keep: true, Note: "the quick run failed; the warm app was put back to " + what}
}

// CreateWarm creates the warm app after a green cold run (a quick run that found none): the
// head installed fresh as warm-<recipe>, proven to serve, and seeded with a datum that every
// later quick run must find again. It is not a tier: the cold run's verdict is already decided.
func (l *Ladder) CreateWarm(ctx context.Context, domain string) WarmResult {
	a := l.newApp(results.RoleWarm, domain)
	l.banner("WARM", "creating the warm app %s at %s for later quick runs", domain, short(l.Head))
	t := l.newSubTier(&tier{Tier: results.Tier{Name: "warm"}})
	ok := l.checkoutRef(ctx, t, l.Head) && l.create(ctx, t, a, "", true) && l.configure(ctx, t, a) &&
		l.deploy(ctx, t, a, "deploy", "", "the PR head "+short(l.Head)+" (chaos)") &&
		l.converged(ctx, t, a, "converged") && l.serving(ctx, t, a)
	if ok && l.Data != nil {
		ok = l.seed(ctx, t, a, keyWarm)
	}
	if !ok {
		return WarmResult{Broken: true, Note: "the warm app could not be created (" + t.Reason + "); it is removed, and the next quick run falls back to a cold run again"}
	}
	seeded := map[string]string{}
	if v, found := a.seeded[keyWarm]; found {
		seeded[keyWarm] = v
	}
	return WarmResult{Warm: Warm{Domain: domain, Ref: l.Head, Seeded: seeded}, Keep: true,
		Note: "created the warm app " + domain + " at " + short(l.Head) + "; the next `!testme --quick` reuses it"}
}

// notRun is a tier a quick run leaves out: a gap (never declared), so the level stays honest.
func (l *Ladder) notRun(name string) *tier {
	t := &tier{Tier: results.Tier{Name: name, Status: results.Skip, Checks: []results.Check{},
		Reason: "quick run: not run (the warm app was installed by an earlier cold run)", Lift: liftQuick}, started: time.Now()}
	return t
}
