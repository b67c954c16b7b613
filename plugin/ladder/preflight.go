package ladder

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"coopcloud.tech/cc-ci/internal/appconfig"
	"coopcloud.tech/cc-ci/internal/naming"
)

// preflight checks the recipe at the PR head before anything is deployed, so a broken file is
// reported by name with its fix instead of as a deploy error deep in abra's output.
func (l *Ladder) preflight(t *tier) bool {
	problems := Preflight(l.RecipeDir, l.Recipe, naming.Stack(l.UpgradeDomain))
	if len(problems) > 0 {
		t.fail("preflight", "%s", strings.Join(problems, "; "))
		return false
	}
	t.pass("preflight", "compose files load, .env.sample has TYPE and DOMAIN, secret names fit")
	return true
}

// Preflight returns every problem found in the recipe checkout at dir (of the named recipe) for an
// app with the given stack name; each problem names the file and the fix. It reads .env.sample as
// abra reads it and loads the compose files COMPOSE_FILE selects through the app's effective
// configuration (appconfig.Load), so what passes here is what abra app new and deploy read.
func Preflight(dir, recipe, stack string) []string {
	envPath := filepath.Join(dir, appconfig.SampleEnvFile)
	env, err := appconfig.ReadEnvFile(envPath)
	if errors.Is(err, fs.ErrNotExist) {
		return []string{".env.sample is missing: every recipe needs one (abra app new copies it to the app's .env); add it to the recipe"}
	}
	if err != nil {
		return []string{fmt.Sprintf(".env.sample does not parse: %s: fix the line named",
			strings.TrimPrefix(err.Error(), envPath+" "))}
	}
	var problems []string
	if p := composeProblem(dir, recipe, stack); p != "" {
		problems = append(problems, p)
	}
	problems = append(problems, sampleKeyProblems(env, recipe)...)
	for _, s := range env.Secrets() {
		name := naming.SecretName(stack, s.Name, s.Version)
		if len(name) > naming.MaxSwarmName {
			problems = append(problems, fmt.Sprintf(".env.sample: secret %s would be named %q (%d chars), over Docker's %d: shorten the secret's name in .env.sample and compose.yml",
				s.Name, name, len(name), naming.MaxSwarmName))
		}
	}
	return problems
}

// composeProblem loads the app's effective configuration from .env.sample and returns what
// stops it loading ("" when it loads and declares services). Load reads only local files, so it
// needs no deadline of the run's.
func composeProblem(dir, recipe, stack string) string {
	cfg, err := appconfig.Load(context.Background(), appconfig.LoadOptions{RecipeDir: dir, Recipe: recipe, Stack: stack})
	var ce *appconfig.ComposeError
	switch {
	case errors.As(err, &ce) && ce.Missing:
		return ce.Error()
	case errors.As(err, &ce) && ce.Syntax:
		return fmt.Sprintf("%s: fix the syntax at that line", ce.Error())
	case errors.As(err, &ce):
		return fmt.Sprintf("%s: fix %s (abra deploys the merged compose files, and docker refuses this)", ce.Error(), ce.File)
	case err != nil:
		return err.Error()
	case len(cfg.Project.Services) == 0:
		return fmt.Sprintf("%s declares no services: a recipe's compose.yml needs a services: map", cfg.ComposeFiles[0])
	}
	return ""
}

// sampleKeyProblems checks the keys abra app new relies on. abra app new copies .env.sample to the
// app's .env replacing every "<recipe>.example.com" with the app's domain and adds nothing (abra
// pkg/app TemplateAppEnvSample), then finds the app's recipe from its TYPE (or RECIPE) line and its
// domain from its DOMAIN line (abra pkg/app NewApp); see docs/abra-contract.md.
func sampleKeyProblems(env appconfig.Env, recipe string) []string {
	var problems []string
	placeholder := recipe + ".example.com"
	_, hasType := env.Get("TYPE")
	_, hasRecipe := env.Get("RECIPE")
	if !hasType && !hasRecipe {
		problems = append(problems, fmt.Sprintf(".env.sample has no TYPE=...: abra finds an app's recipe from the TYPE line abra app new copies into the app's .env; add TYPE=%s", recipe))
	}
	domain, ok := env.Get("DOMAIN")
	switch {
	case !ok:
		problems = append(problems, fmt.Sprintf(".env.sample has no DOMAIN=...: abra app new writes the app's domain there (it replaces %s); add DOMAIN=%s",
			placeholder, placeholder))
	case !strings.Contains(domain, placeholder):
		problems = append(problems, fmt.Sprintf(".env.sample has DOMAIN=%s, which does not contain %s: abra app new replaces only %s with the app's domain, so the app would never be served at its own domain; set DOMAIN=%s",
			domain, placeholder, placeholder, placeholder))
	}
	return problems
}
