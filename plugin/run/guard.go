package run

import (
	"context"
	"path/filepath"
	"time"

	"coopcloud.tech/cc-ci/internal/appconfig"
	"coopcloud.tech/cc-ci/plugin/policy"
)

// guard is the ladder's Guard on the real world: the policy over the app's effective
// configuration, as appconfig reads it (the app's .env, abra.sh, every compose file selected).
type guard struct {
	recipe    string
	allow     policy.Allowances
	allowFile string // shown in reasons, so an operator knows where to allow a construct
	clock     *clock
}

// newGuard loads the operator's allowances from the overlays dir (none when it is not set).
func newGuard(s *Settings, c *clock) (*guard, error) {
	g := &guard{recipe: s.Recipe, allowFile: "recipes/" + policy.AllowFile, clock: c}
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
func (g *guard) Check(ctx context.Context, recipeDir, envPath, stack string) ([]string, []string, error) {
	defer g.clock.since("policy", time.Now())
	cfg, err := appconfig.Load(ctx, appconfig.LoadOptions{RecipeDir: recipeDir, EnvFile: envPath, Recipe: g.recipe, Stack: stack})
	if err != nil {
		return nil, nil, err
	}
	refused, allowed, err := policy.Check(ctx, cfg, g.recipe, g.allow)
	if err != nil {
		return nil, nil, err
	}
	var no, yes []string
	for _, f := range refused {
		no = append(no, f.Reason(g.allowFile))
	}
	for _, f := range allowed {
		yes = append(yes, f.Allowed(g.allowFile))
	}
	return no, yes, nil
}
