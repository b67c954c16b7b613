package ladder

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/plugin/overlay"
)

// Kinds of call the fake checker records.
const (
	checkHTTP       = "http"
	checkBrowser    = "browser"
	checkExec       = "exec"
	checkScreenshot = "screenshot"
)

// checkerCall is one call the fake checker got. Name is the check's name (for a screenshot, the
// file asked for).
type checkerCall struct {
	Kind    string
	Domain  string
	Name    string
	Path    string        // exec: the executable
	Args    []string      // exec
	Timeout time.Duration // exec
	Steps   int           // browser
}

// fakeChecker stands in for plugin/run's checker, which drives plugin/checks (HTTP checks,
// executables) and plugin/browser (browser checks, screenshots) and is tested there against a
// real server, real processes and real Chromium. Here only what the ladder makes of the outcomes
// is under test, so the fake answers what a test scripts:
//   - HTTP answers HTTPRows[name] (absent: a passing row), as checks.RunHTTP answers one row;
//   - Browser and Exec answer Outcomes[name] (absent: pass), as browser.Runner.Run and
//     checks.RunExec answer a status, a reason and per-step or per-test rows;
//   - Screenshot writes a small file named file into Dir and returns its path, as the real one
//     writes into the run dir (ShotErr: it fails instead, writing nothing).
//
// Every call is recorded in Calls and in the shared journal ("check fresh: exec install_steps.sh"),
// after Before has run (a test's hook: cancel the run mid-check, look at the world).
type fakeChecker struct {
	Dir      string
	HTTPRows map[string]results.Check
	Outcomes map[string]CheckOutcome
	ShotErr  error
	Before   func(c checkerCall)
	Journal  *journal

	Calls []checkerCall
}

// newFakeChecker returns a checker where every check passes, writing screenshots into dir.
func newFakeChecker(dir string, j *journal) *fakeChecker {
	return &fakeChecker{Dir: dir, HTTPRows: map[string]results.Check{}, Outcomes: map[string]CheckOutcome{}, Journal: j}
}

func (f *fakeChecker) record(c checkerCall) {
	if f.Before != nil {
		f.Before(c)
	}
	f.Calls = append(f.Calls, c)
	f.Journal.add("check %s: %s %s", roleOf(c.Domain), c.Kind, c.Name)
}

func (f *fakeChecker) HTTP(_ context.Context, domain string, c overlay.HTTPCheck) results.Check {
	f.record(checkerCall{Kind: checkHTTP, Domain: domain, Name: c.Name, Path: c.Path})
	if row, ok := f.HTTPRows[c.Name]; ok {
		return row
	}
	return results.Check{Name: c.Name, Status: results.Pass, Detail: "HTTP 200"}
}

func (f *fakeChecker) Browser(_ context.Context, domain string, c overlay.BrowserCheck) CheckOutcome {
	f.record(checkerCall{Kind: checkBrowser, Domain: domain, Name: c.Name, Steps: len(c.Steps)})
	return f.outcome(c.Name)
}

func (f *fakeChecker) Exec(_ context.Context, domain, name, path string, args []string, timeout time.Duration) CheckOutcome {
	f.record(checkerCall{Kind: checkExec, Domain: domain, Name: name, Path: path, Args: args, Timeout: timeout})
	return f.outcome(name)
}

func (f *fakeChecker) outcome(name string) CheckOutcome {
	if o, ok := f.Outcomes[name]; ok {
		return o
	}
	return CheckOutcome{Status: results.Pass}
}

func (f *fakeChecker) Screenshot(_ context.Context, domain, file string) (string, error) {
	f.record(checkerCall{Kind: checkScreenshot, Domain: domain, Name: file})
	path := filepath.Join(f.Dir, file)
	if f.ShotErr != nil {
		return path, f.ShotErr
	}
	// The PNG signature: enough to be told apart from an empty file.
	if err := os.WriteFile(path, []byte("\x89PNG\r\n\x1a\n"), 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// Of returns the calls of one kind.
func (f *fakeChecker) Of(kind string) []checkerCall {
	var out []checkerCall
	for _, c := range f.Calls {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	return out
}
