package main

import (
	"context"
	"fmt"
	"strings"

	"coopcloud.tech/cc-ci/internal/appconfig"
)

// appEnv reads domain's .env the way abra reads it (appconfig, godotenv semantics) and returns it
// with its path and the recipe it names: RECIPE, else TYPE, without a ":<version>" suffix (abra
// pkg/app NewApp reads RECIPE then TYPE; docs/abra-contract.md).
func (f *fake) appEnv(domain string) (appconfig.Env, string, string, error) {
	path, err := f.findEnv(domain)
	if err != nil {
		return appconfig.Env{}, "", "", err
	}
	env, err := appconfig.ReadEnvFile(path)
	if err != nil {
		return appconfig.Env{}, "", "", fmt.Errorf("read .env of %s: %w", domain, err)
	}
	recipe, ok := env.Get("RECIPE")
	if !ok {
		recipe, _ = env.Get("TYPE")
	}
	recipe, _, _ = strings.Cut(recipe, ":")
	if recipe == "" {
		return appconfig.Env{}, "", "", fmt.Errorf("%s has no TYPE (or RECIPE): which recipe is app %s?", path, domain)
	}
	return env, path, recipe, nil
}

// appConfig loads domain's effective configuration from the recipe checkout as it is now: the
// .env, abra.sh's exports, STACK_NAME and the compose files COMPOSE_FILE selects.
func (f *fake) appConfig(ctx context.Context, domain string) (*appconfig.Config, string, error) {
	_, path, recipe, err := f.appEnv(domain)
	if err != nil {
		return nil, "", err
	}
	dir := f.recipeDir(recipe)
	if !isDir(dir) {
		return nil, "", fmt.Errorf("recipe %s not fetched: run abra recipe fetch %s", recipe, recipe)
	}
	cfg, err := appconfig.Load(ctx, appconfig.LoadOptions{RecipeDir: dir, EnvFile: path, Recipe: recipe, Stack: stackName(domain)})
	if err != nil {
		return nil, "", fmt.Errorf("recipe %s for app %s: %w", recipe, domain, err)
	}
	return cfg, dir, nil
}
