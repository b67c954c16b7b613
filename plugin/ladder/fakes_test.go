package ladder

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"coopcloud.tech/cc-ci/internal/abra"
	"coopcloud.tech/cc-ci/internal/recipe"
	"coopcloud.tech/cc-ci/internal/swarm"
)

// journal is one timeline shared by the fakes, so a test can assert the order of calls across
// abra and git (e.g. the head is checked out between app new and the chaos deploy).
type journal struct{ Entries []string }

func (j *journal) add(format string, a ...any) {
	if j != nil {
		j.Entries = append(j.Entries, fmt.Sprintf(format, a...))
	}
}

// abraCall is one call the fake abra got.
type abraCall struct {
	Cmd     string // abra.CmdAppNew, abra.CmdAppDeploy, ...
	Recipe  string
	Version string
	Server  string
	Domain  string
	Chaos   bool
}

// String is the short form the call-log assertions compare: "app new 1.1.0", "deploy chaos".
func (c abraCall) String() string {
	switch c.Cmd {
	case abra.CmdAppNew:
		return strings.TrimSpace("app new " + c.Version)
	case abra.CmdAppDeploy:
		s := strings.TrimSpace("deploy " + c.Version)
		if c.Chaos {
			s += " chaos"
		}
		return s
	case abra.CmdBackupCreate:
		return "backup create"
	case abra.CmdRestore:
		return "restore"
	}
	return c.Cmd
}

// fakeAbra records every call. Errs[cmd][i] is what the i-th call of cmd returns (nil beyond);
// the On* hooks model the call's effect on the world and run only when the call succeeds.
type fakeAbra struct {
	Errs      map[string][]error
	OnDeploy  func(version string, chaos bool)
	OnBackup  func()
	OnRestore func()
	Journal   *journal

	Got []abraCall
}

func (f *fakeAbra) call(ctx context.Context, c abraCall) error {
	// Like the real client: a done context starts nothing and records nothing.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("abra %s: %w", c.Cmd, err)
	}
	n := 0
	for _, prev := range f.Got {
		if prev.Cmd == c.Cmd {
			n++
		}
	}
	f.Got = append(f.Got, c)
	f.Journal.add("abra %s", c)
	if errs := f.Errs[c.Cmd]; n < len(errs) {
		return errs[n]
	}
	return nil
}

func (f *fakeAbra) AppNew(ctx context.Context, recipe, version, server, domain string) error {
	return f.call(ctx, abraCall{Cmd: abra.CmdAppNew, Recipe: recipe, Version: version, Server: server, Domain: domain})
}

func (f *fakeAbra) Deploy(ctx context.Context, domain, version string, chaos bool) error {
	err := f.call(ctx, abraCall{Cmd: abra.CmdAppDeploy, Domain: domain, Version: version, Chaos: chaos})
	if err == nil && f.OnDeploy != nil {
		f.OnDeploy(version, chaos)
	}
	return err
}

func (f *fakeAbra) BackupCreate(ctx context.Context, domain string) error {
	err := f.call(ctx, abraCall{Cmd: abra.CmdBackupCreate, Domain: domain})
	if err == nil && f.OnBackup != nil {
		f.OnBackup()
	}
	return err
}

func (f *fakeAbra) Restore(ctx context.Context, domain string) error {
	err := f.call(ctx, abraCall{Cmd: abra.CmdRestore, Domain: domain})
	if err == nil && f.OnRestore != nil {
		f.OnRestore()
	}
	return err
}

func (f *fakeAbra) Calls() map[string]int {
	out := map[string]int{}
	for _, c := range f.Got {
		out[c.Cmd]++
	}
	return out
}

// Log is the call log in short form.
func (f *fakeAbra) Log() []string {
	out := []string{}
	for _, c := range f.Got {
		out = append(out, c.String())
	}
	return out
}

// waitCall is one WaitConverged call.
type waitCall struct {
	Stack string
	Opts  swarm.WaitOptions
}

// fakeSwarm holds the stack's service labels and records the waits. WaitErrs[i] is what the
// i-th WaitConverged returns (nil beyond).
type fakeSwarm struct {
	Labels    map[string]map[string]string // service -> label -> value
	LabelsErr error
	WaitErrs  []error

	Waits        []waitCall
	LabelReads   []string // the stacks ServiceLabels was asked about
	StableErr    error
	StableChecks []time.Time
}

func (f *fakeSwarm) WaitConverged(ctx context.Context, stack string, opts swarm.WaitOptions) error {
	f.Waits = append(f.Waits, waitCall{Stack: stack, Opts: opts})
	// Like the real watcher: a done context ends the wait as a timeout wrapping its cause.
	if err := ctx.Err(); err != nil {
		return &swarm.TimeoutError{Stack: stack, Cause: err}
	}
	if n := len(f.Waits) - 1; n < len(f.WaitErrs) {
		return f.WaitErrs[n]
	}
	return nil
}

func (f *fakeSwarm) ServiceLabels(_ context.Context, stack string) (map[string]map[string]string, error) {
	f.LabelReads = append(f.LabelReads, stack)
	if f.LabelsErr != nil {
		return nil, f.LabelsErr
	}
	out := map[string]map[string]string{}
	for svc, ls := range f.Labels {
		out[svc] = maps.Clone(ls)
	}
	return out, nil
}

// fakeGit answers UpgradeBase from its fields and records checkouts.
type fakeGit struct {
	Base        recipe.Release
	BaseOK      bool
	BaseReason  string
	BaseErr     error
	CheckoutErr error
	Journal     *journal

	Checkouts []string
	BaseHeads []string
}

func (f *fakeGit) Checkout(_ context.Context, ref string) (string, error) {
	f.Checkouts = append(f.Checkouts, ref)
	f.Journal.add("git checkout %s", ref)
	if f.CheckoutErr != nil {
		return "", f.CheckoutErr
	}
	return ref, nil
}

func (f *fakeGit) UpgradeBase(_ context.Context, head string) (recipe.Release, bool, string, error) {
	f.BaseHeads = append(f.BaseHeads, head)
	f.Journal.add("git upgrade-base %s", head)
	return f.Base, f.BaseOK, f.BaseReason, f.BaseErr
}

// fakeData is the app's data as the data probe sees it: an in-memory map.
type fakeData struct {
	Values   map[string]string
	WriteErr error
	ReadErr  error

	Calls []string // "write KEY", "read KEY"
}

func (f *fakeData) Write(_ context.Context, key, value string) error {
	f.Calls = append(f.Calls, "write "+key)
	if f.WriteErr != nil {
		return f.WriteErr
	}
	f.Values[key] = value
	return nil
}

func (f *fakeData) Read(_ context.Context, key string) (string, bool, error) {
	f.Calls = append(f.Calls, "read "+key)
	if f.ReadErr != nil {
		return "", false, f.ReadErr
	}
	v, ok := f.Values[key]
	return v, ok, nil
}

// frontDoor is a real HTTP server standing in for traefik: it routes only the app's domain (by
// Host header) to the app's page and answers every other Host as traefik does without a router.
type frontDoor struct {
	srv *httptest.Server

	mu     sync.Mutex
	status int
	body   string
	hosts  []string
	onHit  func()
	// redirects answers a request for a path with 302 to the Location given.
	redirects map[string]string
}

func newFrontDoor(t *testing.T) *frontDoor {
	d := &frontDoor{status: http.StatusOK, body: appPage}
	d.srv = httptest.NewServer(http.HandlerFunc(d.serveHTTP))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *frontDoor) serveHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	d.hosts = append(d.hosts, r.Host)
	status, body, hit := d.status, d.body, d.onHit
	loc, redirect := d.redirects[r.URL.Path]
	d.mu.Unlock()
	if hit != nil {
		hit()
	}
	if r.Host != testDomain {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	if redirect {
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// Serve sets what the app answers from now on.
func (d *frontDoor) Serve(status int, body string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.status, d.body = status, body
}

// Redirect makes a request for path answer 302 with Location loc.
func (d *frontDoor) Redirect(path, loc string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.redirects == nil {
		d.redirects = map[string]string{}
	}
	d.redirects[path] = loc
}

// OnHit runs f on every request, before it is answered.
func (d *frontDoor) OnHit(f func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.onHit = f
}

// Hosts returns the Host header of every request so far.
func (d *frontDoor) Hosts() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.hosts...)
}

// URL is the base URL the ladder is given.
func (d *frontDoor) URL() string { return d.srv.URL }

// CheckStable answers StableErr and records the since it was asked about.
func (f *fakeSwarm) CheckStable(_ context.Context, stack string, since time.Time) error {
	f.StableChecks = append(f.StableChecks, since)
	return f.StableErr
}
