package run

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/rundir"
	"coopcloud.tech/cc-ci/internal/swarm"
)

// begin records the run dir, starts log.txt and the results document.
func (r *runner) begin(dir *rundir.Dir) {
	s := r.s
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dir = dir
	if f, err := os.OpenFile(dir.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
		r.logFile = f
		r.out = io.MultiWriter(r.stdout, f)
	} else {
		r.log.Warn("no log.txt for this run", "err", err)
	}
	r.res = &results.Results{
		RunID: dir.ID, Recipe: s.Recipe, Repo: s.Repo, PR: s.PR, Ref: s.Ref, Mode: s.Mode,
		Domain: s.Domain(), Started: r.started, Tiers: []results.Tier{},
		Manifest:  map[string]string{"overlay": "generic"},
		Artifacts: map[string]string{"results": dir.ResultsPath(), "summary": dir.SummaryPath(), "log": dir.LogPath()},
	}
}

// abort ends a run that could not reach a verdict: the message goes to the log and into
// results.json as an unverified install tier; code is the exit code (2 bad input, 3 infra).
func (r *runner) abort(code int, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	r.printf("cc-ci: %s\n", msg)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.code = code
	if r.res != nil {
		r.res.Tiers = []results.Tier{{Name: results.TierInstall, Status: results.Unverified, Reason: msg, Checks: []results.Check{}}}
	}
}

// teardown is the ONE teardown funnel (the lifetime guard runs it at most once, on the normal
// path, on SIGTERM or at the deadline): remove the app from the swarm, write results.json and
// summary.md, then release the app lock — in that order, so a new run for this app can only
// start once nothing of this one remains.
func (r *runner) teardown(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.appMaybe && r.docker != nil {
		r.teardownApp(ctx)
	}
	if r.res != nil {
		if !r.completed && r.code == 0 {
			cause := context.Cause(ctx)
			r.res.Tiers = append(r.res.Tiers, results.Tier{Name: results.TierInstall, Status: results.Unverified,
				Reason: fmt.Sprintf("run aborted before the ladder finished (%v): torn down, nothing verified", orCause(cause)), Checks: []results.Check{}})
		}
		if r.res.Teardown.Residue == nil && r.docker == nil {
			r.res.Teardown.Clean = true // nothing was ever deployed
		}
		if r.abra != nil {
			r.clock.add("abra", r.abra.TimeInside())
		}
		r.res.Finalize(time.Now())
		fmt.Fprintf(r.out, "==> timing: %s\n", r.clock.report(time.Since(r.started)))
		r.writeResults()
	}
	if r.lock != nil {
		if err := r.lock.Release(); err != nil {
			r.log.Warn("release app lock", "err", err)
		}
	}
	if r.logFile != nil {
		r.logFile.Close()
		r.out = r.stdout
	}
}

func orCause(err error) string {
	if err == nil {
		return "interrupted"
	}
	return err.Error()
}

// teardownApp removes everything of the app (never images) and records whether anything is left.
func (r *runner) teardownApp(ctx context.Context) {
	fmt.Fprintf(r.out, "==> [%7.1fs] TEARDOWN removing %s\n", r.elapsed(), r.s.Stack())
	envPath := r.dir.AppEnvPath(r.s.Server, r.s.Domain())
	start := time.Now()
	report, err := r.docker.Teardown(ctx, r.s.Stack(), envPath)
	if err != nil {
		fmt.Fprintf(r.out, "    teardown error: %v\n", err)
	}
	residue, rerr := r.docker.Residue(ctx, r.s.Stack())
	r.clock.since("docker", start)
	clean := err == nil && rerr == nil && residue.Empty()
	r.res.Teardown.Clean = clean
	if !clean {
		r.res.Teardown.Residue = residueNames(residue, rerr)
	} else {
		r.res.Teardown.Residue = []string{}
	}
	fmt.Fprintf(r.out, "    removed %d services, %d volumes, %d secrets, %d configs, %d networks; clean: %t\n",
		len(report.Services), len(report.Volumes), len(report.Secrets), len(report.Configs), len(report.Networks), clean)
	r.docker.Close()
}

func residueNames(rep swarm.TeardownReport, err error) []string {
	var out []string
	if err != nil {
		out = append(out, "unknown: "+err.Error())
	}
	for kind, names := range map[string][]string{"service": rep.Services, "volume": rep.Volumes, "secret": rep.Secrets, "config": rep.Configs, "network": rep.Networks} {
		for _, n := range names {
			out = append(out, kind+" "+n)
		}
	}
	return out
}

// writeResults writes results.json and summary.md and prints the summary. Called with mu held.
func (r *runner) writeResults() {
	if err := results.WriteFile(r.dir.ResultsPath(), r.res); err != nil {
		fmt.Fprintf(r.out, "cc-ci: %v\n", err)
	}
	if err := results.WriteSummary(r.dir.SummaryPath(), r.res); err != nil {
		fmt.Fprintf(r.out, "cc-ci: %v\n", err)
	}
	fmt.Fprintf(r.out, "\n%s\nresults: %s\n", results.Summary(r.res), r.dir.ResultsPath())
}

// exitCode is 2/3 for runs that could not reach a verdict, else the verdict's code.
func (r *runner) exitCode() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.code != 0 {
		return r.code
	}
	if r.res == nil {
		return 3
	}
	return results.ExitCode(r.res.Verdict)
}
