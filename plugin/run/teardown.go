package run

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"coopcloud.tech/cc-ci/internal/canonical"
	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/rundir"
	"coopcloud.tech/cc-ci/internal/swarm"
)

// stepDrain bounds how long the teardown funnel waits for an in-flight abra call: abra is sent
// SIGTERM when the run is cancelled and SIGKILLed after its grace (5 s).
const stepDrain = 15 * time.Second

// begin records the run dir, starts log.txt and the results document.
func (r *runner) begin(dir *rundir.Dir) {
	s := r.s
	if f, err := os.OpenFile(dir.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
		r.out.tee(f) // left open until the process exits: output may come until the very end
	} else {
		r.log.Warn("no log.txt for this run", "err", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dir = dir
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
	r.completed = true
	if r.res != nil {
		r.res.Tiers = []results.Tier{{Name: results.TierInstall, Status: results.Unverified, Reason: msg, Checks: []results.Check{}}}
	}
}

// teardown is the ONE teardown funnel (the lifetime guard runs it at most once, on the normal
// path, on SIGTERM or at the deadline): wait for an in-flight abra call, remove the app from the
// swarm, write results.json and summary.md, then release the app lock — in that order, so a new
// run for this app can only start once nothing of this one remains.
func (r *runner) teardown(ctx context.Context) {
	select {
	case r.step <- struct{}{}: // kept: no abra call starts after this
	case <-time.After(stepDrain):
		r.log.Warn("abra call still running; tearing down anyway", "waited", stepDrain)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.docker != nil {
		r.teardownApps(ctx)
		if err := r.docker.Close(); err != nil {
			r.log.Warn("close docker client", "err", err)
		}
	}
	if r.res != nil {
		r.finishResults()
	}
	for _, lock := range r.locks {
		if err := lock.Release(); err != nil {
			r.log.Warn("release app lock", "err", err)
		}
	}
}

// finishResults completes the results of an aborted run with what was decided so far, derives
// the verdict, and writes results.json and summary.md. Called with mu held.
func (r *runner) finishResults() {
	if !r.completed {
		cause := "interrupted"
		if r.runCtx != nil && context.Cause(r.runCtx) != nil {
			cause = context.Cause(r.runCtx).Error()
		}
		r.res.Tiers = abortedTiers(r.tiers, cause)
	}
	if r.docker == nil {
		r.res.Teardown.Clean = true // nothing was ever deployed
	}
	if r.abra != nil {
		if !r.completed || len(r.res.Apps) == 0 {
			r.res.Deploys = r.abra.Calls()["app new"]
		}
		r.clock.add("abra", r.abra.TimeInside())
	}
	r.res.Finalize(time.Now())
	r.res.Redact(r.masker.Mask)
	fmt.Fprintf(r.out, "==> timing: %s\n", r.clock.report(time.Since(r.started)))
	r.writeResults()
	if ok, err := canonical.Promote(r.s.RunsDir, r.res); err != nil {
		r.log.Warn("record the canonical", "err", err)
	} else if ok {
		fmt.Fprintf(r.out, "==> canonical: %s is now the last green canonical of %s (upgrades start from it)\n", r.res.Manifest["version"], r.res.Recipe)
	}
}

// abortedTiers keeps the tiers decided before the abort and marks the rest unverified.
func abortedTiers(decided []results.Tier, cause string) []results.Tier {
	out := slices.Clone(decided)
	for _, name := range []string{results.TierInstall, results.TierUpgrade, results.TierBackup, results.TierRestore, results.TierFunctional, results.TierLint} {
		if !slices.ContainsFunc(out, func(t results.Tier) bool { return t.Name == name }) {
			out = append(out, results.Tier{Name: name, Status: results.Unverified, Checks: []results.Check{},
				Reason: fmt.Sprintf("run aborted before this tier was decided (%s): torn down, not verified", cause)})
		}
	}
	return out
}

// teardownApps removes everything of both apps (never images), concurrently, and records
// whether anything is left.
func (r *runner) teardownApps(ctx context.Context) {
	domains := r.s.Domains()
	if r.warmBusy {
		// Aborted while the warm app was being changed: its state is unknown, so it goes too,
		// and the next quick run runs cold.
		domains = append(domains, r.s.WarmDomain())
		_ = os.Remove(warmPath(r.s.RunsDir, r.s.Recipe))
		fmt.Fprintf(r.out, "==> warm: the run ended while the warm app %s was being changed: removing it\n", r.s.WarmDomain())
	}
	type outcome struct {
		clean   bool
		residue []string
		line    string
	}
	outs := make([]outcome, len(domains))
	var wg sync.WaitGroup
	start := time.Now()
	for i, domain := range domains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clean, residue, line := r.teardownApp(ctx, domain)
			outs[i] = outcome{clean, residue, line}
		}()
	}
	wg.Wait()
	r.clock.since("docker", start)
	r.res.Teardown = results.Teardown{Clean: true}
	for _, o := range outs {
		fmt.Fprint(r.out, o.line)
		r.res.Teardown.Clean = r.res.Teardown.Clean && o.clean
		r.res.Teardown.Residue = append(r.res.Teardown.Residue, o.residue...)
	}
}

// teardownApp removes one app and reports whether anything of it is left.
func (r *runner) teardownApp(ctx context.Context, domain string) (bool, []string, string) {
	stack := naming.Stack(domain)
	var b strings.Builder
	fmt.Fprintf(&b, "==> [%7.1fs] TEARDOWN removing %s\n", r.elapsed(), stack)
	envPath := r.dir.AppEnvPath(r.s.Server, domain)
	report, err := r.docker.Teardown(ctx, stack, envPath)
	if err != nil {
		fmt.Fprintf(&b, "    teardown error: %v\n", err)
	}
	residue, rerr := r.docker.Residue(ctx, stack)
	_, envErr := os.Stat(envPath)
	clean := err == nil && rerr == nil && residue.Empty() && os.IsNotExist(envErr)
	names := residueNames(residue, rerr)
	if envErr == nil {
		names = append(names, "env "+envPath)
	}
	fmt.Fprintf(&b, "    removed %d services, %d volumes, %d secrets, %d configs, %d networks; clean: %t\n",
		len(report.Services), len(report.Volumes), len(report.Secrets), len(report.Configs), len(report.Networks), clean)
	return clean, names, b.String()
}

func residueNames(rep swarm.TeardownReport, err error) []string {
	out := []string{}
	if err != nil {
		out = append(out, "unknown: "+err.Error())
	}
	for _, k := range []struct {
		kind  string
		names []string
	}{{"service", rep.Services}, {"volume", rep.Volumes}, {"secret", rep.Secrets}, {"config", rep.Configs}, {"network", rep.Networks}} {
		for _, n := range k.names {
			out = append(out, k.kind+" "+n)
		}
	}
	return out
}

// writeResults writes results.json and summary.md and prints the summary. A pass whose results
// cannot be written is not a pass anyone can see: the run then exits 3. Called with mu held.
func (r *runner) writeResults() {
	werr := results.WriteFile(r.dir.ResultsPath(), r.res)
	if werr == nil {
		werr = results.WriteSummary(r.dir.SummaryPath(), r.res)
	}
	if werr != nil {
		fmt.Fprintf(r.out, "cc-ci: %v\n", werr)
		if r.code == 0 {
			r.code = 3
		}
	}
	fmt.Fprintf(r.out, "\n%s\nresults: %s\n", results.Summary(r.res), r.dir.ResultsPath())
	// Last line of the run, after teardown: the bridge recovers the verdict from it when only the
	// Drone step log is reachable (results.FromLog takes the last such line).
	if line, err := results.LogLine(r.res); err == nil {
		fmt.Fprintf(r.out, "%s\n", line)
	} else {
		fmt.Fprintf(r.out, "cc-ci: %v\n", err)
	}
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
