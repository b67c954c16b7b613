package render

import (
	"bytes"
	"testing"
	"time"

	"coopcloud.tech/cc-ci/internal/results"
)

// benchView is the view of a failed run with six tiers, and its site.
func benchView(b *testing.B) (*Site, runPage) {
	s, err := New(b.TempDir(), "cc-ci", "", "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	res := document(2, "cold", tier(results.TierInstall, results.Pass, ""), tier(results.TierUpgrade, results.Pass, ""),
		tier(results.TierBackup, results.Pass, ""), tier(results.TierRestore, results.Pass, ""),
		tier(results.TierFunctional, results.Fail, "GET / answered 502"), tier(results.TierLint, results.Pass, ""))
	res.FailureExcerpt = "ERRO something\nexit status 1\n"
	run := summary(2, "failure", res)
	return s, s.runView(&run, res, time.Now())
}

// BenchmarkRunPage renders one run page with the "run" template, without writing it.
func BenchmarkRunPage(b *testing.B) {
	s, data := benchView(b)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := s.tmpl["run"].ExecuteTemplate(&buf, "layout", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunPageWriter writes the same page with the run page writer, which the site uses.
func BenchmarkRunPageWriter(b *testing.B) {
	s, data := benchView(b)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		data.writeHTML(&buf, s.head)
	}
}
