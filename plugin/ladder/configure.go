package ladder

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"coopcloud.tech/cc-ci/internal/appconfig"
	"coopcloud.tech/cc-ci/internal/atomicfile"
	"coopcloud.tech/cc-ci/plugin/overlay"
)

// configure is what an operator does between `abra app new` and the first deploy: the overlay's
// app_env edits to the app's .env, then its install_steps.sh. Both apps get it, each once.
func (l *Ladder) configure(ctx context.Context, t *tier, a *app) bool {
	if env := l.Overlay.Config.AppEnv; len(env) > 0 {
		path := l.envPath(a)
		data, err := os.ReadFile(path)
		if err != nil {
			t.unverified("read the app's .env: %v", err)
			return false
		}
		content := string(data)
		keys := slices.Sorted(maps.Keys(env))
		for _, k := range keys {
			if content, err = appconfig.SetValue(content, k, env[k]); err != nil {
				t.unverified("set %s in the app's .env: %v", k, err)
				return false
			}
		}
		if err := atomicfile.Write(path, []byte(content), 0o600); err != nil {
			t.unverified("write the app's .env: %v", err)
			return false
		}
		t.pass("app env", "set %s from the overlay's app_env", strings.Join(keys, ", "))
	}
	if !l.Overlay.HasInstallSteps() {
		return true
	}
	if l.Check == nil {
		t.unverified("the overlay has %s but this run cannot execute it", overlay.InstallSteps)
		return false
	}
	l.banner(t.Name, "%s for %s", overlay.InstallSteps, a.Domain)
	o := l.Check.Exec(ctx, a.Domain, overlay.InstallSteps, l.Overlay.Path(overlay.InstallSteps), nil, l.StepTimeout)
	l.absorbOutcome(ctx, t, overlay.InstallSteps, o)
	return t.ok()
}

// pinnedImages warns when what is deployed is not what the PR head says: an overlay's app_env
// or install steps (a compose override) that pins a service's image hides the change under test.
// The head's own configuration is its .env.sample as `abra app new` templates it.
func (l *Ladder) pinnedImages(ctx context.Context, t *tier, a *app) {
	head, err := appconfig.Load(ctx, appconfig.LoadOptions{RecipeDir: l.RecipeDir, Recipe: l.Recipe, Domain: a.Domain, Stack: a.Stack})
	if err != nil {
		return // preflight judged the head's files; nothing to compare against
	}
	deployed, err := appconfig.Load(ctx, appconfig.LoadOptions{RecipeDir: l.RecipeDir, EnvFile: l.envPath(a), Recipe: l.Recipe, Stack: a.Stack})
	if err != nil {
		t.Warnings = append(t.Warnings, fmt.Sprintf("the app's configuration after the overlay's edits could not be read to compare images: %v", err))
		return
	}
	want := map[string]string{}
	for name, s := range head.Project.Services {
		want[name] = s.Image
	}
	for _, name := range slices.Sorted(maps.Keys(deployed.Project.Services)) {
		got := deployed.Project.Services[name].Image
		if w, ok := want[name]; ok && w != got {
			msg := fmt.Sprintf("service %s runs image %s, not the PR head's %s: the overlay pins it, which hides the change under test", name, got, w)
			t.Warnings = append(t.Warnings, msg)
			l.warnings = append(l.warnings, msg)
		}
	}
}

func (l *Ladder) envPath(a *app) string { return filepath.Join(l.ServerDir, a.Domain+".env") }
