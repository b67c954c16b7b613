package checks

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"coopcloud.tech/cc-ci/internal/results"
)

func TestPlain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		max            int
	}{
		{name: "ordinary text is kept", in: "login works", want: "login works", max: 100},
		{name: "line breaks and tabs become single spaces", in: "a\r\n\tb\n\nc", want: "a b c", max: 100},
		{name: "terminal colours are dropped", in: "\x1b[31mred\x1b[0m and \x1b[1;32mgreen\x1b[m", want: "red and green", max: 100},
		{name: "an OSC hyperlink is dropped", in: "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07", want: "click", max: 100},
		{name: "a bidi override cannot reorder what a reader sees", in: "pass\u202eliaf", want: "pass liaf", max: 100},
		{name: "NUL and other control characters become spaces", in: "a\x00b\x07c", want: "a b c", max: 100},
		{name: "invalid UTF-8 is replaced", in: "a\xffb", want: "a\uFFFDb", max: 100},
		{name: "long text is cut and marked", in: strings.Repeat("é", 10), want: "éééé…", max: 5},
		{name: "leading and trailing space is trimmed", in: "  x  ", want: "x", max: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, plain(tt.in, tt.max))
		})
	}
}

func TestPageText(t *testing.T) {
	t.Parallel()
	page := `<!DOCTYPE html><html><head><title>T</title><style>.x{color:red}</style><script>alert("x")</script></head>` +
		`<body><!-- hidden --><p>Caf&eacute; &lt;open&gt;</p><noscript>enable js</noscript></body></html>`
	assert.Equal(t, "T Café <open>", pageText(page, 100))
}

func TestMaskedCutsAfterMasking(t *testing.T) {
	t.Parallel()
	const secret = "hunter2hunter2"
	mask := func(s string) string { return strings.ReplaceAll(s, secret, "****") }
	// Cut first, the secret's head would survive unmatched; masked cuts after.
	got := masked(mask, "token="+secret, 10)
	assert.Equal(t, "token=****", got)
	assert.NotContains(t, masked(mask, "token=\x1b[1m"+secret[:7]+"\x1b[0m"+secret[7:], 100), "hunter", "a secret split by escapes is still masked")
}

func TestRowSet(t *testing.T) {
	t.Parallel()
	var s rowSet
	for i := 0; i < MaxRows+50; i++ {
		st := results.Pass
		if i%100 == 7 { // rows 7, 107 and 207: the last arrives after the set is full
			st = results.Fail
		}
		s.add(results.Check{Name: "r" + strings.Repeat("x", i%3), Status: st})
	}
	rows := s.list()
	assert.Len(t, rows, MaxRows)
	names, n := s.failed()
	assert.Len(t, names, 3, "every failure is kept while there is room")
	assert.Equal(t, 3, n)
	last := rows[len(rows)-1]
	assert.Equal(t, results.Check{Name: "more rows", Status: results.Pass, Detail: "and 51 more rows left out (at most 200 are kept)"}, last)

	var full rowSet
	for i := 0; i < MaxRows+10; i++ {
		full.add(results.Check{Name: "f", Status: results.Fail})
	}
	_, n = full.failed()
	assert.Equal(t, MaxRows+10, n, "failures left out are still counted")
	assert.Equal(t, results.Fail, full.list()[MaxRows-1].Status)
	assert.Contains(t, full.list()[MaxRows-1].Detail, "11 of them failed")
}
