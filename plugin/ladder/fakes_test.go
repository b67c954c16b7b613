package ladder

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"coopcloud.tech/cc-ci/internal/abra"
	"coopcloud.tech/cc-ci/internal/recipe"
	"coopcloud.tech/cc-ci/internal/swarm"
)

// journal is one timeline shared by the fakes, so a test can assert the order of calls across
// abra, git, the data floor and the data probe (e.g. the volumes are marked before the head is
// checked out for the upgrade).
type journal struct{ Entries []string }

func (j *journal) add(format string, a ...any) {
	if j != nil {
		j.Entries = append(j.Entries, fmt.Sprintf(format, a...))
	}
}

// shortSHA is the commit abra names in a chaos-version label: the first 8 hex digits.
func shortSHA(ref string) string {
	if len(ref) > 8 {
		return ref[:8]
	}
	return ref
}

// recipeTree is the run's recipe checkout, shared by git and abra. Refs holds the files of the
// refs a test wants to differ; checking out a ref writes its files into Dir, a ref not listed
// leaves Dir as it is. Ref is what is checked out.
type recipeTree struct {
	Dir  string
	Refs map[string]map[string]string // ref -> file -> content
	Ref  string
}

func (r *recipeTree) checkout(ref string) error {
	r.Ref = ref
	for name, content := range r.Refs[ref] {
		if err := os.WriteFile(filepath.Join(r.Dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// abraCall is one call the fake abra got.
type abraCall struct {
	Cmd      string // abra.CmdAppNew, abra.CmdAppDeploy, ...
	Recipe   string
	Version  string // the release, or for a secret its version
	Server   string
	Domain   string
	Chaos    bool
	Secret   string
	Snapshot string
}

// String is the short form the call-log assertions compare, naming the app by its role:
// "fresh: app new --chaos", "upgrade: deploy 1.1.0+1.21.0", "upgrade: restore 5a7e0001".
func (c abraCall) String() string {
	var s string
	switch c.Cmd {
	case abra.CmdAppNew:
		s = "app new " + c.Version
		if c.Chaos {
			s += " --chaos"
		}
	case abra.CmdAppDeploy:
		s = "deploy " + c.Version
		if c.Chaos {
			s += " --chaos"
		}
	case abra.CmdSecretGenerate:
		s = "secret generate " + c.Secret + " " + c.Version
	case abra.CmdBackupCreate:
		s = "backup create"
	case abra.CmdRestore:
		s = "restore " + c.Snapshot
	default:
		s = c.Cmd
	}
	return roleOf(c.Domain) + ": " + strings.Join(strings.Fields(s), " ")
}

// fakeAbra records every call. Errs[domain][cmd][i] is what the i-th call of cmd for domain
// returns (nil beyond); the On* hooks model the call's effect on the world and run only when the
// call succeeds. Of abra it imitates only what docs/abra-contract.md cites:
//   - `app new <recipe> [<version>]` ("App configuration": `app new` templating) writes the
//     app's .env as the recipe's .env.sample with "<recipe>.example.com" replaced by the domain,
//     nothing added; with a version it works from that release's checkout, and it refuses an app
//     whose .env exists (as the e2e double, internal/testkit/fakeabra, does);
//   - `app backup create` reports the id of the snapshot it made (8 hex digits, restic's
//     "snapshot <id> saved") and `app restore --snapshot <id>` restores that snapshot
//     ("Backup and restore").
type fakeAbra struct {
	Errs      map[string]map[string][]error
	OnDeploy  func(domain, version string, chaos bool)
	OnBackup  func(domain, snapshot string)
	OnRestore func(domain, snapshot string)
	Tree      *recipeTree
	ServerDir func() string
	Journal   *journal

	// LintOutput is what `recipe lint` prints (a table where every rule holds, by default) and
	// LintErr what the call returns; lint calls are counted in Lints, not in the call log, which
	// is about the apps.
	LintOutput string
	LintErr    error
	Lints      int
	LintRefs   []string // the recipe tree's ref at each lint: what abra read

	Got       []abraCall
	snapshots int
}

func (f *fakeAbra) call(ctx context.Context, c abraCall) error {
	// Like the real client: a done context starts nothing and records nothing.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("abra %s: %w", c.Cmd, err)
	}
	n := 0
	for _, prev := range f.Got {
		if prev.Cmd == c.Cmd && prev.Domain == c.Domain {
			n++
		}
	}
	f.Got = append(f.Got, c)
	f.Journal.add("abra %s", c)
	if errs := f.Errs[c.Domain][c.Cmd]; n < len(errs) {
		return errs[n]
	}
	return nil
}

// abraExit is abra exiting 1 with output, as the real client reports it.
func abraExit(args []string, output string) error {
	return &abra.Error{Args: args, ExitCode: 1, Output: output, Err: errors.New("exit status 1")}
}

func (f *fakeAbra) AppNew(ctx context.Context, recipe, version, server, domain string, chaos bool) error {
	args := []string{"app", "new", recipe, version, "--server", server, "--domain", domain}
	if err := f.call(ctx, abraCall{Cmd: abra.CmdAppNew, Recipe: recipe, Version: version, Server: server, Domain: domain, Chaos: chaos}); err != nil {
		return err
	}
	if version != "" {
		if err := f.Tree.checkout(version); err != nil {
			return abraExit(args, "FATA "+err.Error())
		}
	}
	env := filepath.Join(f.ServerDir(), domain+".env")
	if _, err := os.Stat(env); err == nil {
		return abraExit(args, "FATA "+domain+" already exists")
	}
	sample, err := os.ReadFile(filepath.Join(f.Tree.Dir, ".env.sample"))
	if err != nil {
		return abraExit(args, "FATA "+err.Error())
	}
	content := strings.ReplaceAll(string(sample), recipe+".example.com", domain)
	if err := os.WriteFile(env, []byte(content), 0o600); err != nil {
		return abraExit(args, "FATA "+err.Error())
	}
	return nil
}

func (f *fakeAbra) Deploy(ctx context.Context, domain, version string, chaos bool) error {
	err := f.call(ctx, abraCall{Cmd: abra.CmdAppDeploy, Domain: domain, Version: version, Chaos: chaos})
	if err == nil && f.OnDeploy != nil {
		f.OnDeploy(domain, version, chaos)
	}
	return err
}

func (f *fakeAbra) SecretGenerate(ctx context.Context, domain, secret, version string) error {
	return f.call(ctx, abraCall{Cmd: abra.CmdSecretGenerate, Domain: domain, Secret: secret, Version: version})
}

func (f *fakeAbra) BackupCreate(ctx context.Context, domain string) (string, error) {
	if err := f.call(ctx, abraCall{Cmd: abra.CmdBackupCreate, Domain: domain}); err != nil {
		return "", err
	}
	f.snapshots++
	id := fmt.Sprintf("5a7e%04d", f.snapshots)
	if f.OnBackup != nil {
		f.OnBackup(domain, id)
	}
	return id, nil
}

func (f *fakeAbra) Restore(ctx context.Context, domain, snapshot string) error {
	err := f.call(ctx, abraCall{Cmd: abra.CmdRestore, Domain: domain, Snapshot: snapshot})
	if err == nil && f.OnRestore != nil {
		f.OnRestore(domain, snapshot)
	}
	return err
}

// Lint prints LintOutput and returns LintErr: abra prints its table and exits 0 whether or not
// rules fail, and exits 1 with a FATA only when it cannot lint (docs/abra-contract.md, "recipe
// lint", from the lint-probe cited there).
func (f *fakeAbra) Lint(ctx context.Context, recipe string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("abra %s: %w", abra.CmdRecipeLint, err)
	}
	f.Lints++
	f.LintRefs = append(f.LintRefs, f.Tree.Ref)
	f.Journal.add("abra recipe lint %s", recipe)
	return f.LintOutput, f.LintErr
}

// AppNews counts the `app new` calls made per domain, failed or not.
func (f *fakeAbra) AppNews() map[string]int {
	out := map[string]int{}
	for _, c := range f.Got {
		if c.Cmd == abra.CmdAppNew {
			out[c.Domain]++
		}
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

// Calls returns the calls of one command.
func (f *fakeAbra) Calls(cmd string) []abraCall {
	var out []abraCall
	for _, c := range f.Got {
		if c.Cmd == cmd {
			out = append(out, c)
		}
	}
	return out
}

// waitCall is one WaitConvergedReport call and the Convergence.At it answered (zero when the
// wait failed).
type waitCall struct {
	Stack string
	Opts  swarm.WaitOptions
	At    time.Time
}

// stableCall is one CheckStable call, and how many waits had been made before it.
type stableCall struct {
	Stack string
	Since time.Time
	Waits int
}

// fakeSwarm holds each stack's service labels and records the waits and stability checks.
// WaitErrs[stack][i] is what the i-th wait for stack returns (nil beyond) and Restarts[stack][i]
// the restarts a successful i-th wait reports; StableErrs[stack] is what CheckStable answers.
type fakeSwarm struct {
	Labels     map[string]map[string]map[string]string // stack -> service -> label -> value
	LabelsErr  error
	WaitErrs   map[string][]error
	Restarts   map[string][][]swarm.TaskFailure
	StableErrs map[string]error

	Waits        []waitCall
	LabelReads   []string // the stacks ServiceLabels was asked about
	StableChecks []stableCall
}

func (f *fakeSwarm) WaitConvergedReport(ctx context.Context, stack string, opts swarm.WaitOptions) (swarm.Convergence, error) {
	n := 0
	for _, w := range f.Waits {
		if w.Stack == stack {
			n++
		}
	}
	f.Waits = append(f.Waits, waitCall{Stack: stack, Opts: opts})
	// Like the real watcher: a done context ends the wait as a timeout wrapping its cause.
	if err := ctx.Err(); err != nil {
		return swarm.Convergence{}, &swarm.TimeoutError{Stack: stack, Cause: err}
	}
	if errs := f.WaitErrs[stack]; n < len(errs) && errs[n] != nil {
		return swarm.Convergence{}, errs[n]
	}
	// At lies after the deploy began and after every restart, as the real watcher's does.
	conv := swarm.Convergence{At: time.Now().Add(time.Millisecond)}
	if rs := f.Restarts[stack]; n < len(rs) {
		conv.Restarts = rs[n]
	}
	f.Waits[len(f.Waits)-1].At = conv.At
	return conv, nil
}

func (f *fakeSwarm) ServiceLabels(_ context.Context, stack string) (map[string]map[string]string, error) {
	f.LabelReads = append(f.LabelReads, stack)
	if f.LabelsErr != nil {
		return nil, f.LabelsErr
	}
	out := map[string]map[string]string{}
	for svc, ls := range f.Labels[stack] {
		out[svc] = maps.Clone(ls)
	}
	return out, nil
}

// CheckStable answers StableErrs[stack] and records the since it was asked about.
func (f *fakeSwarm) CheckStable(_ context.Context, stack string, since time.Time) error {
	f.StableChecks = append(f.StableChecks, stableCall{Stack: stack, Since: since, Waits: len(f.Waits)})
	return f.StableErrs[stack]
}

// convergedAt is the Convergence.At of the latest wait for c's stack before c.
func (f *fakeSwarm) convergedAt(c stableCall) time.Time {
	var at time.Time
	for _, w := range f.Waits[:c.Waits] {
		if w.Stack == c.Stack {
			at = w.At
		}
	}
	return at
}

// fakeGit answers UpgradeBase from its fields and checks out refs in the shared tree.
// CheckoutErrs[i] is what the i-th checkout returns (nil beyond); a failed checkout changes
// nothing.
type fakeGit struct {
	Base         recipe.Base
	BaseOK       bool
	BaseErr      error
	CheckoutErrs []error
	Tree         *recipeTree
	Journal      *journal

	Checkouts []string
	BaseHeads []string
}

func (f *fakeGit) Checkout(_ context.Context, ref string) (string, error) {
	n := len(f.Checkouts)
	f.Checkouts = append(f.Checkouts, ref)
	f.Journal.add("git checkout %s", ref)
	if n < len(f.CheckoutErrs) && f.CheckoutErrs[n] != nil {
		return "", f.CheckoutErrs[n]
	}
	return ref, f.Tree.checkout(ref)
}

func (f *fakeGit) UpgradeBase(_ context.Context, head string) (recipe.Base, bool, error) {
	f.BaseHeads = append(f.BaseHeads, head)
	f.Journal.add("git upgrade-base %s", head)
	return f.Base, f.BaseOK, f.BaseErr
}

// fakeData is each app's data as the data probe sees it: an in-memory map per domain.
type fakeData struct {
	Values   map[string]map[string]string // domain -> key -> value
	WriteErr error
	ReadErr  error
	Journal  *journal

	Calls []string // "write <role> KEY", "read <role> KEY"
}

func (f *fakeData) Write(_ context.Context, domain, key, value string) error {
	f.Calls = append(f.Calls, "write "+roleOf(domain)+" "+key)
	f.Journal.add("data %s: write %s", roleOf(domain), key)
	if f.WriteErr != nil {
		return f.WriteErr
	}
	if f.Values[domain] == nil {
		f.Values[domain] = map[string]string{}
	}
	f.Values[domain][key] = value
	return nil
}

func (f *fakeData) Read(_ context.Context, domain, key string) (string, bool, error) {
	f.Calls = append(f.Calls, "read "+roleOf(domain)+" "+key)
	f.Journal.add("data %s: read %s", roleOf(domain), key)
	if f.ReadErr != nil {
		return "", false, f.ReadErr
	}
	v, ok := f.Values[domain][key]
	return v, ok, nil
}

// Floor operations, as the fake records them and as Errs is keyed.
const (
	floorMarkVolumes  = "mark volumes"
	floorCheckVolumes = "check volumes"
	floorMarkPaths    = "mark backup paths"
	floorMutatePaths  = "mutate backup paths"
	floorCheckPaths   = "check backup paths"
)

// fakeFloor is one stack's generic data floor: Volumes and Paths are how many named volumes and
// backed-up paths a mark finds, Errs[op] what op returns.
type fakeFloor struct {
	Stack   string
	Volumes int
	Paths   int
	Errs    map[string]error
	Journal *journal

	Calls []string
}

func (f *fakeFloor) op(name string) error {
	f.Calls = append(f.Calls, name)
	f.Journal.add("floor %s: %s", roleOf(f.Stack), name)
	return f.Errs[name]
}

func (f *fakeFloor) MarkVolumes(context.Context) (int, error) {
	if err := f.op(floorMarkVolumes); err != nil {
		return 0, err
	}
	return f.Volumes, nil
}

func (f *fakeFloor) CheckVolumes(context.Context) error { return f.op(floorCheckVolumes) }

func (f *fakeFloor) MarkBackupPaths(context.Context) (int, error) {
	if err := f.op(floorMarkPaths); err != nil {
		return 0, err
	}
	return f.Paths, nil
}

func (f *fakeFloor) MutateBackupPaths(context.Context) error { return f.op(floorMutatePaths) }

func (f *fakeFloor) CheckBackupPaths(context.Context) error { return f.op(floorCheckPaths) }

// lostErr is the floor finding data gone (as floor.LostError says it: DataLost is true).
type lostErr struct{ what string }

func (e *lostErr) Error() string  { return "data lost: " + e.what }
func (e *lostErr) DataLost() bool { return true }

// notLostErr has the method but says no: it is not the recipe losing data.
type notLostErr struct{}

func (notLostErr) Error() string  { return "marker unreadable: container restarting" }
func (notLostErr) DataLost() bool { return false }

// frontDoor is a real HTTP server standing in for traefik: it routes the two apps' domains (by
// Host header) to the app's page and answers every other Host as traefik does without a router.
type frontDoor struct {
	srv *httptest.Server

	mu     sync.Mutex
	status int
	body   string
	hosts  []string
	paths  []string // the path of every request, beside hosts
	onHit  func()
	// redirects answers a request for a path with 302 to the Location given.
	redirects map[string]string
	// routes answer a request for a path from the app's hosts (a readiness endpoint).
	routes map[string]func() (int, string)
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
	d.paths = append(d.paths, r.URL.Path)
	status, body, hit := d.status, d.body, d.onHit
	loc, redirect := d.redirects[r.URL.Path]
	route := d.routes[r.URL.Path]
	d.mu.Unlock()
	if hit != nil {
		hit()
	}
	if r.Host != freshDomain && r.Host != upgradeDomain {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	if redirect {
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusFound)
		return
	}
	if route != nil {
		status, body = route()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// Serve sets what the apps answer from now on.
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

// Route makes a request for path answer what f returns (status, body), asked anew each time.
func (d *frontDoor) Route(path string, f func() (int, string)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.routes == nil {
		d.routes = map[string]func() (int, string){}
	}
	d.routes[path] = f
}

// Requests returns "<host> <path>" of every request so far, in order.
func (d *frontDoor) Requests() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, len(d.hosts))
	for i := range d.hosts {
		out[i] = d.hosts[i] + " " + d.paths[i]
	}
	return out
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
