// Package browser runs the browser checks of the FUNCTIONAL tier (DESIGN.md 4, 5): a headless
// Debian chromium, driven through chromedp, works through a recipe maintainer's steps (visit,
// fill, click, wait for text, expect text, screenshot) against the live app, reached by its own
// domain through the CI's front door, exactly as a visitor's browser would reach it.
//
// Every check gets a fresh browser process with a fresh profile, so no cookie or cache carries
// from one check into the next. What the page shows reaches results only as clipped, quoted plain
// text; a failing step saves a full-page screenshot of the page as it was.
package browser

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/internal/results"
)

// Step actions.
const (
	ActionVisit      = "visit"       // open Path on the app and wait until it loaded
	ActionFill       = "fill"        // clear the field at Selector and type Text into it
	ActionClick      = "click"       // click Selector; a page load it starts is waited for
	ActionWaitText   = "wait_text"   // wait (up to the check's timeout) until Selector shows Text
	ActionExpectText = "expect_text" // Selector shows Text now (wait_text waits for what a script fills in later)
	ActionScreenshot = "screenshot"  // save a full-page PNG as File in the runner's OutDir
)

// Actions lists the step actions in the order the docs present them.
var Actions = []string{ActionVisit, ActionFill, ActionClick, ActionWaitText, ActionExpectText, ActionScreenshot}

// DefaultTimeout bounds a check's steps when the check sets no timeout.
const DefaultTimeout = 60 * time.Second

// Bounds of the parts of a run that the check's own timeout does not cover: they are the box's
// business, not the app's.
const (
	startTimeout         = 30 * time.Second // launch chromium and open its tab
	failShotTimeout      = 15 * time.Second // the screenshot of a failing page
	landingTimeout       = 45 * time.Second // Screenshot: load the landing page and capture it
	clickSettle          = 500 * time.Millisecond
	pollInterval         = 100 * time.Millisecond
	maxShotHeight        = 8000 // CSS pixels; a page taller than this is cut, not captured whole
	viewportW, viewportH = 1280, 800
	reservedShotName     = "screenshot.png" // the run dir's landing-page screenshot (DESIGN.md 3)
	failedShotSuffix     = "-failed.png"
	maxShownTextRunes    = 160
)

// Step is one thing the browser does or checks. Which fields an action takes is fixed (see
// Validate): visit takes Path; fill takes Selector and Text (the value to type); click takes
// Selector; wait_text and expect_text take Selector and Text (the text the element must show);
// screenshot takes File. Selectors are CSS selectors; the first matching element counts, and it
// must be visible. An element's text is its rendered text (a text field's value), compared with
// runs of white space collapsed. A visit, and a click that loads a page, pass only when the page
// is the app's own (same domain) and answered below HTTP 400.
type Step struct {
	Action   string
	Path     string // visit: a path on the app, starting with "/"
	Selector string
	Text     string
	File     string // screenshot: a plain file name ending in .png
}

// Check is one named browser flow. It runs in a browser of its own.
type Check struct {
	Name  string
	Steps []Step
	// Timeout bounds the steps, from the first visit to the last step (DefaultTimeout when 0).
	// Starting chromium has its own bound: a slow browser is not the app's fault.
	Timeout time.Duration
}

// Outcome is what one check proved.
type Outcome struct {
	// Status is results.Pass, results.Fail (the page did not do what a step says) or
	// results.Unverified (the browser could not run the check: chromium missing or crashed, the
	// front door unreachable, the run cancelled).
	Status results.Status
	Reason string
	// Checks hold one row per step, in order; steps after the one that ended the check are
	// recorded as skipped.
	Checks []results.Check
	// Screenshots are the paths of the PNGs this check saved (its screenshot steps, and the
	// failing page).
	Screenshots []string
}

// Runner runs browser checks through one front door. Its methods may be called concurrently.
type Runner struct {
	// Exec is the chromium binary; "" looks up chromium, then chromium-browser, in PATH.
	Exec string
	// FrontDoor is the base URL every app is reached through by its Host name: http://host:port
	// (chromium then uses it as its HTTP proxy) or https://host on port 443 (chromium then
	// resolves the app's domain to it, and checks the certificate against the app's domain).
	FrontDoor string
	// OutDir is where screenshots are written. It must exist.
	OutDir string
	// Out receives one progress line per step, for the Drone log; nil discards them.
	Out io.Writer
}

// Run runs c against the app at domain and returns what it proved. It never returns Pass unless
// every step ran and did what it says.
func (r *Runner) Run(ctx context.Context, domain string, c Check) Outcome {
	cr := &checkRun{Runner: r, name: plain(c.Name, 80), steps: c.Steps, timeout: c.Timeout}
	if cr.timeout <= 0 {
		cr.timeout = DefaultTimeout
	}
	cr.out.Checks = make([]results.Check, len(c.Steps))
	for i, s := range c.Steps {
		cr.out.Checks[i] = results.Check{Name: stepName(cr.name, i, s), Status: results.Skip, Detail: "not run"}
	}
	if err := Validate(c); err != nil {
		// The overlay loader validates at load time; a check that reaches here invalid was built
		// by code, not by a maintainer, so it is the CI's fault.
		return cr.unverified("%s", plain(err.Error(), 300))
	}
	if r.OutDir == "" {
		return cr.unverified("no screenshot directory configured")
	}
	l, err := r.prepare(ctx, domain)
	if err != nil {
		return cr.unverified("%s", plain(err.Error(), 400))
	}
	r.printf("    browser %q: %d steps against %s (timeout %s, %s)\n", cr.name, len(c.Steps), l.base, cr.timeout, l.exec)
	sess, err := l.start(ctx, r.printf)
	if err != nil {
		return cr.unverified("%s", plain(err.Error(), 400))
	}
	defer sess.close()
	sess.timeout = cr.timeout
	return cr.run(ctx, sess)
}

// checkRun is one check in progress: its outcome fills in step by step.
type checkRun struct {
	*Runner
	name    string
	steps   []Step
	timeout time.Duration
	out     Outcome
}

// run runs the steps in order, all within the check's timeout, and stops at the first that does
// not pass.
func (cr *checkRun) run(ctx context.Context, sess *session) Outcome {
	stepsCtx, cancel := context.WithTimeout(sess.ctx, cr.timeout)
	defer cancel()
	for i, s := range cr.steps {
		began := time.Now()
		detail, shot, err := cr.step(stepsCtx, sess, s)
		if shot != "" {
			cr.out.Screenshots = append(cr.out.Screenshots, shot)
		}
		took := time.Since(began).Round(10 * time.Millisecond)
		if err != nil {
			for j := i + 1; j < len(cr.steps); j++ {
				cr.out.Checks[j].Detail = fmt.Sprintf("not run: step %d did not pass", i+1)
			}
			return cr.stop(i, took, sess, verdictOf(ctx, sess, stepsCtx, err, cr.timeout))
		}
		cr.out.Checks[i].Status, cr.out.Checks[i].Detail = results.Pass, detail
		cr.printf("    [%d/%d] %s ... ok (%s): %s\n", i+1, len(cr.steps), describe(s), took, detail)
	}
	cr.out.Status = results.Pass
	cr.out.Reason = fmt.Sprintf("browser check %q: all %d steps passed", cr.name, len(cr.steps))
	return cr.out
}

// stop records step i's failure. Only a Fail gets a screenshot: an Unverified step has no page
// of the app's making to show.
func (cr *checkRun) stop(i int, took time.Duration, sess *session, v verdict) Outcome {
	s, row := cr.steps[i], &cr.out.Checks[i]
	if v.status == results.Unverified {
		row.Status, row.Detail = results.Unverified, v.detail
		cr.printf("    [%d/%d] %s ... UNVERIFIED (%s): %s\n", i+1, len(cr.steps), describe(s), took, v.detail)
		return cr.unverified("step %d (%s): %s", i+1, describe(s), v.detail)
	}
	detail := fmt.Sprintf("step %d %s: %s", i+1, describeFull(s), v.detail)
	if path, err := cr.failShot(sess, cr.name); err != nil {
		detail += fmt.Sprintf("; no screenshot of the failing page (%s)", plain(err.Error(), 200))
	} else {
		cr.out.Screenshots = append(cr.out.Screenshots, path)
		detail += "; screenshot of the failing page: " + path
	}
	row.Status, row.Detail = results.Fail, detail
	cr.printf("    [%d/%d] %s ... FAIL (%s): %s\n", i+1, len(cr.steps), describe(s), took, detail)
	cr.out.Status = results.Fail
	cr.out.Reason = fmt.Sprintf("browser check %q failed at %s", cr.name, detail)
	return cr.out
}

func (cr *checkRun) unverified(format string, args ...any) Outcome {
	why := fmt.Sprintf(format, args...)
	cr.out.Status = results.Unverified
	cr.out.Reason = fmt.Sprintf("browser check %q could not run: %s", cr.name, why)
	cr.printf("    browser %q: UNVERIFIED: %s\n", cr.name, why)
	return cr.out
}

// Screenshot saves a full-page PNG of the app's landing page (http(s)://domain/) to path. It is
// best-effort evidence: the caller logs an error and carries on.
func (r *Runner) Screenshot(ctx context.Context, domain, path string) error {
	l, err := r.prepare(ctx, domain)
	if err != nil {
		return err
	}
	sess, err := l.start(ctx, r.printf)
	if err != nil {
		return err
	}
	defer sess.close()
	sess.timeout = landingTimeout
	lctx, cancel := context.WithTimeout(sess.ctx, landingTimeout)
	defer cancel()
	// The landing page is evidence whatever its status (a login page answering 401 included), as
	// long as the browser stayed on the app and got a page at all.
	final, _, err := sess.open(lctx, "/")
	if err == nil {
		err = sess.onApp(final)
	}
	if err != nil {
		return fmt.Errorf("landing page of %s: %w", domain, err)
	}
	png, err := sess.capture(lctx)
	if err != nil {
		return fmt.Errorf("landing page of %s: %w", domain, err)
	}
	return writePNG(path, png)
}

// failShot saves the page as it is now as <OutDir>/<slug>-failed.png. It gets its own bound
// from the browser's context: the check's timeout may be what just ran out.
func (r *Runner) failShot(sess *session, name string) (string, error) {
	ctx, cancel := context.WithTimeout(sess.ctx, failShotTimeout)
	defer cancel()
	png, err := sess.capture(ctx)
	if err != nil {
		return "", err
	}
	path := filepath.Join(r.OutDir, slug(name)+failedShotSuffix)
	if err := writePNG(path, png); err != nil {
		return "", err
	}
	return path, nil
}

func (r *Runner) printf(format string, args ...any) {
	if r.Out != nil {
		fmt.Fprintf(r.Out, format, args...)
	}
}

// stepName is the results row of step i: the check's name, the step number and what it does.
func stepName(check string, i int, s Step) string {
	return fmt.Sprintf("browser %s: step %d %s", check, i+1, describe(s))
}

// describe says what a step does in a few words, for names and log lines.
func describe(s Step) string {
	switch s.Action {
	case ActionVisit:
		return "visit " + plain(s.Path, 80)
	case ActionScreenshot:
		return "screenshot " + plain(s.File, 80)
	case "":
		return "(no action)"
	}
	return plain(s.Action, 20) + " " + plain(s.Selector, 80)
}

// describeFull is describe plus the step's text, quoted, for failure details.
func describeFull(s Step) string {
	switch s.Action {
	case ActionFill, ActionWaitText, ActionExpectText:
		return describe(s) + " " + quote(s.Text)
	}
	return describe(s)
}

// plain makes untrusted text safe for a one-line log or results detail: control characters
// become spaces and it is cut to max runes.
func plain(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	if rs := []rune(s); len(rs) > max {
		return string(rs[:max]) + "..."
	}
	return s
}

// quote is plain text in Go quotes: what a page showed or a step expected, unmistakably delimited.
func quote(s string) string {
	rs := []rune(s)
	if len(rs) > maxShownTextRunes {
		return fmt.Sprintf("%q...", string(rs[:maxShownTextRunes]))
	}
	return fmt.Sprintf("%q", s)
}
