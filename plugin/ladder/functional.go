package ladder

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"coopcloud.tech/cc-ci/internal/results"
)

// liftFunctional says what would let the FUNCTIONAL tier run.
const liftFunctional = "declare what the app must do in the recipe's overlay (recipes/<recipe>/cc-ci.yml): " +
	"http_checks, browser_checks or tests (docs/overlays.md)"

// ScreenshotFile is the landing-page screenshot taken once INSTALL is healthy.
const ScreenshotFile = "screenshot.png"

// screenshotTimeout bounds the best-effort landing screenshot, browser start included.
const screenshotTimeout = time.Minute

// functional runs the overlay's HTTP checks, browser checks and custom tests against the live
// app (the upgraded one when the upgrade was proven). With none declared the tier is a gap: the
// generic page check of INSTALL proves the app answers, not that it works.
func (l *Ladder) functional(ctx context.Context, a *app) *tier {
	t := l.newTier(results.TierFunctional)
	if !l.Overlay.HasFunctional() {
		l.gap(t, "no functional checks are declared for this recipe", liftFunctional)
		l.banner(t.Name, "skip: %s", t.Reason)
		return t
	}
	if l.Check == nil {
		t.unverified("this run cannot execute functional checks (no checker wired)")
		return t
	}
	cfg := l.Overlay.Config
	for _, c := range cfg.HTTPChecks {
		l.banner(t.Name, "HTTP check %q: %s %s", c.Name, methodOr(c.Method), c.Path)
		row := l.Check.HTTP(ctx, a.Domain, c)
		t.outcome(ctx, row.Status, "http: "+c.Name, row.Detail)
	}
	for _, c := range cfg.BrowserChecks {
		l.banner(t.Name, "browser check %q (%d steps)", c.Name, len(c.Steps))
		l.absorbOutcome(ctx, t, "browser: "+c.Name, l.Check.Browser(ctx, a.Domain, c))
	}
	for _, c := range cfg.Tests {
		l.banner(t.Name, "test %q: %s", c.Name, c.Run)
		l.absorbOutcome(ctx, t, "test: "+c.Name, l.Check.Exec(ctx, a.Domain, c.Name, l.Overlay.Path(c.Run), c.Args, c.Timeout.D()))
	}
	return t
}

// absorbOutcome folds one check's outcome and its rows into t.
func (l *Ladder) absorbOutcome(ctx context.Context, t *tier, name string, o CheckOutcome) {
	for _, row := range o.Checks {
		row.Name = name + ": " + row.Name
		t.Checks = append(t.Checks, row)
	}
	if t.excerpt == "" && o.Status != results.Pass {
		t.excerpt = o.Excerpt
	}
	detail := o.Reason
	if o.Status == results.Pass && detail == "" {
		detail = "passed"
	}
	t.outcome(ctx, o.Status, name, detail)
}

// outcome records one check whose status was decided elsewhere. A failure outranks an earlier
// unverified check (the recipe demonstrably did something wrong); a check that did not pass
// while the run was being aborted is unverified, whatever it said; anything but pass or fail
// (a check that skipped itself) is unverified, since it proved nothing.
func (t *tier) outcome(ctx context.Context, s results.Status, name, detail string) {
	if s == results.Pass {
		t.pass(name, "%s", detail)
		return
	}
	if ctx.Err() != nil {
		s, detail = results.Unverified, fmt.Sprintf("run aborted (%v): %s", context.Cause(ctx), detail)
	}
	if s != results.Fail {
		s = results.Unverified
	}
	t.Checks = append(t.Checks, results.Check{Name: name, Status: s, Detail: detail})
	if t.Status == results.Pass || (s == results.Fail && t.Status == results.Unverified) {
		t.Status, t.Reason = s, name+": "+detail
	}
}

// screenshot saves the landing page of a healthy app, best-effort: a browser that cannot start
// changes no verdict, it only leaves the run without a picture.
func (l *Ladder) screenshot(ctx context.Context, a *app) {
	if l.Check == nil {
		return
	}
	l.banner("INSTALL", "landing-page screenshot of %s", a.Domain)
	sctx, cancel := context.WithTimeout(ctx, screenshotTimeout)
	defer cancel()
	path, err := l.Check.Screenshot(sctx, a.Domain, ScreenshotFile)
	if err != nil {
		l.banner("INSTALL", "no screenshot (best-effort, the verdict does not change): %v", err)
		return
	}
	l.arts["screenshot"] = l.artifact(path)
}

// artifact names path relative to the artifacts dir when it is inside it.
func (l *Ladder) artifact(path string) string {
	if l.ArtifactsDir != "" {
		if rel, err := filepath.Rel(l.ArtifactsDir, path); err == nil && filepath.IsLocal(rel) {
			return rel
		}
	}
	return path
}

func methodOr(m string) string {
	if m == "" {
		return "GET"
	}
	return m
}
