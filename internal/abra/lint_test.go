package abra

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lintTable is `abra recipe lint` output in abra's format (see docs/abra-contract.md, "recipe
// lint"), written here: a bordered table, then abra's warning when an error rule failed.
const lintTable = `┌──────┬──────────────────────────────────────────┬──────────┬───────────┬─────────┬──────────────────────────────────────────┐
│ REF  │ RULE                                     │ SEVERITY │ SATISFIED │ SKIPPED │ RESOLVE                                  │
├──────┼──────────────────────────────────────────┼──────────┼───────────┼─────────┼──────────────────────────────────────────┤
│ R001 │ compose config has expected version      │ warn     │ ✅        │ -       │ ensure 'version: "3.8"' in compose configs │
│ R002 │ healthcheck enabled for all services     │ warn     │ ❌        │ -       │ wire up healthchecks                     │
│ R006 │ has published catalogue version          │ warn     │ -         │ ✅      │ publish a recipe version to the catalogue │
│ R010 │ traefik routing enabled                  │ error    │ ✅        │ -       │ include "traefik.enable=true" deploy label │
│ R014 │ only annotated tags used for recipe version │ error │ ❌        │ -       │ replace lightweight tag with annotated tag │
└──────┴──────────────────────────────────────────┴──────────┴───────────┴─────────┴──────────────────────────────────────────┘
WARN critical errors present in sample config
`

func TestParseLint(t *testing.T) {
	t.Parallel()
	want := []LintRule{
		{Ref: "R001", Description: "compose config has expected version", Severity: SeverityWarn, Satisfied: true},
		{Ref: "R002", Description: "healthcheck enabled for all services", Severity: SeverityWarn},
		{Ref: "R006", Description: "has published catalogue version", Severity: SeverityWarn, Skipped: true},
		{Ref: "R010", Description: "traefik routing enabled", Severity: SeverityError, Satisfied: true},
		{Ref: "R014", Description: "only annotated tags used for recipe version", Severity: SeverityError},
	}
	got, err := ParseLint(lintTable)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, []LintRule{want[4]}, LintFailures(got), "only a failed error rule fails lint; a warning or a skip never does")
}

func TestParseLintAcceptsOtherRenderings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		output string
		want   []LintRule
	}{
		{name: "an ASCII table with a progress line before it",
			output: "running recipe lint rules...\n+------+-------+\n" +
				"| REF | RULE | SEVERITY | SATISFIED | SKIPPED | RESOLVE |\n+------+\n" +
				"| R009 | one service named 'app' | error | ✅ | - | name a service 'app' |\n+------+\n",
			want: []LintRule{{Ref: "R009", Description: "one service named 'app'", Severity: SeverityError, Satisfied: true}}},
		{name: "colour codes and carriage returns from the terminal",
			output: "\x1b[1m│ REF │ RULE │ SEVERITY │ SATISFIED │ SKIPPED │\x1b[0m\r\n│ \x1b[32mR011\x1b[0m │ all services have images │ error │ ✅ │ - │\r\n",
			want:   []LintRule{{Ref: "R011", Description: "all services have images", Severity: SeverityError, Satisfied: true}}},
		{name: "a wrapped RULE cell continues on the next line",
			output: "│ ref │ rule │ severity │ satisfied │ skipped │\n│ R012 │ config version are │ error │ ❌ │ - │\n│ │ vendored │ │ │ │\n",
			want:   []LintRule{{Ref: "R012", Description: "config version are vendored", Severity: SeverityError}}},
		{name: "columns in another order",
			output: "│ SEVERITY │ SKIPPED │ SATISFIED │ RULE │ REF │\n│ warn │ - │ ❌ │ long secret names │ R015 │\n",
			want:   []LintRule{{Ref: "R015", Description: "long secret names", Severity: SeverityWarn}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseLint(tt.output)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseLintRefusesWhatItCannotReadForCertain(t *testing.T) {
	t.Parallel()
	header := "│ REF │ RULE │ SEVERITY │ SATISFIED │ SKIPPED │\n"
	tests := []struct {
		name    string
		output  string
		wantErr string
	}{
		{name: "empty output", output: "", wantErr: "no rule table"},
		{name: "a FATA instead of a table", output: "FATA unable to validate recipe: .env.sample for sample couldn't be read\n",
			wantErr: "no rule table"},
		{name: "a header and no rows", output: header, wantErr: "no rows"},
		{name: "rows without a header", output: "│ R001 │ x │ warn │ ✅ │ - │\n", wantErr: "no rule table"},
		{name: "a header missing SKIPPED", output: "│ REF │ RULE │ SEVERITY │ SATISFIED │\n│ R001 │ x │ warn │ ✅ │\n",
			wantErr: "no rule table"},
		{name: "an unknown severity", output: header + "│ R001 │ x │ fatal │ ✅ │ - │\n", wantErr: `unknown severity "fatal"`},
		{name: "an unknown mark", output: header + "│ R001 │ x │ error │ yes │ - │\n", wantErr: `SATISFIED "yes"`},
		{name: "an empty SATISFIED cell", output: header + "│ R001 │ x │ error │ │ - │\n", wantErr: `SATISFIED ""`},
		{name: "satisfied and skipped at once", output: header + "│ R001 │ x │ error │ ✅ │ ✅ │\n", wantErr: "does not fit"},
		{name: "an unknown SKIPPED mark", output: header + "│ R001 │ x │ error │ ✅ │ no │\n", wantErr: `SKIPPED mark "no"`},
		{name: "a malformed rule number", output: header + "│ R1 │ x │ error │ ✅ │ - │\n", wantErr: `rule number "R1"`},
		{name: "a short row", output: header + "│ R001 │ x │ error │\n", wantErr: "cells where the header has more"},
		{name: "a rule twice, e.g. a spoofed row", output: header + "│ R010 │ x │ error │ ❌ │ - │\n│ R010 │ x │ error │ ✅ │ - │\n",
			wantErr: "rule R010 appears twice"},
		{name: "a continuation with marks", output: header + "│ R001 │ x │ error │ ✅ │ - │\n│ │ y │ error │ │ │\n",
			wantErr: "a row without a rule number"},
		{name: "a continuation before any rule", output: header + "│ │ y │ │ │ │\n", wantErr: "continuation line before the first rule"},
		{name: "abra's critical-errors warning with no failed error rule",
			output:  header + "│ R001 │ x │ warn │ ❌ │ - │\nWARN critical errors present in sample config\n",
			wantErr: "no error-severity rule reads as failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseLint(tt.output)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Nil(t, got, "a parse failure never yields rules")
		})
	}
}

func FuzzParseLint(f *testing.F) {
	f.Add(lintTable)
	f.Add(strings.ReplaceAll(lintTable, "❌", "✅"))
	f.Fuzz(func(t *testing.T, out string) {
		rules, err := ParseLint(out)
		if err != nil {
			return
		}
		require.NotEmpty(t, rules, "success always means at least one parsed rule")
		for _, r := range rules {
			assert.Regexp(t, `^R[0-9]{3}$`, r.Ref)
			assert.False(t, r.Satisfied && r.Skipped)
		}
	})
}
