package run

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"coopcloud.tech/cc-ci/internal/appconfig"
	"coopcloud.tech/cc-ci/plugin/ladder"
	"coopcloud.tech/cc-ci/plugin/limits"
	"coopcloud.tech/cc-ci/plugin/policy"
)

// guard is the ladder's Guard on the real world: the policy over the app's effective
// configuration as appconfig reads it (the app's .env, abra.sh, every compose file selected),
// then the run's resource limits as an override the deploy selects last.
type guard struct {
	recipe    string
	allow     policy.Allowances
	allowFile string // shown in reasons, so an operator knows where to allow a construct
	budget    limits.Budget
	clock     *clock
}

// newGuard loads the operator's allowances from the overlays dir (none when it is not set).
func newGuard(s *Settings, c *clock) (*guard, error) {
	g := &guard{recipe: s.Recipe, allowFile: "recipes/" + policy.AllowFile, clock: c, budget: s.budget()}
	if err := g.budget.Validate(); err != nil {
		return nil, fmt.Errorf("resource budget: %w", err)
	}
	if s.OverlaysDir == "" {
		return g, nil
	}
	allow, err := policy.LoadAllowances(filepath.Join(s.OverlaysDir, policy.AllowFile))
	if err != nil {
		return nil, err
	}
	g.allow = allow
	return g, nil
}

// Check implements ladder.Guard.
func (g *guard) Check(ctx context.Context, recipeDir, envPath, stack string) (ladder.Guarded, error) {
	defer g.clock.since("policy", time.Now())
	var out ladder.Guarded
	// The recipe's own configuration, without a previous deploy's limits.
	if err := limits.Detach(recipeDir, envPath); err != nil {
		return out, err
	}
	load := func() (*appconfig.Config, error) {
		return appconfig.Load(ctx, appconfig.LoadOptions{RecipeDir: recipeDir, EnvFile: envPath, Recipe: g.recipe, Stack: stack})
	}
	cfg, err := load()
	if err != nil {
		return out, err
	}
	refused, allowed, err := policy.Check(ctx, cfg, g.recipe, g.allow)
	if err != nil {
		return out, err
	}
	for _, f := range refused {
		out.Refused = append(out.Refused, f.Reason(g.allowFile))
	}
	for _, f := range allowed {
		out.Allowed = append(out.Allowed, f.Allowed(g.allowFile))
	}
	if len(out.Refused) > 0 {
		return out, nil
	}
	plan, err := limits.Plan(cfg, g.budget)
	if err != nil {
		return out, err
	}
	applied, err := limits.Apply(ctx, recipeDir, envPath, plan)
	if err != nil {
		return out, err
	}
	// What abra will read now selects the override with exactly the planned limits.
	if cfg, err = load(); err != nil {
		return out, err
	}
	if err := limits.Check(cfg, plan, applied); err != nil {
		return out, err
	}
	for _, p := range plan {
		out.Limits = append(out.Limits, p.String())
	}
	if note := applied.Note(); note != "" {
		out.Limits = append(out.Limits, note)
	}
	return out, nil
}
