package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"coopcloud.tech/cc-ci/internal/atomicfile"
	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/plugin/ladder"
)

// warmPath is where the warm app's state is kept: <runs>/warm/<recipe>.json. The app itself
// lives on the swarm as warm-<recipe>.<suffix>, which the janitor never touches.
func warmPath(runsDir, recipe string) string {
	return filepath.Join(runsDir, "warm", recipe+".json")
}

func readWarm(runsDir, recipe string) (ladder.Warm, bool, error) {
	data, err := os.ReadFile(warmPath(runsDir, recipe))
	if errors.Is(err, fs.ErrNotExist) {
		return ladder.Warm{}, false, nil
	}
	if err != nil {
		return ladder.Warm{}, false, err
	}
	var w ladder.Warm
	if err := json.Unmarshal(data, &w); err != nil || w.Domain == "" || w.Ref == "" {
		return ladder.Warm{}, false, fmt.Errorf("warm state %s is unreadable (%v)", warmPath(runsDir, recipe), err)
	}
	return w, true, nil
}

func writeWarm(runsDir, recipe string, w ladder.Warm) error {
	if err := os.MkdirAll(filepath.Dir(warmPath(runsDir, recipe)), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(warmPath(runsDir, recipe), append(data, '\n'), 0o600)
}

// findWarm returns the warm app a quick run can reuse, or why there is none. A state file whose
// app is gone from the swarm (an operator removed it) is dropped.
func (r *runner) findWarm(ctx context.Context) (ladder.Warm, bool, string) {
	s := r.s
	w, ok, err := readWarm(s.RunsDir, s.Recipe)
	switch {
	case err != nil:
		return w, false, err.Error()
	case !ok:
		return w, false, "no warm app of " + s.Recipe + " exists yet (a green cold run creates it)"
	case w.Domain != s.WarmDomain():
		return w, false, fmt.Sprintf("the warm state names %s, not this server's %s", w.Domain, s.WarmDomain())
	}
	labels, err := r.docker.ServiceLabels(ctx, naming.Stack(w.Domain))
	if err != nil {
		return w, false, "the warm app's services could not be read: " + err.Error()
	}
	if len(labels) == 0 {
		_ = os.Remove(warmPath(s.RunsDir, s.Recipe))
		return w, false, "the warm app " + w.Domain + " is no longer on the swarm"
	}
	if _, err := os.Stat(r.dir.AppEnvPath(s.Server, w.Domain)); err != nil {
		return w, false, "the warm app's .env is missing"
	}
	return w, true, ""
}

// runQuick is a quick run when a warm app exists, else a cold run that creates one when green.
func (r *runner) runQuick(ctx context.Context, l *ladder.Ladder) ladder.Outcome {
	s := r.s
	w, ok, why := r.findWarm(ctx)
	if ok {
		r.printf("==> quick run: reusing the warm app %s (at %s)\n", w.Domain, w.Ref)
		r.mu.Lock()
		r.warmBusy = true
		r.res.Domain = w.Domain
		r.mu.Unlock()
		out, wr := l.RunQuick(ctx, w)
		r.settleWarm(ctx, wr)
		return out
	}
	r.printf("==> quick run requested, but %s: running cold instead\n", why)
	r.mu.Lock()
	r.res.Mode = ModeCold
	r.res.Manifest[results.ManifestQuickFallback] = why
	r.mu.Unlock()
	out := l.Run(ctx)
	if ctx.Err() != nil || results.Verdict(out.Tiers) != results.VerdictPass {
		return out
	}
	r.mu.Lock()
	r.warmBusy = true
	r.mu.Unlock()
	wr := l.CreateWarm(ctx, s.WarmDomain())
	r.settleWarm(ctx, wr)
	return l.Recount(out)
}

// settleWarm records what the run did to the warm app: its new state, or its removal when it is
// in a condition no later run should build on.
func (r *runner) settleWarm(ctx context.Context, wr ladder.WarmResult) {
	s := r.s
	r.printf("==> warm: %s\n", wr.Note)
	r.mu.Lock()
	r.res.Manifest["warm"] = wr.Note
	r.mu.Unlock()
	if wr.Keep {
		if err := writeWarm(s.RunsDir, s.Recipe, wr.Warm); err != nil {
			r.printf("    could not record the warm app (%v): removing it\n", err)
		} else {
			r.mu.Lock()
			r.warmBusy = false
			r.mu.Unlock()
			return
		}
	}
	if ctx.Err() != nil {
		return // the teardown funnel removes it
	}
	r.removeWarm(ctx)
}

// removeWarm takes the warm app off the swarm and forgets it; the next quick run runs cold.
func (r *runner) removeWarm(ctx context.Context) {
	s := r.s
	domain := s.WarmDomain()
	if _, err := r.docker.Teardown(ctx, naming.Stack(domain), r.dir.AppEnvPath(s.Server, domain)); err != nil {
		r.printf("    removing the warm app %s failed: %v (the next quick run will say so)\n", domain, err)
	}
	_ = os.Remove(warmPath(s.RunsDir, s.Recipe))
	r.mu.Lock()
	r.warmBusy = false
	r.mu.Unlock()
}
