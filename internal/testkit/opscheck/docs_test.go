package opscheck

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docsText is every docs/*.md of the repo, concatenated.
func docsText(t *testing.T, root string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no docs/*.md")
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		b.Write(data)
		b.WriteByte('\n')
	}
	return b.String()
}

// mentionsFlag reports whether text names --flag as a whole flag: "--lock-dir" is not found in
// "--lock-dir-x".
func mentionsFlag(text, flag string) bool {
	return regexp.MustCompile(`--` + regexp.QuoteMeta(flag) + `([^a-z0-9-]|$)`).MatchString(text)
}

// mentionsEnv reports whether text names the variable as a whole word: "CCCI_RUNS_DIR" is not
// found in "CCCI_RUNS_DIR_X" nor in "XCCCI_RUNS_DIR".
func mentionsEnv(text, name string) bool {
	return regexp.MustCompile(`(^|[^A-Z0-9_])` + regexp.QuoteMeta(name) + `([^A-Z0-9_]|$)`).MatchString(text)
}

// TestDocsNameEveryFlagAndEnvVar is the acceptance line of issue 11: every flag and environment
// variable that a binary's --help lists appears somewhere in docs/*.md.
func TestDocsNameEveryFlagAndEnvVar(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	docs := docsText(t, root)
	for _, b := range binaries {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := help(t, root, b)
			if h.missing != "" {
				t.Fatalf("%s cannot be built (%s): its flags cannot be listed", b.name, h.missing)
			}
			require.NoError(t, h.err)
			f := parseHelp(h.text)
			// A help text that parses to nothing would pass vacuously: every binary has a few.
			require.GreaterOrEqual(t, len(f.flags), 5, "too few flags parsed from %s --help:\n%s", b.name, h.text)
			require.GreaterOrEqual(t, len(f.env), 5, "too few env vars parsed from %s --help:\n%s", b.name, h.text)
			for _, flag := range f.flags {
				assert.True(t, mentionsFlag(docs, flag), "%s --%s is in no docs/*.md", b.name, flag)
			}
			for _, env := range f.env {
				assert.True(t, mentionsEnv(docs, env), "%s reads $%s, which is in no docs/*.md", b.name, env)
			}
		})
	}
}

// TestDocMatchers holds the matchers to whole names, so a near miss in the docs never passes.
func TestDocMatchers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, flag, env string
		want                  bool
	}{
		{name: "a flag in backticks is found", text: "use `--lock-dir`", flag: "lock-dir", want: true},
		{name: "a flag at the end of the text is found", text: "see --deadline", flag: "deadline", want: true},
		{name: "a longer flag does not count", text: "--lock-dir-x only", flag: "lock-dir", want: false},
		{name: "a flag without dashes does not count", text: "lock-dir", flag: "lock-dir", want: false},
		{name: "a variable in a table cell is found", text: "| `CCCI_RUNS_DIR` |", env: "CCCI_RUNS_DIR", want: true},
		{name: "a variable with $ is found", text: "$CCCI_DEADLINE.", env: "CCCI_DEADLINE", want: true},
		{name: "a longer variable does not count", text: "CCCI_RUNS_DIR_X", env: "CCCI_RUNS_DIR", want: false},
		{name: "a variable inside another does not count", text: "PLUGIN_CCCI_RUNS_DIR", env: "CCCI_RUNS_DIR", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.flag != "" {
				assert.Equal(t, tt.want, mentionsFlag(tt.text, tt.flag))
			}
			if tt.env != "" {
				assert.Equal(t, tt.want, mentionsEnv(tt.text, tt.env))
			}
		})
	}
}

// TestParseHelp holds the --help parser to urfave/cli's format, on a real excerpt.
func TestParseHelp(t *testing.T) {
	t.Parallel()
	text := `GLOBAL OPTIONS:
   --lock-dir value       directory of per-app lockfiles (default: "/run/lock/cc-ci") [$PLUGIN_LOCK_DIR, $CCCI_APP_LOCK_DIR]
   --deadline value       whole-run deadline (default: 1h0m0s) [$PLUGIN_DEADLINE, $CCCI_DEADLINE]
   --dry-run              list what the pass would do (default: false) [$CCCI_JANITOR_DRY_RUN]
   --github-token-file value  file holding the GitHub token (or the token in $CCCI_GITHUB_TOKEN) [$CCCI_GITHUB_TOKEN_FILE]
   --help, -h             show help
`
	f := parseHelp(text)
	assert.Equal(t, []string{"lock-dir", "deadline", "dry-run", "github-token-file"}, f.flags)
	assert.Equal(t, []string{"CCCI_APP_LOCK_DIR", "CCCI_DEADLINE", "CCCI_GITHUB_TOKEN", "CCCI_GITHUB_TOKEN_FILE",
		"CCCI_JANITOR_DRY_RUN", "PLUGIN_DEADLINE", "PLUGIN_LOCK_DIR"}, f.env)
	assert.Equal(t, map[string]string{"lock-dir": "/run/lock/cc-ci", "deadline": "1h0m0s", "dry-run": "false"}, f.defaults)
}
