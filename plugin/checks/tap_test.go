package checks

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
)

// judgeTAP judges stdout as RunExec does for an executable that exited 0, without a process.
func judgeTAP(stdout string) ExecOutcome {
	r := &execRun{name: "t.sh", mask: func(s string) string { return s }}
	p := newTAPParser(r.addTAP)
	for _, l := range strings.Split(stdout, "\n") {
		p.Line(l)
	}
	v, problems := r.finishTAP(p)
	return r.judge(procEnd{}, v, problems)
}

func statusesOf(rows []results.Check) []results.Status {
	out := make([]results.Status, len(rows))
	for i, r := range rows {
		out[i] = r.Status
	}
	return out
}

const (
	P = results.Pass
	F = results.Fail
	S = results.Skip
)

// TestTAP judges TAP streams from executables that exited 0. The examples follow the TAP 13 and
// 14 specifications (https://testanything.org/tap-version-14-specification.html).
func TestTAP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		stdout     string
		want       results.Status
		wantRows   []results.Status
		wantReason []string
		wantDetail []string // in the rows' details, in order
		wantNames  []string // in the rows' names, in order
	}{
		{name: "a passing stream with the plan first passes", stdout: "TAP version 14\n1..2\nok 1 - home page\nok 2 - login\n",
			want: P, wantRows: []results.Status{P, P}, wantNames: []string{"t.sh: 1 home page", "t.sh: 2 login"}},
		{name: "a passing stream with the plan last passes", stdout: "ok 1 - a\nok 2 - b\n1..2\n", want: P, wantRows: []results.Status{P, P}},
		{name: "TAP 13 is read as TAP 14", stdout: "TAP version 13\n1..1\nok 1\n", want: P, wantRows: []results.Status{P}},
		{name: "test points without ids are counted", stdout: "1..3\nok\nok\nok\n", want: P, wantRows: []results.Status{P, P, P},
			wantNames: []string{"t.sh: 1", "t.sh: 2", "t.sh: 3"}},
		{name: "ids may come in any order inside the plan", stdout: "1..3\nok 2\nok 3\nok 1\n", want: P, wantRows: []results.Status{P, P, P}},
		{name: "a failing test point fails an executable that exited 0", stdout: "1..2\nok 1 - a\nnot ok 2 - login works\n",
			want: F, wantRows: []results.Status{P, F}, wantReason: []string{"t.sh exited 0, but", "1 of its tests failed", "t.sh: 2 login works"}},
		{name: "the YAML diagnostic of a failing point is its detail",
			stdout: "1..1\nnot ok 1 - resolve\n  ---\n  message: 'hostname not found'\n  severity: fail\n  ...\n",
			want:   F, wantRows: []results.Status{F}, wantDetail: []string{"message: 'hostname not found'; severity: fail"}},
		{name: "comments may sit between a point and its YAML block",
			stdout: "1..1\nnot ok 1\n# about to explain\n  ---\n  got: 1\n  ...\n", want: F, wantRows: []results.Status{F}, wantDetail: []string{"got: 1"}},
		{name: "a SKIP point is a skipped row, not a failure", stdout: "1..2\nok 1\nok 2 - mung the gums # SKIP leave gums unmunged\n",
			want: P, wantRows: []results.Status{P, S}, wantDetail: []string{"", "skipped: leave gums unmunged"}, wantNames: []string{"t.sh: 1", "t.sh: 2 mung the gums"}},
		{name: "a failing SKIP point is not a failure", stdout: "1..1\nnot ok 1 # skip no database here\n", want: P, wantRows: []results.Status{S}},
		{name: "a failing TODO point is not a failure", stdout: "1..1\nnot ok 1 - summary # TODO not written yet\n",
			want: P, wantRows: []results.Status{S}, wantDetail: []string{"TODO, not ok (a known gap, not counted as a failure): not written yet"}},
		{name: "a passing TODO point passes and says so", stdout: "1..1\nok 1 # todo\n", want: P, wantRows: []results.Status{P},
			wantDetail: []string{"TODO, but ok: no reason given"}},
		{name: "directives are case-insensitive and may carry a suffix", stdout: "1..2\nok 1 - later # Skipped: only on windows\nok 2 - #SkIp no space\n",
			want: P, wantRows: []results.Status{S, S}, wantDetail: []string{"skipped: only on windows", "skipped: no space"}},
		{name: "an escaped # is not a directive", stdout: "1..1\nnot ok 1 - hello \\# SKIP\n", want: F, wantRows: []results.Status{F},
			wantNames: []string{"t.sh: 1 hello # SKIP"}},
		{name: "a # inside a word is not a directive", stdout: "1..1\nnot ok 1 see https://example.com/page.html#skip\n", want: F, wantRows: []results.Status{F}},
		{name: "only the first spaced # may start a directive", stdout: "1..1\nnot ok 1 - hello # description # todo\n", want: F, wantRows: []results.Status{F},
			wantNames: []string{"t.sh: 1 hello # description # todo"}},
		{name: "a passing subtest is judged by its correlated point", stdout: "1..1\n# Subtest: foo\n    1..2\n    ok 1\n    ok 2\nok 1 - foo\n",
			want: P, wantRows: []results.Status{P}},
		{name: "a failing subtest's correlated point fails", stdout: "1..1\n    1..1\n    not ok 1 - inner\nnot ok 1 - outer\n",
			want: F, wantRows: []results.Status{F}},
		{name: "CRLF line ends are read", stdout: "1..1\r\nok 1 - a\r\n", want: P, wantRows: []results.Status{P}},
		{name: "a plan of 1..0 skips everything and proves nothing", stdout: "1..0 # WWW::Mechanize not installed\n",
			want: S, wantRows: []results.Status{}, wantReason: []string{"skipped all its tests", "WWW::Mechanize not installed"}},
		{name: "output with no TAP at all is left to the exit code", stdout: "checking the app\nall good\n", want: P, wantRows: []results.Status{}},
		{name: "empty output is left to the exit code", stdout: "", want: P, wantRows: []results.Status{}},
		{name: "a program that only printed ok gets no rows for it", stdout: "starting\nok\n", want: P, wantRows: []results.Status{}},

		// Malformed or incomplete streams: never a pass.
		{name: "failing points without a plan fail", stdout: "ok 1\nnot ok 2\n", want: F,
			wantReason: []string{"TAP: no plan line (1..N) after 2 test points"}},
		{name: "a versioned stream without a plan fails", stdout: "TAP version 14\nok 1\nok 2\n", want: F, wantRows: []results.Status{P, P},
			wantReason: []string{"no plan line"}},
		{name: "fewer points than planned fail", stdout: "TAP version 14\n1..6\nok\nok\nok\nok\nok\n", want: F,
			wantReason: []string{"the plan 1..6 does not match the 5 test points run"}},
		{name: "more points than planned fail", stdout: "1..1\nok 1\nok 2\n", want: F, wantReason: []string{"does not match"}},
		{name: "an id outside the plan fails", stdout: "1..3\nok 2\nok 4\nok 1\n", want: F, wantReason: []string{"test ids 1..4 outside the plan 1..3"}},
		{name: "a repeated id fails", stdout: "1..3\nok 1\nok 1\nok 3\n", want: F, wantReason: []string{"repeated test ids [1]"}},
		{name: "a bail out fails", stdout: "TAP version 14\n1..573\nok 1 - database handle\nBail out! Couldn't connect to database.\n", want: F,
			wantReason: []string{"it bailed out: Couldn't connect to database."}},
		{name: "a bail out is case-insensitive", stdout: "1..1\nok 1\nBAIL OUT!\n", want: F, wantReason: []string{"bailed out: no reason given"}},
		{name: "a bail out inside a subtest bails out the run", stdout: "1..1\n    1..2\n    ok 1\n    Bail out! db gone\nok 1 - outer\n", want: F,
			wantReason: []string{"bailed out: db gone"}},
		{name: "a second plan fails", stdout: "1..1\nok 1\n1..1\n", want: F, wantReason: []string{"a second plan"}},
		{name: "points after a closing plan fail", stdout: "ok 1\n1..1\nok 2\n", want: F, wantReason: []string{"test points after the plan"}},
		{name: "a plan not starting at 1 fails", stdout: "5..6\nok 5\nok 6\n", want: F, wantReason: []string{"does not start at 1"}},
		{name: "a skip-all plan followed by points fails", stdout: "1..0\nok 1\n", want: F, wantReason: []string{"the plan 1..0 does not match the 1 test points"}},
		{name: "an id too big to read fails", stdout: "1..1\nok 99999999999999999999999\n", want: F, wantReason: []string{"cannot be read"}},
		{name: "okay is not a test point, so the plan is not met", stdout: "1..1\nokay then\n", want: F, wantReason: []string{"does not match the 0 test points"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := judgeTAP(tt.stdout)
			assert.Equal(t, tt.want, got.Status, "reason: %s", got.Reason)
			if tt.wantRows != nil {
				assert.Equal(t, tt.wantRows, statusesOf(got.Checks))
			}
			for _, w := range tt.wantReason {
				assert.Contains(t, got.Reason, w)
			}
			for i, w := range tt.wantDetail {
				require.Greater(t, len(got.Checks), i)
				assert.Equal(t, w, got.Checks[i].Detail)
			}
			for i, w := range tt.wantNames {
				require.Greater(t, len(got.Checks), i)
				assert.Equal(t, w, got.Checks[i].Name)
			}
		})
	}
}

// TestSplitDirective follows the escaping examples of TAP14 "Escaping".
func TestSplitDirective(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, desc, directive, reason string
	}{
		{name: "a bare todo", in: "- hello # todo", desc: "hello", directive: "todo"},
		{name: "an escaped # is no delimiter", in: `- hello \# todo`, desc: "hello # todo"},
		{name: "an escaped # in the reason is a literal #", in: `- hello # todo hash \# character`, desc: "hello", directive: "todo", reason: "hash # character"},
		{name: "an unescaped # in the reason stays", in: "- hello # todo hash # character", desc: "hello", directive: "todo", reason: "hash # character"},
		{name: "an escaped backslash does not escape the #", in: `- hello \\# todo hash`, desc: `hello \# todo hash`},
		{name: "a non-directive after the first # keeps it all description", in: "- hello # description # todo", desc: "hello # description # todo"},
		{name: "a directive with no description", in: "# SKIP no /sys", directive: "skip", reason: "no /sys"},
		{name: "a dash-only description is empty", in: "-", desc: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			desc, directive, reason := splitDirective(tt.in)
			assert.Equal(t, tt.desc, desc)
			assert.Equal(t, tt.directive, directive)
			assert.Equal(t, tt.reason, reason)
		})
	}
}

// FuzzTAP holds the harness's one promise on any input: it never panics, and an executable that
// exited 0 never passes with a failing row or with a stream that was not complete TAP.
func FuzzTAP(f *testing.F) {
	for _, s := range []string{"1..2\nok 1\nnot ok 2\n", "TAP version 14\nok\n1..1\n", "1..0 # skip\n", "Bail out!\n",
		"1..1\nnot ok 1 # TODO\n  ---\n  a: b\n  ...\n", "ok 1 \\\\# skip\n1..1\n", "    not ok 1\nok 1\n1..1\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stdout string) {
		r := &execRun{name: "t", mask: func(s string) string { return s }}
		p := newTAPParser(r.addTAP)
		for _, l := range strings.Split(stdout, "\n") {
			p.Line(l)
		}
		v, problems := r.finishTAP(p)
		got := r.judge(procEnd{}, v, problems)
		if got.Status != results.Pass {
			return
		}
		for _, c := range got.Checks {
			if c.Status == results.Fail {
				t.Fatalf("passed with a failing row %+v", c)
			}
		}
		if v.IsTAP && (v.Bailed || v.Plan != v.Count || len(v.Problems) > 0) {
			t.Fatalf("passed a stream that was not complete TAP: %+v", v)
		}
	})
}
