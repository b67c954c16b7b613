package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"coopcloud.tech/cc-ci/internal/abra"
	"coopcloud.tech/cc-ci/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lintDir makes $ABRA_DIR/recipes/sample as a git repo holding files, with an annotated tag
// 0.1.0+1.0.0 and, when lightweight, a lightweight tag 0.2.0+1.0.0.
func lintDir(t *testing.T, files map[string]string, lightweight bool) string {
	t.Helper()
	abraDir := t.TempDir()
	dir := filepath.Join(abraDir, "recipes", "sample")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t"}, args...)...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "recipe")
	git("tag", "-a", "0.1.0+1.0.0", "-m", "release")
	if lightweight {
		git("tag", "0.2.0+1.0.0")
	}
	return abraDir
}

const goodCompose = `---
version: "3.8"
x-labels: &labels
  traefik.enable: "true"
services:
  app:
    image: nginx:1.25.3
    healthcheck: {test: ["CMD", "true"]}
    deploy:
      labels:
        <<: *labels
        coop-cloud.${STACK_NAME}.version: 0.1.0+1.0.0
  db:
    image: postgres:15-alpine
    healthcheck: {test: ["CMD", "true"]}
secrets:
  db_password: {external: true}
`

func lintOf(t *testing.T, abraDir string) (int, []abra.LintRule, string) {
	t.Helper()
	code, stdout, stderr := runFake(t, abraDir, "recipe", "lint", "sample", "--no-input")
	rules, err := abra.ParseLint(stdout + stderr)
	require.NoError(t, err, "the FAKE's table parses with abra.ParseLint:\n%s", stdout)
	return code, rules, stderr
}

func failed(rules []abra.LintRule) map[string]bool {
	out := map[string]bool{}
	for _, r := range rules {
		if !r.Satisfied {
			out[r.Ref] = true
		}
	}
	return out
}

func TestRecipeLintRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		files       map[string]string
		lightweight bool
		wantFailed  []string
		critical    bool
	}{
		{name: "a good recipe satisfies every rule, with anchors and merge keys in its labels",
			files: map[string]string{"compose.yml": goodCompose, ".env.sample": "DOMAIN=x\n"}},
		{name: "a lightweight release tag fails R014, an error",
			files: map[string]string{"compose.yml": goodCompose, ".env.sample": "DOMAIN=x\n"}, lightweight: true,
			wantFailed: []string{"R014"}, critical: true},
		{name: "no traefik label, no app service and no image fail the error rules",
			files:      map[string]string{".env.sample": "DOMAIN=x\n", "compose.yml": "version: \"3.8\"\nservices:\n  web:\n    healthcheck: {}\n"},
			wantFailed: []string{"R003", "R005", "R009", "R010", "R011", "R016"}, critical: true},
		{name: "warnings alone are not critical: a missing healthcheck, latest and untagged images, a long secret",
			files: map[string]string{".env.sample": "DOMAIN=x\n", "compose.yml": `version: "3.7"
services:
  app:
    image: nginx:latest
    deploy: {labels: ["traefik.enable=true"]}
  cache:
    image: redis
secrets:
  a_secret_name_longer_than_twelve: {external: true}
`}, wantFailed: []string{"R001", "R002", "R003", "R004", "R005", "R015"}},
		{name: "a config without versions vendored in abra.sh fails R012",
			files:      map[string]string{".env.sample": "DOMAIN=x\n", "compose.yml": goodCompose + "configs:\n  conf:\n    file: conf.tmpl\n"},
			wantFailed: []string{"R012"}, critical: true},
		{name: "a config with versions vendored in abra.sh satisfies R012",
			files: map[string]string{".env.sample": "DOMAIN=x\n", "abra.sh": "export CONF_VERSION=v1\n",
				"compose.yml": goodCompose + "configs:\n  conf:\n    file: conf.tmpl\n"}},
		{name: "an override file is read too: its service without a healthcheck fails R002",
			files: map[string]string{".env.sample": "DOMAIN=x\n", "compose.yml": goodCompose,
				"compose.smtp.yml": "version: \"3.8\"\nservices:\n  smtp:\n    image: mailhog:1.0.1\n"},
			wantFailed: []string{"R002"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, rules, stderr := lintOf(t, lintDir(t, tt.files, tt.lightweight))
			assert.Equal(t, 0, code, "abra lint exits 0 whatever the rules say")
			want := map[string]bool{}
			for _, ref := range tt.wantFailed {
				want[ref] = true
			}
			assert.Equal(t, want, failed(rules))
			assert.Equal(t, tt.critical, len(abra.LintFailures(rules)) > 0)
			if tt.critical {
				assert.Contains(t, stderr, "WARN critical errors present in sample config")
			} else {
				assert.NotContains(t, stderr, "critical errors present")
			}
		})
	}
}

func TestRecipeLintPrintsAbrasRuleNumbersInAbrasTable(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, writeLintTable(&out, []lintResult{
		{Ref: "R010", Rule: "traefik routing enabled", Severity: sevError, Resolve: "x", Satisfied: false},
	}))
	assert.Equal(t, "┌──────┬─────────────────────────┬──────────┬───────────┬─────────┬─────────┐\n"+
		"│ REF  │ RULE                    │ SEVERITY │ SATISFIED │ SKIPPED │ RESOLVE │\n"+
		"├──────┼─────────────────────────┼──────────┼───────────┼─────────┼─────────┤\n"+
		"│ R010 │ traefik routing enabled │ error    │ ❌        │ -       │ x       │\n"+
		"└──────┴─────────────────────────┴──────────┴───────────┴─────────┴─────────┘\n", out.String())
	refs := map[string]bool{}
	for _, r := range lintRuleTable {
		assert.Regexp(t, `^R0(0[1-9]|1[0-6])$`, r.ref, "abra's numbering")
		assert.False(t, refs[r.ref], "rule %s once", r.ref)
		refs[r.ref] = true
		assert.Contains(t, []string{sevError, sevWarn}, r.severity)
	}
}

func TestRecipeLintFailsOnlyWhenItCannotLint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		variant testkit.Variant
		wantErr string
	}{
		{"no .env.sample", testkit.NoEnvSample, "FATA unable to validate recipe: .env.sample for sample couldn't be read"},
		{"a compose file that does not parse", testkit.BrokenCompose, "FATA unable to validate recipe: parse compose.yml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runFake(t, abraDirWith(t, tt.variant), "recipe", "lint", "sample", "--no-input")
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, tt.wantErr)
			_, err := abra.ParseLint(stdout + stderr)
			assert.Error(t, err, "no table, so nothing reads as satisfied")
		})
	}
}

func TestRecipeLintPassesTheGoodSampleRecipe(t *testing.T) {
	t.Parallel()
	code, rules, _ := lintOf(t, abraDirWith(t, testkit.Good))
	assert.Equal(t, 0, code)
	assert.Empty(t, abra.LintFailures(rules), "the good sample recipe reaches the lint rung")
}
