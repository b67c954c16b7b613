package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// appNew: `abra app new <recipe> [<version>] --server <s> --domain <d> [--secrets] --no-input`.
// It writes the app's .env from the recipe's .env.sample and, with --secrets, creates the secrets.
func appNew(ctx context.Context, f *fake, in invocation) error {
	recipe, version := in.arg(0), in.arg(1)
	server, domain := in.flags["--server"], in.flags["--domain"]
	dir := f.recipeDir(recipe)
	if !isDir(dir) {
		return fmt.Errorf("recipe %s not fetched: run abra recipe fetch %s (no %s)", recipe, recipe, dir)
	}
	if version != "" {
		if err := f.checkoutTag(ctx, dir, recipe, version); err != nil {
			return err
		}
	}
	serverDir := filepath.Join(f.abraDir, "servers", server)
	if !isDir(serverDir) {
		return fmt.Errorf("server %s not found (no %s): run abra server add %s", server, serverDir, server)
	}
	envPath := filepath.Join(serverDir, domain+".env")
	if _, err := os.Stat(envPath); err == nil {
		return fmt.Errorf("app %s already exists (%s)", domain, envPath)
	}
	sample, err := os.ReadFile(filepath.Join(dir, ".env.sample"))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("recipe %s has no .env.sample: cannot create app %s", recipe, domain)
	}
	if err != nil {
		return fmt.Errorf("read .env.sample of %s: %w", recipe, err)
	}
	content := rewriteEnv(string(sample), []envVar{{"TYPE", recipe}, {"DOMAIN", domain}})
	if err := os.WriteFile(envPath, []byte(content), 0o600); err != nil {
		return fmt.Errorf("write .env of %s: %w", domain, err)
	}
	fmt.Fprintf(f.stdout, "app %s created: %s\n", domain, envPath)
	if in.has("--secrets") {
		return f.generateSecrets(ctx, domain, parseEnv(content), false)
	}
	return nil
}

// appSecretGenerate: `abra app secret generate <domain> --all --no-input`.
func appSecretGenerate(ctx context.Context, f *fake, in invocation) error {
	domain := in.arg(0)
	vars, _, err := f.appEnv(domain)
	if err != nil {
		return err
	}
	return f.generateSecrets(ctx, domain, vars, true)
}

// appEnv reads domain's .env and returns its variables and the recipe it names (TYPE, or
// RECIPE, without a ":<version>" suffix).
func (f *fake) appEnv(domain string) ([]envVar, string, error) {
	path, err := f.findEnv(domain)
	if err != nil {
		return nil, "", err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("read .env of %s: %w", domain, err)
	}
	vars := parseEnv(string(data))
	m := envMap(vars)
	recipe := m["TYPE"]
	if recipe == "" {
		recipe = m["RECIPE"]
	}
	recipe, _, _ = strings.Cut(recipe, ":")
	if recipe == "" {
		return nil, "", fmt.Errorf("%s has no TYPE: which recipe is app %s?", path, domain)
	}
	return vars, recipe, nil
}
