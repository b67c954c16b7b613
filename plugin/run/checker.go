package run

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/rundir"
	"coopcloud.tech/cc-ci/plugin/browser"
	"coopcloud.tech/cc-ci/plugin/checks"
	"coopcloud.tech/cc-ci/plugin/ladder"
	"coopcloud.tech/cc-ci/plugin/overlay"
)

// checker is the ladder's Checker on the real world: HTTP checks through the front door,
// browser checks and screenshots in headless Chromium, overlay executables with an environment
// built from an explicit list.
type checker struct {
	r       *runner
	dir     *rundir.Dir
	client  *http.Client
	browser *browser.Runner
	env     []string // the base environment of every overlay executable
}

func (r *runner) newChecker(dir *rundir.Dir, env []string) *checker {
	return &checker{r: r, dir: dir, client: r.httpClient(), env: env,
		browser: &browser.Runner{Exec: r.s.ChromiumBin, FrontDoor: r.s.FrontDoor, OutDir: dir.Root, Out: r.out}}
}

// HTTP implements ladder.Checker.
func (c *checker) HTTP(ctx context.Context, domain string, h overlay.HTTPCheck) results.Check {
	defer c.r.clock.since("http", time.Now())
	return checks.RunHTTP(ctx, c.client, c.r.s.FrontDoor, domain, h.Check())
}

// Browser implements ladder.Checker.
func (c *checker) Browser(ctx context.Context, domain string, b overlay.BrowserCheck) ladder.CheckOutcome {
	defer c.r.clock.since("browser", time.Now())
	o := c.browser.Run(ctx, domain, b.Check())
	return ladder.CheckOutcome{Status: o.Status, Reason: c.r.masker.Mask(o.Reason), Checks: o.Checks, Screenshots: o.Screenshots}
}

// Exec implements ladder.Checker: a test or install_steps.sh, with the app's env.
func (c *checker) Exec(ctx context.Context, domain, name, path string, args []string, timeout time.Duration) ladder.CheckOutcome {
	defer c.r.clock.since("hooks", time.Now())
	env := append(append([]string{}, c.env...),
		"CCCI_APP_DOMAIN="+domain,
		"CCCI_DOMAIN="+domain, // the name the data hooks know it by
		"CCCI_STACK="+naming.Stack(domain),
		"CCCI_BASE_URL="+strings.TrimRight(c.r.s.FrontDoor, "/"),
		"CCCI_APP_ENV="+filepath.Join(c.dir.AbraDir, "servers", c.r.s.Server, domain+".env"))
	report, err := os.MkdirTemp(c.dir.Root, "report-")
	if err != nil {
		return ladder.CheckOutcome{Status: results.Unverified, Reason: "make a report dir: " + err.Error()}
	}
	o := checks.RunExec(ctx, checks.Exec{Name: name, Path: path, Args: args, Env: env, Dir: filepath.Dir(path),
		Timeout: timeout, ReportDir: report, Out: c.r.out, Mask: c.r.masker.Mask})
	return ladder.CheckOutcome{Status: o.Status, Reason: o.Reason, Checks: o.Checks, Excerpt: o.Output}
}

// Screenshot implements ladder.Checker.
func (c *checker) Screenshot(ctx context.Context, domain, file string) (string, error) {
	defer c.r.clock.since("browser", time.Now())
	path := filepath.Join(c.dir.Root, file)
	return path, c.browser.Screenshot(ctx, domain, path)
}
