package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Lint severities, as abra prints them.
const (
	sevError = "error"
	sevWarn  = "warn"
)

// lintResult is one rule's outcome. The fake skips no rule, so SKIPPED is always "-".
type lintResult struct {
	Ref, Rule, Severity, Resolve string
	Satisfied                    bool
}

// lintFacts is what the rules read besides the compose files.
type lintFacts struct {
	dir             string
	lightweightTags []string
}

// lintRule is one of abra's rules (git.coopcloud.tech/toolshed/abra, pkg/lint/recipe.go), with
// abra's number, description, severity and how-to-resolve. The fake implements those it can
// check offline from the checkout; it leaves out R006 (catalogue), R007 (README metadata) and
// R013 (repository on git.coopcloud.tech).
type lintRule struct {
	ref, rule, severity, resolve string
	check                        func(c lintCompose, facts lintFacts) bool
}

var lintRuleTable = []lintRule{
	{"R001", "compose config has expected version", sevWarn, `ensure 'version: "3.8"' in compose configs`,
		func(c lintCompose, _ lintFacts) bool { return c.version == "3.8" }},
	{"R002", "healthcheck enabled for all services", sevWarn, "wire up healthchecks",
		func(c lintCompose, _ lintFacts) bool { return c.all(func(s lintService) bool { return s.healthcheck }) }},
	{"R003", "all images use a tag", sevWarn, "use a tag for all images",
		func(c lintCompose, _ lintFacts) bool {
			return c.all(func(s lintService) bool { return imageTag(s.image) != "" })
		}},
	{"R004", "no unstable tags", sevWarn, "tag all images with stable tags",
		func(c lintCompose, _ lintFacts) bool {
			return c.all(func(s lintService) bool { return !strings.Contains(imageTag(s.image), "latest") })
		}},
	{"R005", "tags use semver-like format", sevWarn, "use semver-like tags",
		func(c lintCompose, _ lintFacts) bool {
			return c.all(func(s lintService) bool { return semverLike.MatchString(imageTag(s.image)) })
		}},
	{"R008", ".env.sample provided", sevError, "create an example .env.sample",
		func(_ lintCompose, facts lintFacts) bool { return exists(filepath.Join(facts.dir, ".env.sample")) }},
	{"R009", "one service named 'app'", sevError, "name a service 'app'",
		func(c lintCompose, _ lintFacts) bool { _, ok := c.services["app"]; return ok }},
	{"R010", "traefik routing enabled", sevError, `include "traefik.enable=true" deploy label`,
		func(c lintCompose, _ lintFacts) bool {
			return !c.all(func(s lintService) bool { return s.labels["traefik.enable"] != "true" })
		}},
	{"R011", "all services have images", sevError, `ensure "image: ..." set on all services`,
		func(c lintCompose, _ lintFacts) bool { return c.all(func(s lintService) bool { return s.image != "" }) }},
	{"R012", "config version are vendored", sevError, "vendor config versions in an abra.sh",
		func(c lintCompose, facts lintFacts) bool {
			return !c.configs || exportsSomething(filepath.Join(facts.dir, "abra.sh"))
		}},
	{"R014", "only annotated tags used for recipe version", sevError, "replace lightweight tag with annotated tag",
		func(_ lintCompose, facts lintFacts) bool { return len(facts.lightweightTags) == 0 }},
	{"R015", "long secret names", sevWarn, "reduce length of secret names to 12 chars",
		func(c lintCompose, _ lintFacts) bool { return c.longestSecret <= 12 }},
	{"R016", "deploy labels stanza present", sevError, `include "deploy: labels: ..." stanza`,
		func(c lintCompose, _ lintFacts) bool { return c.services["app"].hasLabels }},
}

var semverLike = regexp.MustCompile(`^v?[0-9]+(\.[0-9]+)*(-[0-9A-Za-z.-]+)?$`)

// lintRules evaluates every implemented rule, in rule order.
func lintRules(c lintCompose, facts lintFacts) []lintResult {
	out := make([]lintResult, 0, len(lintRuleTable))
	for _, r := range lintRuleTable {
		out = append(out, lintResult{Ref: r.ref, Rule: r.rule, Severity: r.severity, Resolve: r.resolve,
			Satisfied: r.check(c, facts)})
	}
	return out
}

// lintCompose is what the rules read from the recipe's compose files, merged.
type lintCompose struct {
	version       string
	services      map[string]lintService
	configs       bool
	longestSecret int
}

type lintService struct {
	image       string
	healthcheck bool
	hasLabels   bool
	labels      map[string]string
}

func (c lintCompose) all(ok func(lintService) bool) bool {
	for _, s := range c.services {
		if !ok(s) {
			return false
		}
	}
	return true
}

// composeFile is the part of a compose file lint reads. Decoding into it resolves YAML anchors,
// aliases and merge keys.
type composeFile struct {
	Version  string `yaml:"version"`
	Services map[string]struct {
		Image       string `yaml:"image"`
		Healthcheck any    `yaml:"healthcheck"`
		Deploy      struct {
			Labels any `yaml:"labels"`
		} `yaml:"deploy"`
	} `yaml:"services"`
	Configs map[string]any `yaml:"configs"`
	Secrets map[string]any `yaml:"secrets"`
}

// loadLintCompose reads every compose*.yml of the recipe (compose.yml first), as abra's lint
// does, and merges them: later files add services and override images and labels.
func loadLintCompose(dir string) (lintCompose, error) {
	files, err := filepath.Glob(filepath.Join(dir, "compose*.yml"))
	if err != nil {
		return lintCompose{}, err
	}
	sort.Slice(files, func(i, j int) bool {
		if (filepath.Base(files[i]) == "compose.yml") != (filepath.Base(files[j]) == "compose.yml") {
			return filepath.Base(files[i]) == "compose.yml"
		}
		return files[i] < files[j]
	})
	if len(files) == 0 {
		return lintCompose{}, fmt.Errorf("no compose.yml in %s", dir)
	}
	c := lintCompose{services: map[string]lintService{}}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return lintCompose{}, err
		}
		var doc composeFile
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return lintCompose{}, fmt.Errorf("parse %s: %w", filepath.Base(file), err)
		}
		if doc.Version != "" {
			c.version = doc.Version
		}
		for name, s := range doc.Services {
			ls := c.services[name]
			if s.Image != "" {
				ls.image = s.Image
			}
			ls.healthcheck = ls.healthcheck || s.Healthcheck != nil
			labels, err := labelMap(s.Deploy.Labels)
			if err != nil {
				return lintCompose{}, fmt.Errorf("parse %s: service %s: %w", filepath.Base(file), name, err)
			}
			if s.Deploy.Labels != nil {
				ls.hasLabels = true
			}
			if ls.labels == nil {
				ls.labels = map[string]string{}
			}
			for k, v := range labels {
				ls.labels[k] = v
			}
			c.services[name] = ls
		}
		c.configs = c.configs || len(doc.Configs) > 0
		for name := range doc.Secrets {
			c.longestSecret = max(c.longestSecret, utf8.RuneCountInString(name))
		}
	}
	return c, nil
}

// labelMap reads deploy labels written as a list of "k=v" or as a map.
func labelMap(v any) (map[string]string, error) {
	out := map[string]string{}
	switch l := v.(type) {
	case nil:
	case []any:
		for _, item := range l {
			k, val, _ := strings.Cut(fmt.Sprint(item), "=")
			out[k] = val
		}
	case map[string]any:
		for k, val := range l {
			out[k] = fmt.Sprint(val)
		}
	default:
		return nil, fmt.Errorf("deploy labels are neither a list nor a map")
	}
	return out, nil
}

// imageTag returns the tag of an image reference ("" when it has none).
func imageTag(image string) string {
	name, _, _ := strings.Cut(image, "@")
	last := name[strings.LastIndex(name, "/")+1:]
	_, tag, _ := strings.Cut(last, ":")
	return tag
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// exportsSomething reports whether an abra.sh exports at least one variable.
func exportsSomething(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "export ") {
			return true
		}
	}
	return false
}

// writeLintTable prints the results as abra does: a box-drawn table with the columns REF, RULE,
// SEVERITY, SATISFIED, SKIPPED and RESOLVE; ✅ / ❌ for SATISFIED, "-" for a rule not skipped.
func writeLintTable(w io.Writer, results []lintResult) error {
	rows := [][]string{{"REF", "RULE", "SEVERITY", "SATISFIED", "SKIPPED", "RESOLVE"}}
	for _, r := range results {
		mark := "✅"
		if !r.Satisfied {
			mark = "❌"
		}
		rows = append(rows, []string{r.Ref, r.Rule, r.Severity, mark, "-", r.Resolve})
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], cellWidth(cell))
		}
	}
	rule := func(left, mid, right string) string {
		parts := make([]string, len(widths))
		for i, wd := range widths {
			parts[i] = strings.Repeat("─", wd+2)
		}
		return left + strings.Join(parts, mid) + right + "\n"
	}
	var b strings.Builder
	b.WriteString(rule("┌", "┬", "┐"))
	for i, row := range rows {
		for j, cell := range row {
			b.WriteString("│ " + cell + strings.Repeat(" ", widths[j]-cellWidth(cell)+1))
		}
		b.WriteString("│\n")
		if i == 0 {
			b.WriteString(rule("├", "┼", "┤"))
		}
	}
	b.WriteString(rule("└", "┴", "┘"))
	_, err := io.WriteString(w, b.String())
	return err
}

// cellWidth is the terminal width of a cell: the marks ✅ and ❌ take two columns.
func cellWidth(s string) int {
	return utf8.RuneCountInString(s) + strings.Count(s, "✅") + strings.Count(s, "❌")
}
