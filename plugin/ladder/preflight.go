package ladder

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/internal/rundir"
)

// secretVersion matches abra's secret declarations in .env.sample: SECRET_<NAME>_VERSION=<v>.
var secretVersion = regexp.MustCompile(`^SECRET_([A-Z0-9_]+)_VERSION$`)

// preflight checks the recipe at the PR head before anything is deployed, so a broken file is
// reported by name with its fix instead of as a deploy error deep in abra's output.
func (l *Ladder) preflight(t *tier) bool {
	problems := Preflight(l.RecipeDir, l.Stack)
	if len(problems) > 0 {
		t.fail("preflight", "%s", strings.Join(problems, "; "))
		return false
	}
	t.pass("preflight", "compose files parse, .env.sample present, secret names fit")
	return true
}

// Preflight returns every problem found in the recipe checkout at dir for an app with the given
// stack name; each problem names the file and the fix.
func Preflight(dir, stack string) []string {
	envPath := filepath.Join(dir, ".env.sample")
	env, order, err := rundir.ReadEnvFile(envPath)
	if errors.Is(err, fs.ErrNotExist) {
		return []string{".env.sample is missing: every recipe needs one (abra app new copies it to the app's .env); add it to the recipe"}
	}
	if err != nil {
		return []string{fmt.Sprintf(".env.sample does not parse: %v: fix the line named", err)}
	}
	var problems []string
	files := env["COMPOSE_FILE"]
	if files == "" {
		files = "compose.yml"
	}
	for _, f := range strings.Split(files, ":") {
		if p := checkCompose(filepath.Join(dir, f), f); p != "" {
			problems = append(problems, p)
		}
	}
	sort.Strings(order)
	for _, key := range order {
		m := secretVersion.FindStringSubmatch(key)
		if m == nil {
			continue
		}
		name := naming.SecretName(stack, strings.ToLower(m[1]), env[key])
		if len(name) > naming.MaxSwarmName {
			problems = append(problems, fmt.Sprintf(".env.sample: secret %s would be named %q (%d chars), over Docker's %d: shorten the secret's name in .env.sample and compose.yml",
				strings.ToLower(m[1]), name, len(name), naming.MaxSwarmName))
		}
	}
	return problems
}

func checkCompose(path, name string) string {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("%s is missing (named by COMPOSE_FILE in .env.sample): add it or fix COMPOSE_FILE", name)
	}
	if err != nil {
		return fmt.Sprintf("%s: %v", name, err)
	}
	var doc struct {
		Services map[string]any `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Sprintf("%s does not parse as YAML: %v: fix the syntax at that line", name, err)
	}
	if len(doc.Services) == 0 && name == "compose.yml" {
		return fmt.Sprintf("%s declares no services: a recipe's compose.yml needs a services: map", name)
	}
	return ""
}
