package checks

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// JUnit XML, read as the Apache Ant JUnit schema describes it
// (https://github.com/windyroad/JUnit-Schema/blob/master/JUnit.xsd) and as the common producers
// write it (https://github.com/testmoapp/junitxml, https://llg.cubic.org/docs/junit/): the root
// is <testsuites> or a single <testsuite>; suites may nest; a <testcase> passed unless it holds a
// <failure>, an <error> or a <skipped>; a suite may hold an <error> of its own when its tests
// could not run at all.

// Limits on what an executable may leave in its report directory: reading is bounded, and a
// report beyond them is a problem (it may hold failures), never silently dropped.
const (
	maxReportFiles = 200
	maxReportSize  = 8 << 20
)

type junitSuite struct {
	XMLName  xml.Name
	Name     string        `xml:"name,attr"`
	Failures string        `xml:"failures,attr"`
	Errors   string        `xml:"errors,attr"`
	Suites   []junitSuite  `xml:"testsuite"`
	Cases    []junitCase   `xml:"testcase"`
	Error    []junitResult `xml:"error"`
	Failure  []junitResult `xml:"failure"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failures  []junitResult `xml:"failure"`
	Errors    []junitResult `xml:"error"`
	Skipped   []junitResult `xml:"skipped"`
}

type junitResult struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// junitRow is one testcase (or one suite-level error), before masking.
type junitRow struct {
	Name   string
	Status string // "pass", "fail" or "skip"
	Detail string
}

// parseJUnit reads one report. Rows come in document order; problems are what makes the report
// untrustworthy (not XML, not JUnit, counts that claim more failures than the testcases show).
func parseJUnit(data []byte) (rows []junitRow, problems []string) {
	var root junitSuite
	dec := xml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, []string{fmt.Sprintf("not well-formed XML: %v", err)}
	}
	if r := root.XMLName.Local; r != "testsuites" && r != "testsuite" {
		return nil, []string{fmt.Sprintf("the root element is <%s>, not <testsuites> or <testsuite>", r)}
	}
	// Anything after the root but whitespace and comments means a second document or garbage:
	// a report written twice into one file, or cut and appended to.
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rows, []string{fmt.Sprintf("not well-formed XML after the root element: %v", err)}
		}
		switch t := tok.(type) {
		case xml.Comment, xml.ProcInst:
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return rows, []string{"text after the root element"}
			}
		default:
			return rows, []string{"a second element after the root element"}
		}
	}
	walkSuite(root, "", &rows, &problems)
	return rows, problems
}

// walkSuite adds the rows of s and its nested suites, and returns how many of them failed.
func walkSuite(s junitSuite, parent string, rows *[]junitRow, problems *[]string) int {
	name := strings.TrimSpace(s.Name)
	if name == "" {
		name = parent
	}
	failed := 0
	for _, e := range append(append([]junitResult{}, s.Error...), s.Failure...) {
		*rows = append(*rows, junitRow{Name: cmp.Or(name, "suite") + " (suite)", Status: "fail", Detail: "the suite itself failed: " + describe(e)})
		failed++
	}
	for _, c := range s.Cases {
		r := junitRow{Name: caseName(c), Status: "pass"}
		switch {
		case len(c.Failures) > 0:
			r.Status, r.Detail = "fail", "failure: "+describe(c.Failures[0])
		case len(c.Errors) > 0:
			r.Status, r.Detail = "fail", "error: "+describe(c.Errors[0])
		case len(c.Skipped) > 0:
			r.Status, r.Detail = "skip", "skipped: "+describe(c.Skipped[0])
		}
		if r.Status == "fail" {
			failed++
		}
		*rows = append(*rows, r)
	}
	for _, sub := range s.Suites {
		failed += walkSuite(sub, name, rows, problems)
	}
	// The suite's counts are a second witness: a report claiming failures its testcases do not
	// show has lost them somewhere (a cut file, a producer bug), and is not a pass.
	if declared := count(s.Failures) + count(s.Errors); declared > failed {
		*problems = append(*problems, fmt.Sprintf("<%s name=%q> declares %d failures and errors, but only %d of its testcases failed",
			s.XMLName.Local, plain(name, 80), declared, failed))
	}
	return failed
}

func caseName(c junitCase) string {
	name := strings.TrimSpace(c.Name)
	if name == "" {
		name = "(unnamed testcase)"
	}
	if cl := strings.TrimSpace(c.Classname); cl != "" && !strings.HasPrefix(name, cl) {
		name = cl + "." + name
	}
	return name
}

// describe is a failure's message, type and text, in that order of usefulness.
func describe(r junitResult) string {
	var parts []string
	if m := strings.TrimSpace(r.Message); m != "" {
		parts = append(parts, m)
	}
	if t := strings.TrimSpace(r.Type); t != "" {
		parts = append(parts, "("+t+")")
	}
	if t := strings.TrimSpace(r.Text); t != "" {
		parts = append(parts, t)
	}
	if len(parts) == 0 {
		return "no message"
	}
	return strings.Join(parts, " ")
}

// count reads a count attribute; a missing or unreadable one claims nothing.
func count(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// reportFile is one JUnit file found in the report directory.
type reportFile struct {
	Rel      string
	Rows     []junitRow
	Problems []string
}

// readReports reads every *.xml file under dir (recursively). A file that is not a regular file
// (a symlink could point the rows at any file on the host), too big, or beyond the file limit is
// a problem of its own.
func readReports(dir string) ([]reportFile, error) {
	var files []reportFile
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.EqualFold(filepath.Ext(path), ".xml") {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		n++
		if n > maxReportFiles {
			if n == maxReportFiles+1 {
				files = append(files, reportFile{Rel: rel, Problems: []string{fmt.Sprintf("more than %d report files: the rest were not read", maxReportFiles)}})
			}
			return nil
		}
		f := reportFile{Rel: rel}
		info, err := d.Info()
		switch {
		case err != nil:
			return err
		case !info.Mode().IsRegular():
			f.Problems = []string{"not a regular file (" + info.Mode().Type().String() + ")"}
		case info.Size() > maxReportSize:
			f.Problems = []string{fmt.Sprintf("%d bytes, over the %d-byte limit", info.Size(), maxReportSize)}
		default:
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			f.Rows, f.Problems = parseJUnit(data)
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return files, fmt.Errorf("read reports in %s: %w", dir, err)
	}
	return files, nil
}
