package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"gopkg.in/yaml.v3"
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

// Lint severities, as abra prints them.
const (
	sevError = "error"
	sevWarn  = "warn"
)

// lintResult is one rule's outcome.
type lintResult struct {
	Ref, Rule, Severity string
	Satisfied           bool
}

// recipeLint: `abra recipe lint <recipe> --no-input`: a small subset of abra's rules, printed
// as a table; exit 1 when an error-severity rule fails.
func recipeLint(ctx context.Context, f *fake, in invocation) error {
	recipe := in.arg(0)
	dir := f.recipeDir(recipe)
	if !isDir(dir) {
		return fmt.Errorf("recipe %s not fetched: run abra recipe fetch %s", recipe, recipe)
	}
	newest, err := f.newestTag(ctx, dir)
	if err != nil {
		return fmt.Errorf("lint %s: %w", recipe, err)
	}
	results := lintRules(dir, newest)
	tw := tabwriter.NewWriter(f.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REF\tRULE\tSEVERITY\tSATISFIED")
	failed := 0
	for _, r := range results {
		mark := "✅"
		if !r.Satisfied {
			mark = "❌"
			if r.Severity == sevError {
				failed++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Ref, r.Rule, r.Severity, mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("critical errors present in %s config: %d error-severity rule(s) failed", recipe, failed)
	}
	return nil
}

// lintRules evaluates the rules against the recipe's working tree.
func lintRules(dir, newestTag string) []lintResult {
	compose, composeErr := readCompose(filepath.Join(dir, "compose.yml"))
	labels := compose.appLabels()
	_, envErr := os.Stat(filepath.Join(dir, ".env.sample"))
	release := false
	if newestTag != "" {
		_, err := os.Stat(filepath.Join(dir, "release", newestTag))
		release = err == nil
	}
	_, hasVersion := labels["coop-cloud.${STACK_NAME}.version"]
	return []lintResult{
		{"R001", "compose.yml exists and parses as YAML", sevError, composeErr == nil},
		{"R002", ".env.sample exists", sevError, envErr == nil},
		{"R003", "app service has a coop-cloud.${STACK_NAME}.version deploy label", sevError, hasVersion},
		{"R004", "traefik routing enabled (traefik.enable=true)", sevError, labels["traefik.enable"] == "true"},
		{"R005", "release note exists for the newest version", sevWarn, release},
	}
}

// composeDoc is the part of a compose file lint reads.
type composeDoc struct {
	Services map[string]struct {
		Deploy struct {
			Labels yaml.Node `yaml:"labels"`
		} `yaml:"deploy"`
	} `yaml:"services"`
}

func readCompose(path string) (composeDoc, error) {
	var doc composeDoc
	data, err := os.ReadFile(path)
	if err != nil {
		return doc, err
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return composeDoc{}, fmt.Errorf("parse %s: %w", path, err)
	}
	return doc, nil
}

// appLabels returns the "app" service's deploy labels, written as a list or as a map.
func (d composeDoc) appLabels() map[string]string {
	out := map[string]string{}
	node := d.Services["app"].Deploy.Labels
	switch node.Kind {
	case yaml.SequenceNode:
		for _, item := range node.Content {
			k, v, _ := strings.Cut(item.Value, "=")
			out[k] = v
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			out[node.Content[i].Value] = node.Content[i+1].Value
		}
	}
	return out
}
