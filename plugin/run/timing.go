package run

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"coopcloud.tech/cc-ci/internal/recipe"
	"coopcloud.tech/cc-ci/internal/swarm"
	"coopcloud.tech/cc-ci/plugin/ladder"
	"coopcloud.tech/cc-ci/plugin/ladder/floor"
)

// clock sums the time a run spends waiting on the outside world (abra, Docker, git, hooks, the
// front door), so the plugin's own overhead is the wall time minus that. It is how the overhead
// benchmark is measured; nothing decides on it.
type clock struct {
	mu    sync.Mutex
	spent map[string]time.Duration
}

func newClock() *clock { return &clock{spent: map[string]time.Duration{}} }

func (c *clock) add(kind string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spent[kind] += d
}

func (c *clock) since(kind string, start time.Time) { c.add(kind, time.Since(start)) }

// report renders "wall Xs; inside abra As, docker Ds, ...; plugin overhead Os (P%)".
func (c *clock) report(wall time.Duration) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	kinds := make([]string, 0, len(c.spent))
	var outside time.Duration
	for k, d := range c.spent {
		kinds = append(kinds, k)
		outside += d
	}
	sort.Strings(kinds)
	parts := make([]string, 0, len(kinds))
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s %.2fs", k, c.spent[k].Seconds()))
	}
	own := wall - outside
	return fmt.Sprintf("wall %.2fs; inside %s; plugin overhead %.3fs (%.2f%%)",
		wall.Seconds(), strings.Join(parts, ", "), own.Seconds(), 100*own.Seconds()/wall.Seconds())
}

// timedSwarm is the ladder's swarm watcher with its calls timed as "docker".
type timedSwarm struct {
	c     *swarm.Client
	clock *clock
}

func (t timedSwarm) WaitConvergedReport(ctx context.Context, stack string, opts swarm.WaitOptions) (swarm.Convergence, error) {
	defer t.clock.since("docker", time.Now())
	return t.c.WaitConvergedReport(ctx, stack, opts)
}

func (t timedSwarm) ServiceLabels(ctx context.Context, stack string) (map[string]map[string]string, error) {
	defer t.clock.since("docker", time.Now())
	return t.c.ServiceLabels(ctx, stack)
}

// gitCheckout adapts the recipe package to the ladder's gitTree for one checkout, timed as "git".
// override is the explicit upgrade base ("" walks the base chain).
type gitCheckout struct {
	dir       string
	override  string
	canonical string // the recipe's last green canonical version, "" when none
	clock     *clock
}

func (g gitCheckout) Checkout(ctx context.Context, ref string) (string, error) {
	defer g.clock.since("git", time.Now())
	return recipe.Checkout(ctx, g.dir, ref)
}

func (g gitCheckout) UpgradeBase(ctx context.Context, head string) (recipe.Base, bool, error) {
	defer g.clock.since("git", time.Now())
	return recipe.UpgradeBaseFrom(ctx, g.dir, head, g.override, g.canonical)
}

// timedProbe is the overlay's data probe with its hook runs timed as "hooks".
type timedProbe struct {
	p     *ladder.HookProbe
	clock *clock
}

func (t timedProbe) Write(ctx context.Context, domain, key, value string) error {
	defer t.clock.since("hooks", time.Now())
	return t.p.Write(ctx, domain, key, value)
}

func (t timedProbe) Read(ctx context.Context, domain, key string) (string, bool, error) {
	defer t.clock.since("hooks", time.Now())
	return t.p.Read(ctx, domain, key)
}

// timedFloor is one stack's generic data floor with its Docker calls timed as "docker".
type timedFloor struct {
	f     *floor.Floor
	clock *clock
}

func (t timedFloor) MarkVolumes(ctx context.Context) (int, error) {
	defer t.clock.since("docker", time.Now())
	return t.f.MarkVolumes(ctx)
}

func (t timedFloor) CheckVolumes(ctx context.Context) error {
	defer t.clock.since("docker", time.Now())
	return t.f.CheckVolumes(ctx)
}

func (t timedFloor) MarkBackupPaths(ctx context.Context) (int, error) {
	defer t.clock.since("docker", time.Now())
	return t.f.MarkBackupPaths(ctx)
}

func (t timedFloor) MutateBackupPaths(ctx context.Context) error {
	defer t.clock.since("docker", time.Now())
	return t.f.MutateBackupPaths(ctx)
}

func (t timedFloor) CheckBackupPaths(ctx context.Context) error {
	defer t.clock.since("docker", time.Now())
	return t.f.CheckBackupPaths(ctx)
}

// timedTransport times front-door round trips as "http".
type timedTransport struct {
	rt    http.RoundTripper
	clock *clock
}

func (t timedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	defer t.clock.since("http", time.Now())
	return t.rt.RoundTrip(req)
}

func (t timedSwarm) CheckStable(ctx context.Context, stack string, since time.Time) error {
	defer t.clock.since("docker", time.Now())
	return t.c.CheckStable(ctx, stack, since)
}
