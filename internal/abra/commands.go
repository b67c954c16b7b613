package abra

import (
	"context"
	"fmt"
	"strings"
)

// AppNew creates the app's .env and secrets for recipe at version ("" for the newest).
func (c *Client) AppNew(ctx context.Context, recipe, version, server, domain string) error {
	if err := operands("app new", "recipe", recipe, "server", server, "domain", domain); err != nil {
		return err
	}
	if err := optionalVersion("app new", version); err != nil {
		return err
	}
	return c.appNewMasked(ctx, AppNewArgs(recipe, version, server, domain), server, domain)
}

// AppNewChaos creates the app's .env and secrets from the checked-out commit of recipe.
func (c *Client) AppNewChaos(ctx context.Context, recipe, server, domain string) error {
	if err := operands("app new", "recipe", recipe, "server", server, "domain", domain); err != nil {
		return err
	}
	return c.appNewMasked(ctx, AppNewChaosArgs(recipe, server, domain), server, domain)
}

// Deploy deploys the app at version, or with chaos at the checked-out commit; not both.
func (c *Client) Deploy(ctx context.Context, domain, version string, chaos bool) error {
	if err := operands("app deploy", "domain", domain); err != nil {
		return err
	}
	if err := optionalVersion("app deploy", version); err != nil {
		return err
	}
	if version != "" && chaos {
		return fmt.Errorf("app deploy %s: version %q and chaos are mutually exclusive", domain, version)
	}
	return c.run(ctx, DeployArgs(domain, version, chaos))
}

// Undeploy stops the app's stack.
func (c *Client) Undeploy(ctx context.Context, domain string) error {
	if err := operands("app undeploy", "domain", domain); err != nil {
		return err
	}
	return c.run(ctx, UndeployArgs(domain))
}

// Remove removes the app's volumes, secrets and .env.
func (c *Client) Remove(ctx context.Context, domain string) error {
	if err := operands("app remove", "domain", domain); err != nil {
		return err
	}
	return c.run(ctx, RemoveArgs(domain))
}

// SecretGenerate generates every secret the recipe declares.
func (c *Client) SecretGenerate(ctx context.Context, domain string) error {
	if err := operands("app secret generate", "domain", domain); err != nil {
		return err
	}
	return c.run(ctx, SecretGenerateArgs(domain))
}

// SecretGenerateOne generates one secret the recipe declares, at version.
func (c *Client) SecretGenerateOne(ctx context.Context, domain, secret, version string) error {
	if err := operands("app secret generate", "domain", domain, "secret", secret, "version", version); err != nil {
		return err
	}
	return c.run(ctx, SecretGenerateOneArgs(domain, secret, version))
}

// BackupCreate takes a backup of the app.
//
// Deprecated: use BackupCreateSnapshot, which returns the snapshot to restore.
func (c *Client) BackupCreate(ctx context.Context, domain string) error {
	if err := operands("app backup create", "domain", domain); err != nil {
		return err
	}
	return c.run(ctx, BackupCreateArgs(domain))
}

// BackupCreateSnapshot takes a backup of the app and returns the id of the snapshot it made, as
// abra printed it. Output with no snapshot id, or more than one, is an *OutputError: the backup
// cannot be restored for certain.
func (c *Client) BackupCreateSnapshot(ctx context.Context, domain string) (string, error) {
	if err := operands("app backup create", "domain", domain); err != nil {
		return "", err
	}
	res, err := c.Run(ctx, BackupCreateArgs(domain)...)
	if err != nil {
		return "", err
	}
	id, err := ParseSnapshotID(res.Output)
	if err != nil {
		return "", &OutputError{Args: BackupCreateArgs(domain), Output: tail(res.Output, tailLines), Err: err}
	}
	return id, nil
}

// Restore restores the app's latest backup.
//
// Deprecated: the latest backup may be another run's; use RestoreSnapshot.
func (c *Client) Restore(ctx context.Context, domain string) error {
	if err := operands("app restore", "domain", domain); err != nil {
		return err
	}
	return c.run(ctx, RestoreArgs(domain))
}

// RestoreSnapshot restores one snapshot of the app (the one BackupCreateSnapshot returned).
func (c *Client) RestoreSnapshot(ctx context.Context, domain, snapshot string) error {
	if err := operands("app restore", "domain", domain, "snapshot", snapshot); err != nil {
		return err
	}
	if !snapshotRef.MatchString(snapshot) {
		return fmt.Errorf("app restore %s: snapshot %q is not a snapshot id (8 to 64 hex digits)", domain, snapshot)
	}
	return c.run(ctx, RestoreSnapshotArgs(domain, snapshot))
}

// RecipeFetch fetches the recipe into $ABRA_DIR/recipes.
func (c *Client) RecipeFetch(ctx context.Context, recipe string) error {
	if err := operands("recipe fetch", "recipe", recipe); err != nil {
		return err
	}
	return c.run(ctx, RecipeFetchArgs(recipe))
}

// RecipeLint lints the checked-out recipe. The Result holds the lint report, also on failure.
func (c *Client) RecipeLint(ctx context.Context, recipe string) (Result, error) {
	if err := operands("recipe lint", "recipe", recipe); err != nil {
		return Result{}, err
	}
	return c.Run(ctx, RecipeLintArgs(recipe)...)
}

func (c *Client) run(ctx context.Context, args []string) error {
	_, err := c.Run(ctx, args...)
	return err
}

// operands refuses empty positional values and values abra would parse as flags (a recipe
// named "--chaos" must not change what runs). pairs alternate name, value.
func operands(cmd string, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		name, v := pairs[i], pairs[i+1]
		if v == "" {
			return fmt.Errorf("%s: %s is empty", cmd, name)
		}
		if strings.HasPrefix(v, "-") {
			return fmt.Errorf("%s: %s %q starts with '-'", cmd, name, v)
		}
	}
	return nil
}

// optionalVersion allows an empty version (abra then picks one) but not a flag-like one.
func optionalVersion(cmd, version string) error {
	if version == "" {
		return nil
	}
	return operands(cmd, "version", version)
}
