package ladder

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/internal/abra"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/swarm"
)

// tier accumulates checks; the first failing check decides the tier's status and reason.
type tier struct {
	results.Tier
	started time.Time
	excerpt string
}

func (l *Ladder) newTier(name string) *tier {
	l.banner(strings.ToUpper(name), "starting")
	return &tier{Tier: results.Tier{Name: name, Status: results.Pass, Checks: []results.Check{}}, started: time.Now()}
}

func (t *tier) pass(name, format string, a ...any) {
	t.Checks = append(t.Checks, results.Check{Name: name, Status: results.Pass, Detail: fmt.Sprintf(format, a...)})
}

// fail records a check the recipe failed. Only the first failure sets the tier's reason.
func (t *tier) fail(name, format string, a ...any) {
	t.record(results.Fail, name, fmt.Sprintf(format, a...))
}

// failOrAbort records a failed check, unless the run's context is done: then the check failed
// because the run was aborted (SIGTERM, deadline), not because of the recipe, and it is
// unverified.
func (t *tier) failOrAbort(ctx context.Context, name, format string, a ...any) {
	if ctx.Err() != nil {
		t.unverified("%s: run aborted (%v): %s", name, context.Cause(ctx), fmt.Sprintf(format, a...))
		return
	}
	t.fail(name, format, a...)
}

// unverified records a check that could not be made (infrastructure, timeout, missing tool).
func (t *tier) unverified(format string, a ...any) {
	t.record(results.Unverified, "infrastructure", fmt.Sprintf(format, a...))
}

// skipCheck records a check that could not apply; it never changes the tier's status.
func (t *tier) skipCheck(name, detail string) {
	t.Checks = append(t.Checks, results.Check{Name: name, Status: results.Skip, Detail: detail})
}

// newSubTier collects the checks of one phase of t (the upgrade's base install), so the caller
// can judge the phase before folding it into t.
func (l *Ladder) newSubTier(t *tier) *tier {
	return &tier{Tier: results.Tier{Name: t.Name, Status: results.Pass, Checks: []results.Check{}}, started: time.Now()}
}

// absorb takes sub's outcome (status, reason, excerpt, warnings) as t's.
func (t *tier) absorb(sub *tier) {
	t.Status, t.Reason = sub.Status, sub.Reason
	if t.excerpt == "" {
		t.excerpt = sub.excerpt
	}
	t.Warnings = append(t.Warnings, sub.Warnings...)
}

func (t *tier) record(s results.Status, name, detail string) {
	t.Checks = append(t.Checks, results.Check{Name: name, Status: s, Detail: detail})
	if t.Status == results.Pass {
		t.Status = s
		t.Reason = detail
	}
}

func (t *tier) ok() bool { return t.Status == results.Pass }

func (t *tier) done() results.Tier {
	t.DurationS = time.Since(t.started).Seconds()
	return t.Tier
}

// callFailed classifies an abra error: a timeout or a missing abra is infrastructure
// (unverified); abra exiting non-zero is the recipe failing the step.
func (t *tier) callFailed(ctx context.Context, check string, err error) {
	var ae *abra.Error
	if errors.As(err, &ae) {
		t.excerpt = ae.Output
	}
	switch {
	case ctx.Err() != nil:
		// abra was stopped because the run was aborted: whatever it exited with says nothing
		// about the recipe.
		t.unverified("%s: run aborted (%v): %v", check, context.Cause(ctx), err)
	case ae != nil && missingMachinery(ae.Output) != "":
		// abra refused because the CI server lacks what the tier needs, not because of the recipe.
		t.unverified("%s: %s: %v", check, missingMachinery(ae.Output), err)
	case ae != nil && !ae.Timeout && ae.ExitCode > 0:
		t.fail(check, "%v", err)
	case ae != nil:
		t.unverified("%s: %v", check, err)
	default:
		t.unverified("%s: %v", check, err)
	}
}

// machineryMissing are abra's words when the server lacks what a tier needs (docs/abra-contract.md):
// backups and restores go through backup-bot-two, which the operator deploys on the server.
var machineryMissing = []struct{ says, means string }{
	{"no backupbot discovered", "backup-bot-two is not deployed on the CI server (the backup tier needs it: deploy the backup-bot-two recipe there)"},
}

// missingMachinery returns what the CI server lacks when abra's output says so, else "".
func missingMachinery(output string) string {
	low := strings.ToLower(output)
	for _, m := range machineryMissing {
		if strings.Contains(low, m.says) {
			return m.means
		}
	}
	return ""
}

// convergeFailed classifies a convergence error: crash loops, rollbacks, never converging and an
// image the registry says does not exist are the recipe's failure; a known engine bug (the
// container was never started), an unreachable registry and anything else (the Docker API went
// away), or any error once the run's ctx is done (the wait was cut short by the abort, not by the
// step timeout), is infrastructure.
func (t *tier) convergeFailed(ctx context.Context, check string, err error) {
	var crash *swarm.CrashLoopError
	var rollback *swarm.RollbackError
	var timeout *swarm.TimeoutError
	var image *swarm.ImageError
	fault := swarm.EngineFaultOf(err)
	switch {
	case ctx.Err() != nil:
		t.unverified("%s: run aborted (%v): %v", check, context.Cause(ctx), err)
	case fault != "":
		t.unverified("%s: %s (%s), not the recipe: rerun: %v", check, swarm.EngineFaultWords, fault, err)
	case errors.As(err, &image) && image.Unreachable:
		// The registry could not be reached: the box's network, not the recipe.
		t.unverified("%s: %v", check, err)
	case errors.As(err, &image):
		t.fail(check, "%v", err)
	case errors.As(err, &crash):
		t.excerpt = strings.Join(crash.LastLogs, "\n")
		t.fail(check, "%v", err)
	case errors.As(err, &rollback):
		t.fail(check, "%v", err)
	case errors.As(err, &timeout):
		t.fail(check, "%v", err)
	default:
		t.unverified("%s: %v", check, err)
	}
}
