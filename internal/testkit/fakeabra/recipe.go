package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// recipeFetch: `abra recipe fetch <recipe> --no-input`. The fake never goes to the network: the
// recipe must already be a git checkout under $ABRA_DIR/recipes.
func recipeFetch(_ context.Context, f *fake, in invocation) error {
	recipe := in.arg(0)
	dir := f.recipeDir(recipe)
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		return fmt.Errorf("recipe %s is not checked out in %s and the FAKE abra cannot fetch from the network", recipe, dir)
	}
	fmt.Fprintf(f.stdout, "recipe %s already fetched (%s)\n", recipe, dir)
	return nil
}

// recipeLint: `abra recipe lint <recipe> --no-input`, as real abra behaves
// (docs/abra-contract.md, "recipe lint"): it prints its rule table with abra's rule numbers and
// exits 0 whatever the rules say; after an error-severity rule fails it logs "WARN critical
// errors present in <recipe> config". It exits 1 only when it cannot lint at all (FATA), e.g.
// without a .env.sample or with a compose file that does not parse.
func recipeLint(ctx context.Context, f *fake, in invocation) error {
	recipe := in.arg(0)
	dir := f.recipeDir(recipe)
	if !isDir(dir) {
		return fmt.Errorf("recipe %s not fetched: run abra recipe fetch %s", recipe, recipe)
	}
	if _, err := os.Stat(filepath.Join(dir, ".env.sample")); err != nil {
		return fmt.Errorf("unable to validate recipe: .env.sample for %s couldn't be read: %w", recipe, err)
	}
	c, err := loadLintCompose(dir)
	if err != nil {
		return fmt.Errorf("unable to validate recipe: %w", err)
	}
	lightweight, err := f.lightweightTags(ctx, dir)
	if err != nil {
		return fmt.Errorf("unable to validate recipe: %w", err)
	}
	results := lintRules(c, lintFacts{dir: dir, lightweightTags: lightweight})
	if err := writeLintTable(f.stdout, results); err != nil {
		return err
	}
	for _, r := range results {
		if r.Severity == sevError && !r.Satisfied {
			fmt.Fprintf(f.stderr, "WARN critical errors present in %s config\n", recipe)
			break
		}
	}
	return nil
}

// lightweightTags lists the recipe's tags that are not annotated (abra's rule R014).
func (f *fake) lightweightTags(ctx context.Context, dir string) ([]string, error) {
	out, err := f.git(ctx, dir, "for-each-ref", "--format=%(objecttype) %(refname:short)", "refs/tags")
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	var light []string
	for _, line := range strings.Split(out, "\n") {
		kind, name, ok := strings.Cut(strings.TrimSpace(line), " ")
		if ok && kind != "tag" {
			light = append(light, name)
		}
	}
	return light, nil
}
