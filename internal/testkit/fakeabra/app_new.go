package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"coopcloud.tech/cc-ci/internal/appconfig"
)

// appNew: `abra app new <recipe> [<version>] --server <s> --domain <d> [--secrets] [--chaos] --no-input`.
// Like abra it first checks the recipe out: at version, else at the newest release (abra's
// `app new` moves the checkout to the release tag), unless --chaos keeps the checked-out commit
// (docs/abra-contract.md, "app new").
// Like abra it writes the app's .env as a copy of the recipe's .env.sample with every
// "<recipe>.example.com" replaced by the domain, and adds nothing: no DOMAIN, no TYPE (abra pkg/app
// TemplateAppEnvSample; docs/abra-contract.md). A sample without DOMAIN gives an app without a
// domain, as it would with abra. With --secrets it generates the secrets the compose files
// declare, at the `# length=` their .env variables ask for.
func appNew(ctx context.Context, f *fake, in invocation) error {
	recipe, version := in.arg(0), in.arg(1)
	server, domain := in.flags["--server"], in.flags["--domain"]
	dir := f.recipeDir(recipe)
	if !isDir(dir) {
		return fmt.Errorf("recipe %s not fetched: run abra recipe fetch %s (no %s)", recipe, recipe, dir)
	}
	if version != "" && in.has("--chaos") {
		return &usageError{msg: "--chaos creates the app from the checked-out commit: give no version",
			usage: "usage: abra app new <recipe> --chaos --server <s> --domain <d> --no-input"}
	}
	if !in.has("--chaos") {
		if version == "" {
			newest, err := f.newestTag(ctx, dir)
			if err != nil {
				return err
			}
			version = newest // "" when the recipe has no release: the checked-out commit is used
		}
		if version != "" {
			if err := f.checkoutTag(ctx, dir, recipe, version); err != nil {
				return err
			}
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
	sample, err := os.ReadFile(filepath.Join(dir, appconfig.SampleEnvFile))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("recipe %s has no .env.sample: cannot create app %s", recipe, domain)
	}
	if err != nil {
		return fmt.Errorf("read .env.sample of %s: %w", recipe, err)
	}
	content := appconfig.TemplateEnvSample(string(sample), recipe, domain)
	if err := os.WriteFile(envPath, []byte(content), 0o600); err != nil {
		return fmt.Errorf("write .env of %s: %w", domain, err)
	}
	fmt.Fprintf(f.stdout, "app %s created: %s\n", domain, envPath)
	if !in.has("--secrets") {
		return nil
	}
	// As in abra, the .env stays when the secrets cannot be generated; nothing is created in
	// the swarm before every secret's name is checked.
	cfg, err := appconfig.Load(ctx, appconfig.LoadOptions{RecipeDir: dir, EnvFile: envPath, Recipe: recipe, Stack: stackName(domain)})
	if err != nil {
		return fmt.Errorf("generate secrets of %s: recipe %s: %w", domain, recipe, err)
	}
	secrets, err := cfg.ComposeSecrets(ctx, dir)
	if err != nil {
		return fmt.Errorf("generate secrets of %s: %w", domain, err)
	}
	return f.generateSecrets(ctx, domain, secrets)
}
