package checks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"coopcloud.tech/cc-ci/internal/results"
)

// Exec is one custom test executable a maintainer declares: any language, the exit code is the
// verdict, TAP on stdout and JUnit XML files in ReportDir add one row per test.
type Exec struct {
	Name string // shown in rows and log lines; default the file's base name
	Path string // absolute path to an executable file
	Args []string
	// Env is exactly the environment the child gets, built by the caller from an explicit list
	// (with CCCI_APP_DOMAIN, CCCI_BASE_URL, CCCI_RUN_DIR), never the runner's. RunExec only adds
	// CCCI_REPORT_DIR when ReportDir is set.
	Env []string
	Dir string
	// Timeout bounds the run, children included (DefaultExecTimeout when zero).
	Timeout time.Duration
	// KillGrace is the time between SIGTERM and SIGKILL to the process group when the run is
	// stopped (DefaultKillGrace when zero).
	KillGrace time.Duration
	// ReportDir is where the executable may write JUnit XML (CCCI_REPORT_DIR in its env). It is
	// created when missing and must be empty and private to this executable: a report left by
	// another run would be read as this one's.
	ReportDir string
	// Out is the Drone log: stdout and stderr are streamed to it a line at a time, masked and
	// prefixed with the name. Nil discards.
	Out io.Writer
	// Mask redacts secrets; it is applied to everything written to Out and to every row,
	// reason and output returned. Nil masks nothing.
	Mask func(string) string
}

// ExecOutcome is the verdict on one executable.
type ExecOutcome struct {
	// Status is Pass (exit 0, and nothing in its TAP or JUnit output failed or was malformed),
	// Fail (a non-zero exit or a signal, a failing or malformed TAP/JUnit result, a bail out, or a
	// file that cannot be run), Unverified (timeout, the run's ctx done, or cc-ci unable to run
	// it), or Skip (exit 0 and a TAP plan of 1..0: it skipped all its tests, and proved nothing).
	Status results.Status
	Reason string
	Checks []results.Check
	Output string // the masked tail of stdout and stderr, for the failure excerpt
}

// RunExec runs e and judges it. It never returns while any process of e's process group is
// alive: on timeout or ctx done the group is stopped, and what the executable leaves running in
// its group after exiting is killed.
func RunExec(ctx context.Context, e Exec) ExecOutcome {
	r := execRun{e: e, name: plain(cmp.Or(e.Name, filepath.Base(e.Path)), 80), mask: e.Mask}
	if r.mask == nil {
		r.mask = func(s string) string { return s }
	}
	if st, why := preflight(e); why != "" {
		return r.outcome(st, why)
	}
	if ctx.Err() != nil {
		return r.outcome(results.Unverified, fmt.Sprintf("run aborted (%v) before %s started", context.Cause(ctx), r.name))
	}
	if e.ReportDir != "" {
		if err := emptyDir(e.ReportDir); err != nil {
			return r.outcome(results.Unverified, fmt.Sprintf("cannot run %s: %v", r.name, err))
		}
	}
	return r.run(ctx)
}

// execRun is the state of one RunExec.
type execRun struct {
	e    Exec
	name string
	mask func(string) string
	rows rowSet
	// tapRows holds the TAP rows until the stream is known to be TAP: a program that merely
	// printed "ok" gets no rows for it.
	tapRows rowSet
	sink    *logSink
}

func (r *execRun) run(ctx context.Context) ExecOutcome {
	e := r.e
	out := e.Out
	if out == nil {
		out = io.Discard
	}
	r.sink = &logSink{out: out, mask: r.mask}
	cmd := exec.Command(e.Path, e.Args...)
	// Never nil: a nil Env would hand the child the runner's whole environment.
	cmd.Env = append([]string{}, e.Env...)
	if e.ReportDir != "" {
		cmd.Env = append(cmd.Env, "CCCI_REPORT_DIR="+e.ReportDir)
	}
	cmd.Dir = e.Dir
	tap := newTAPParser(r.addTAP)
	// The parser reads the raw line (masking could change its structure); rows are masked.
	st, err := openStreams(cmd,
		func(line string, cut bool) { tap.Line(line); r.log("[%s] ", line, cut) },
		func(line string, cut bool) { r.log("[%s:err] ", line, cut) })
	if err != nil {
		return r.outcome(results.Unverified, fmt.Sprintf("cannot run %s: %v", r.name, err))
	}
	defer st.close()

	timeout := cmp.Or(e.Timeout, DefaultExecTimeout)
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	end, err := runProc(tctx, cmd, cmp.Or(e.KillGrace, DefaultKillGrace))
	st.started()
	if err != nil {
		<-st.done
		return r.startFailed(err)
	}
	st.drain()

	verdict, problems := r.finishTAP(tap)
	problems = append(problems, r.addReports()...)
	switch {
	case end.stopped && ctx.Err() != nil:
		return r.outcome(results.Unverified, fmt.Sprintf("run aborted (%v) while %s ran: its process group was stopped", context.Cause(ctx), r.name))
	case end.stopped:
		return r.outcome(results.Unverified, fmt.Sprintf("%s did not finish within %s: its process group was stopped", r.name, timeout))
	}
	return r.judge(end, verdict, problems)
}

// judge turns an exit, a TAP verdict and report problems into the outcome. Exit 0 is a pass only
// when no row failed and nothing was malformed: never a false green.
func (r *execRun) judge(end procEnd, v tapVerdict, problems []string) ExecOutcome {
	desc, waitFailed := exitDesc(end.waitErr)
	if waitFailed {
		return r.outcome(results.Unverified, r.name+" "+desc)
	}
	failedNames, failed := r.rows.failed()
	var notes []string
	if v.Bailed {
		notes = append(notes, "it bailed out: "+cmp.Or(v.Bail, "no reason given"))
	}
	if failed > 0 {
		notes = append(notes, fmt.Sprintf("%d of its tests failed (%s)", failed, strings.Join(first(failedNames, 3), ", ")))
	}
	notes = append(notes, problems...)
	switch {
	case desc != "":
		return r.outcome(results.Fail, join2(r.name+" "+desc, notes))
	case len(notes) > 0:
		return r.outcome(results.Fail, join2(r.name+" exited 0, but", notes))
	case v.SkipAll != "" && len(r.rows.rows) == 0:
		return r.outcome(results.Skip, fmt.Sprintf("%s skipped all its tests (TAP plan 1..0): %s", r.name, v.SkipAll))
	}
	n := len(r.rows.rows) + r.rows.left
	if n == 0 {
		return r.outcome(results.Pass, r.name+" exited 0")
	}
	return r.outcome(results.Pass, fmt.Sprintf("%s exited 0; %d tests reported, none failed", r.name, n))
}

// finishTAP ends the stdout stream: its rows count only if it was TAP, and its problems are
// labelled.
func (r *execRun) finishTAP(p *tapParser) (tapVerdict, []string) {
	v := p.Finish()
	if v.IsTAP {
		r.rows = r.tapRows
	}
	var problems []string
	for _, pr := range v.Problems {
		problems = append(problems, "TAP: "+pr)
	}
	return v, problems
}

func join2(head string, notes []string) string {
	if len(notes) == 0 {
		return head
	}
	return head + ": " + strings.Join(notes, "; ")
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "…")
	}
	return s
}

// log writes one output line through the sink.
func (r *execRun) log(prefix, line string, cut bool) {
	if cut {
		line = cutLine(r.mask, line)
	}
	r.sink.line(fmt.Sprintf(prefix, r.name), line)
}

// addTAP turns a TAP test point into a row (TAP14 "Directive": a SKIP or TODO point that is not
// ok is not a failure).
func (r *execRun) addTAP(p tapResult) {
	name := strings.TrimSpace(fmt.Sprintf("%s: %d %s", r.name, p.ID, p.Desc))
	status, detail := results.Pass, p.Diag
	switch {
	case p.Directive == "skip":
		status, detail = results.Skip, "skipped: "+cmp.Or(p.Reason, "no reason given")
	case p.Directive == "todo" && !p.OK:
		status, detail = results.Skip, "TODO, not ok (a known gap, not counted as a failure): "+cmp.Or(p.Reason, "no reason given")
	case p.Directive == "todo":
		status, detail = results.Pass, "TODO, but ok: "+cmp.Or(p.Reason, "no reason given")
	case !p.OK:
		status, detail = results.Fail, cmp.Or(p.Diag, "not ok")
	}
	r.tapRows.add(row(r.mask, name, status, detail))
}

// addReports turns the JUnit files in ReportDir into rows, and returns their problems.
func (r *execRun) addReports() []string {
	if r.e.ReportDir == "" {
		return nil
	}
	files, err := readReports(r.e.ReportDir)
	var problems []string
	if err != nil {
		problems = append(problems, err.Error())
	}
	for _, f := range files {
		for _, jr := range f.Rows {
			r.rows.add(row(r.mask, r.name+": "+jr.Name, results.Status(jr.Status), jr.Detail))
		}
		for _, p := range f.Problems {
			problems = append(problems, "JUnit report "+f.Rel+": "+p)
		}
	}
	return problems
}

// outcome builds the result, masking and capping the reason.
func (r *execRun) outcome(s results.Status, reason string) ExecOutcome {
	o := ExecOutcome{Status: s, Reason: masked(r.mask, reason, maxReason), Checks: r.rows.list()}
	if r.sink != nil {
		o.Output = r.sink.excerpt()
	}
	return o
}

// preflight checks the file before starting it. What the overlay controls (the file missing, not
// a file, not executable) fails; a path that is not absolute is cc-ci's own bug.
func preflight(e Exec) (results.Status, string) {
	if !filepath.IsAbs(e.Path) {
		return results.Unverified, fmt.Sprintf("cannot run %q: the path is not absolute (a cc-ci bug: the overlay loader resolves it)", e.Path)
	}
	st, err := os.Stat(e.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return results.Fail, fmt.Sprintf("%s: no such file: the overlay names a test executable that does not exist", e.Path)
	case err != nil:
		return results.Unverified, fmt.Sprintf("cannot run %s: %v", e.Path, err)
	case !st.Mode().IsRegular():
		return results.Fail, fmt.Sprintf("%s is not a regular file", e.Path)
	case st.Mode().Perm()&0o111 == 0:
		return results.Fail, fmt.Sprintf("%s is not executable: set its mode (chmod +x, and commit the mode: git update-index --chmod=+x)", e.Path)
	}
	return "", ""
}

// startFailed judges an exec that did not start. A file the kernel cannot execute is the
// overlay's (a script without a #! line); anything else, such as a #! interpreter this box does
// not have or a file system mounted noexec, is the CI box's.
func (r *execRun) startFailed(err error) ExecOutcome {
	if errors.Is(err, syscall.ENOEXEC) {
		return r.outcome(results.Fail, fmt.Sprintf("%s cannot be executed (%v): a script needs a #! line naming its interpreter", r.e.Path, err))
	}
	if errors.Is(err, syscall.ENOENT) {
		return r.outcome(results.Unverified, fmt.Sprintf("%s could not start (%v): the #! interpreter it names is not installed on the CI box", r.e.Path, err))
	}
	return r.outcome(results.Unverified, fmt.Sprintf("%s could not start: %v", r.e.Path, err))
}

// emptyDir makes dir when it is missing and refuses one that already holds anything.
func emptyDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create report dir: %w", err)
	}
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open report dir: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read report dir %s: %w", dir, err)
	}
	if len(names) > 0 {
		return fmt.Errorf("report dir %s is not empty (holds %q): each executable needs an empty one of its own", dir, names[0])
	}
	return nil
}
