package render

import (
	"bytes"
	"testing"
	"time"

	"coopcloud.tech/cc-ci/internal/results"
)

// BenchmarkRunPage renders one run page (a failed run with six tiers) without writing it.
func BenchmarkRunPage(b *testing.B) {
	s, err := New(b.TempDir(), "cc-ci", "", "")
	if err != nil {
		b.Fatal(err)
	}
	res := document(2, "cold", tier(results.TierInstall, results.Pass, ""), tier(results.TierUpgrade, results.Pass, ""),
		tier(results.TierBackup, results.Pass, ""), tier(results.TierRestore, results.Pass, ""),
		tier(results.TierFunctional, results.Fail, "GET / answered 502"), tier(results.TierLint, results.Pass, ""))
	res.FailureExcerpt = "ERRO something\nexit status 1\n"
	run := summary(2, "failure", res)
	data := s.runView(&run, res, time.Now())
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := s.tmpl["run"].ExecuteTemplate(&buf, "layout", data); err != nil {
			b.Fatal(err)
		}
	}
}
