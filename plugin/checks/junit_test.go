package checks

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseJUnit reads reports shaped as the JUnit schema and the common producers write them
// (https://github.com/windyroad/JUnit-Schema/blob/master/JUnit.xsd,
// https://github.com/testmoapp/junitxml).
func TestParseJUnit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		xml          string
		wantRows     []junitRow
		wantProblems []string // substrings; none expected when empty
	}{
		{name: "a testsuites root with a pass, a failure, an error and a skip gives one row each",
			xml: `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="4" failures="1" errors="1" skipped="1">
  <testsuite name="login" tests="4" failures="1" errors="1" skipped="1">
    <properties><property name="browser" value="none"/></properties>
    <testcase classname="login" name="form shows" time="0.1"/>
    <testcase classname="login" name="bad password refused"><failure message="expected 401" type="AssertionError">got 200</failure></testcase>
    <testcase classname="login" name="sso"><error message="connection refused"/></testcase>
    <testcase classname="login" name="2fa"><skipped message="not enabled"/></testcase>
    <system-out>noise</system-out>
  </testsuite>
</testsuites>`,
			wantRows: []junitRow{
				{Name: "login.form shows", Status: "pass"},
				{Name: "login.bad password refused", Status: "fail", Detail: "failure: expected 401 (AssertionError) got 200"},
				{Name: "login.sso", Status: "fail", Detail: "error: connection refused"},
				{Name: "login.2fa", Status: "skip", Detail: "skipped: not enabled"},
			}},
		{name: "a single testsuite may be the root", xml: `<testsuite name="s" tests="1"><testcase name="t"/></testsuite>`,
			wantRows: []junitRow{{Name: "t", Status: "pass"}}},
		{name: "nested suites are read", xml: `<testsuites><testsuite name="a"><testsuite name="a.b" failures="1"><testcase name="deep"><failure/></testcase></testsuite><testcase name="shallow"/></testsuite></testsuites>`,
			wantRows: []junitRow{{Name: "shallow", Status: "pass"}, {Name: "deep", Status: "fail", Detail: "failure: no message"}}},
		{name: "a classname already in the name is not repeated", xml: `<testsuite><testcase classname="pkg" name="pkg.Test"/></testsuite>`,
			wantRows: []junitRow{{Name: "pkg.Test", Status: "pass"}}},
		{name: "a failure wins over a skip in the same testcase", xml: `<testsuite><testcase name="t"><skipped/><failure message="boom"/></testcase></testsuite>`,
			wantRows: []junitRow{{Name: "t", Status: "fail", Detail: "failure: boom"}}},
		{name: "a suite-level error is a failing row", xml: `<testsuite name="collect" errors="1"><error message="tests could not be found"/></testsuite>`,
			wantRows: []junitRow{{Name: "collect (suite)", Status: "fail", Detail: "the suite itself failed: tests could not be found"}}},
		{name: "an empty suite gives no rows", xml: `<testsuites/>`, wantRows: nil},
		{name: "a testcase without a name is named so", xml: `<testsuite><testcase/></testsuite>`, wantRows: []junitRow{{Name: "(unnamed testcase)", Status: "pass"}}},

		// Malformed or untrustworthy: never a pass.
		{name: "a suite declaring failures its testcases do not show is a problem",
			xml:      `<testsuite name="cut" tests="3" failures="2"><testcase name="a"/><testcase name="b"><failure/></testcase></testsuite>`,
			wantRows: []junitRow{{Name: "a", Status: "pass"}, {Name: "b", Status: "fail", Detail: "failure: no message"}}, wantProblems: []string{`<testsuite name="cut"> declares 2 failures and errors, but only 1 of its testcases failed`}},
		{name: "a testsuites root declaring errors it does not show is a problem",
			xml: `<testsuites errors="1"><testsuite name="s"><testcase name="a"/></testsuite></testsuites>`, wantRows: []junitRow{{Name: "a", Status: "pass"}},
			wantProblems: []string{"<testsuites"}},
		{name: "text that is not XML is a problem", xml: "all tests passed!", wantProblems: []string{"not well-formed XML"}},
		{name: "an empty file is a problem", xml: "", wantProblems: []string{"not well-formed XML"}},
		{name: "a cut file is a problem", xml: `<testsuite name="s"><testcase name="a"/><testcase name="b"><fail`, wantProblems: []string{"not well-formed XML"}},
		{name: "another XML format is a problem", xml: `<coverage line-rate="1"/>`, wantProblems: []string{"the root element is <coverage>"}},
		{name: "a second root element is a problem", xml: `<testsuite><testcase name="a"/></testsuite><testsuite><testcase name="b"><failure/></testcase></testsuite>`,
			wantRows: nil, wantProblems: []string{"a second element after the root"}},
		{name: "text after the root is a problem", xml: `<testsuite/>trailing`, wantProblems: []string{"text after the root"}},
		{name: "an encoding the reader does not know is a problem", xml: `<?xml version="1.0" encoding="ISO-8859-1"?><testsuite/>`, wantProblems: []string{"not well-formed XML"}},
		{name: "a custom entity is a problem, never expanded", xml: `<!DOCTYPE x [<!ENTITY a "aaaa">]><testsuite><testcase name="&a;"/></testsuite>`,
			wantProblems: []string{"not well-formed XML"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rows, problems := parseJUnit([]byte(tt.xml))
			if len(tt.wantProblems) == 0 {
				assert.Empty(t, problems)
			} else {
				require.Len(t, problems, len(tt.wantProblems), "problems: %q", problems)
				for i, w := range tt.wantProblems {
					assert.Contains(t, problems[i], w)
				}
			}
			if tt.wantRows != nil || len(tt.wantProblems) == 0 {
				assert.Equal(t, tt.wantRows, rows)
			}
		})
	}
}

// TestReadReports reads a report directory as an executable leaves it.
func TestReadReports(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o700))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	}
	write("a.xml", `<testsuite><testcase name="top"/></testsuite>`)
	write("sub/b.XML", `<testsuite><testcase name="nested"><failure/></testcase></testsuite>`)
	write("notes.txt", "not a report")
	write("screenshot.png", "\x89PNG")
	secret := filepath.Join(t.TempDir(), "secret.xml")
	require.NoError(t, os.WriteFile(secret, []byte(`<testsuite><testcase name="host file"/></testsuite>`), 0o600))
	require.NoError(t, os.Symlink(secret, filepath.Join(dir, "link.xml")))
	write("huge.xml", "<testsuite>"+strings.Repeat(" ", maxReportSize)+"</testsuite>")

	files, err := readReports(dir)
	require.NoError(t, err)
	byRel := map[string]reportFile{}
	for _, f := range files {
		byRel[f.Rel] = f
	}
	require.Len(t, byRel, 4, "only *.xml files are read: %v", byRel)
	assert.Equal(t, []junitRow{{Name: "top", Status: "pass"}}, byRel["a.xml"].Rows)
	assert.Equal(t, []junitRow{{Name: "nested", Status: "fail", Detail: "failure: no message"}}, byRel[filepath.Join("sub", "b.XML")].Rows)
	assert.Empty(t, byRel["link.xml"].Rows, "a symlink is never followed")
	require.Len(t, byRel["link.xml"].Problems, 1)
	assert.Contains(t, byRel["link.xml"].Problems[0], "not a regular file")
	require.Len(t, byRel["huge.xml"].Problems, 1)
	assert.Contains(t, byRel["huge.xml"].Problems[0], "over the")
}

// TestReadReportsLimit: reports beyond the file limit are a problem, never silently dropped.
func TestReadReportsLimit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i := 0; i <= maxReportFiles; i++ {
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("r%03d.xml", i)), []byte("<testsuite/>"), 0o600))
	}
	files, err := readReports(dir)
	require.NoError(t, err)
	require.Len(t, files, maxReportFiles+1)
	assert.Contains(t, files[maxReportFiles].Problems[0], "more than 200 report files")
}
