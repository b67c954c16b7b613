package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// convergeTimeout bounds how long a deploy waits for its services (abra's default is similar).
const convergeTimeout = 3 * time.Minute

// appDeploy: `abra app deploy <domain> [<version>] --no-input [--chaos] [--no-converge-checks]`.
// With a version it checks that release out; with --chaos it deploys the working tree as it is;
// with neither, the newest release. Then, as abra does, it reads the app's effective configuration
// (the .env, abra.sh's exports, STACK_NAME, the compose files COMPOSE_FILE selects) and records the
// deployed version (and chaos state) as coop-cloud.<stack>.* labels on the "app" service.
func appDeploy(ctx context.Context, f *fake, in invocation) error {
	domain, version := in.arg(0), in.arg(1)
	chaos := in.has("--chaos")
	if chaos && version != "" {
		return &usageError{msg: "--chaos deploys the checked-out tree: give no version",
			usage: "usage: abra app deploy <domain> --chaos --no-input"}
	}
	_, _, recipe, err := f.appEnv(domain)
	if err != nil {
		return err
	}
	dir := f.recipeDir(recipe)
	if !isDir(dir) {
		return fmt.Errorf("recipe %s not fetched: run abra recipe fetch %s", recipe, recipe)
	}
	stack := stackName(domain)
	labels, err := f.deployLabels(ctx, dir, recipe, version, chaos)
	if err != nil {
		return fmt.Errorf("deploy %s: %w", domain, err)
	}
	cfg, _, err := f.appConfig(ctx, domain) // after the checkout: the files deployed
	if err != nil {
		return fmt.Errorf("deploy %s: %w", domain, err)
	}
	if err := checkVersionLabel(cfg.Project, stack); err != nil {
		return fmt.Errorf("deploy %s: recipe %s: %w", domain, recipe, err)
	}
	env, renamed := deployEnv(f.environ, cfg.Environment)
	files, err := prepareFiles(dir, stack, cfg.ComposeFiles, renamed)
	if err != nil {
		return fmt.Errorf("deploy %s: %w", domain, err)
	}
	defer files.cleanup()
	composeVer, err := composeVersion(dir, files.names[0])
	if err != nil {
		return fmt.Errorf("deploy %s: %w", domain, err)
	}
	override, err := writeOverride(stack, composeVer, labels)
	if err != nil {
		return fmt.Errorf("deploy %s: %w", domain, err)
	}
	defer os.RemoveAll(filepath.Dir(override))
	before, err := f.snapshot(ctx, stack)
	if err != nil {
		return fmt.Errorf("deploy %s: %w", domain, err)
	}
	started := time.Now()
	fmt.Fprintf(f.stdout, "deploying %s (stack %s) with labels %s\n", domain, stack, formatLabels(labels))
	if _, err := f.execRun(ctx, execSpec{name: "docker", args: stackDeployArgs(files.names, override, stack),
		dir: dir, env: env, stdout: f.stdout}); err != nil {
		return fmt.Errorf("deploy %s: %w", domain, err)
	}
	if in.has("--no-converge-checks") {
		return nil
	}
	if err := f.waitConverged(ctx, stack, before, started, convergeTimeout); err != nil {
		return fmt.Errorf("deploy %s: %w", domain, err)
	}
	fmt.Fprintf(f.stdout, "%s deployed and converged\n", domain)
	return nil
}

// deployLabels checks out what is to be deployed and returns the labels that record it.
func (f *fake) deployLabels(ctx context.Context, dir, recipe, version string, chaos bool) (map[string]string, error) {
	newest, err := f.newestTag(ctx, dir)
	if err != nil {
		return nil, err
	}
	labels := map[string]string{}
	switch {
	case chaos:
		sha, err := f.git(ctx, dir, "rev-parse", "--short=8", "HEAD")
		if err != nil {
			return nil, err
		}
		// Dirty as abra judges it (pkg/git IsClean: go-git's Worktree.Status): modified and
		// untracked files count, git-ignored ones do not (plugin/limits' self-ignoring .cc-ci-limits/).
		// go-git from v5.19.1 no longer reads .git/info/exclude, so the fake's own copies
		// excluded there (excludeCopies) are a fake-only detail, never something abra sees.
		dirty, err := f.git(ctx, dir, "status", "--porcelain")
		if err != nil {
			return nil, err
		}
		if dirty != "" {
			sha += "+U"
		}
		labels["chaos"], labels["chaos-version"] = "true", sha
		if newest != "" {
			labels["version"] = newest
		}
		return labels, nil
	case version == "":
		if newest == "" {
			return nil, fmt.Errorf("recipe %s has no published version: deploy with --chaos", recipe)
		}
		version = newest
	}
	if err := f.checkoutTag(ctx, dir, recipe, version); err != nil {
		return nil, err
	}
	labels["version"] = version
	return labels, nil
}

// checkoutTag force-checks out release tag version, refusing anything that is not a tag.
func (f *fake) checkoutTag(ctx context.Context, dir, recipe, version string) error {
	if _, err := f.git(ctx, dir, "rev-parse", "-q", "--verify", "refs/tags/"+version+"^{commit}"); err != nil {
		return fmt.Errorf("version %s of recipe %s not found: no such tag in %s", version, recipe, dir)
	}
	if _, err := f.git(ctx, dir, "checkout", "-q", "--force", version); err != nil {
		return fmt.Errorf("check out %s of recipe %s: %w", version, recipe, err)
	}
	return nil
}

// newestTag returns the highest release tag ("" when there is none).
func (f *fake) newestTag(ctx context.Context, dir string) (string, error) {
	out, err := f.git(ctx, dir, "tag", "--list")
	if err != nil {
		return "", err
	}
	tags := strings.Fields(out)
	if len(tags) == 0 {
		return "", nil
	}
	sort.Slice(tags, func(i, j int) bool { return compareVersions(tags[i], tags[j]) < 0 })
	return tags[len(tags)-1], nil
}

// compareVersions orders recipe versions "X.Y.Z+upstream" by their numeric recipe part, then
// as strings; a tag that is not X.Y.Z sorts before every one that is.
func compareVersions(a, b string) int {
	pa, oka := semver(a)
	pb, okb := semver(b)
	switch {
	case oka && !okb:
		return 1
	case !oka && okb:
		return -1
	case oka && okb:
		for i := range pa {
			if pa[i] != pb[i] {
				if pa[i] < pb[i] {
					return -1
				}
				return 1
			}
		}
	}
	return strings.Compare(a, b)
}

func semver(v string) ([3]int, bool) {
	core, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), "+")
	parts := strings.Split(core, ".")
	var out [3]int
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		if _, err := fmt.Sscanf(p, "%d", &out[i]); err != nil || fmt.Sprint(out[i]) != p {
			return out, false
		}
	}
	return out, true
}

// labelOverride returns a compose file adding coop-cloud.<stack>.<key>=<value> to the deploy
// labels of the "app" service; compose merges it over the recipe's own labels. It declares the
// recipe's compose file version (none when version is nil): see composeVersion.
func labelOverride(stack string, version *yaml.Node, labels map[string]string) ([]byte, error) {
	full := make(map[string]string, len(labels))
	for k, v := range labels {
		full["coop-cloud."+stack+"."+k] = v
	}
	var services yaml.Node
	if err := services.Encode(map[string]any{"app": map[string]any{"deploy": map[string]any{"labels": full}}}); err != nil {
		return nil, fmt.Errorf("encode label override: %w", err)
	}
	root := &yaml.Node{Kind: yaml.MappingNode}
	if version != nil {
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "version"}, version)
	}
	root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "services"}, &services)
	out, err := yaml.Marshal(root)
	if err != nil {
		return nil, fmt.Errorf("encode label override: %w", err)
	}
	return out, nil
}

func writeOverride(stack string, version *yaml.Node, labels map[string]string) (string, error) {
	data, err := labelOverride(stack, version, labels)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "fake-abra-override-")
	if err != nil {
		return "", fmt.Errorf("label override: %w", err)
	}
	path := filepath.Join(dir, "compose.fake-abra-labels.yml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", fmt.Errorf("label override: %w", err)
	}
	return path, nil
}

// stackDeployArgs is the docker command line of a deploy: images are never resolved against a
// registry (there is none here) and services no longer in the recipe are pruned.
func stackDeployArgs(files []string, override, stack string) []string {
	args := []string{"stack", "deploy", "--resolve-image", "never", "--prune"}
	for _, f := range files {
		args = append(args, "--compose-file", f)
	}
	return append(args, "--compose-file", override, stack)
}

func formatLabels(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k+"="+labels[k])
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}
