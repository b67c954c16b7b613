package abra

import (
	"bytes"
	"io"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Redacted replaces every masked secret value.
const Redacted = "****"

// MinSecretLen is the shortest value that is masked: shorter values (ports, "true", versions)
// would blank out ordinary words all over the log.
const MinSecretLen = 8

// maxPending bounds how much of one unterminated line a masking writer holds (progress bars may
// never print a newline).
const maxPending = 64 << 10

// Masker replaces registered secret values with Redacted. It is safe for concurrent use, and a
// nil *Masker masks nothing.
type Masker struct {
	mu     sync.RWMutex
	values []string
	maxLen int
}

// NewMasker returns a Masker that already knows values.
func NewMasker(values ...string) *Masker {
	m := &Masker{}
	for _, v := range values {
		m.Add(v)
	}
	return m
}

// Add registers a secret value. Values shorter than MinSecretLen are ignored. A value spanning
// several lines is registered line by line, because output is masked one line at a time.
func (m *Masker) Add(v string) {
	for _, line := range strings.Split(strings.ReplaceAll(v, "\r\n", "\n"), "\n") {
		m.add(line)
	}
}

func (m *Masker) add(v string) {
	if utf8.RuneCountInString(v) < MinSecretLen {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, have := range m.values {
		if have == v {
			return
		}
	}
	m.values = append(m.values, v)
	m.maxLen = max(m.maxLen, len(v))
}

// Mask returns s with every occurrence of every registered value replaced by Redacted.
// Overlapping occurrences (of one value or of several) are redacted as one span, so no part of
// either value survives.
func (m *Masker) Mask(s string) string {
	spans := m.spans(s)
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp.start])
		b.WriteString(Redacted)
		last = sp.end
	}
	b.WriteString(s[last:])
	return b.String()
}

type span struct{ start, end int }

// spans returns the byte ranges of s covered by registered values, sorted and merged.
func (m *Masker) spans(s string) []span {
	if m == nil {
		return nil
	}
	m.mu.RLock()
	var found []span
	for _, v := range m.values {
		// Step one byte past each match start, so overlapping repeats are all found.
		for i := 0; i < len(s); {
			j := strings.Index(s[i:], v)
			if j < 0 {
				break
			}
			found = append(found, span{i + j, i + j + len(v)})
			i += j + 1
		}
	}
	m.mu.RUnlock()
	if len(found) == 0 {
		return nil
	}
	sort.Slice(found, func(a, b int) bool { return found[a].start < found[b].start })
	merged := found[:1]
	for _, sp := range found[1:] {
		cur := &merged[len(merged)-1]
		if sp.start < cur.end {
			cur.end = max(cur.end, sp.end)
			continue
		}
		merged = append(merged, sp)
	}
	return merged
}

func (m *Masker) longest() int {
	if m == nil {
		return 0
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.maxLen
}

// Writer returns a writer that masks what passes through it and writes it to w. It holds text
// back until a line ends, so a value split across writes is still masked, and turns the
// terminal's "\r\n" into "\n". Close writes the last partial line; it does not close w.
func (m *Masker) Writer(w io.Writer) io.WriteCloser {
	return &maskWriter{m: m, w: w}
}

type maskWriter struct {
	m   *Masker
	w   io.Writer
	buf []byte
	err error
}

func (mw *maskWriter) Write(p []byte) (int, error) {
	if mw.err != nil {
		return 0, mw.err
	}
	mw.buf = append(mw.buf, p...)
	if i := bytes.LastIndexByte(mw.buf, '\n'); i >= 0 {
		mw.emit(i + 1)
	}
	if len(mw.buf) > maxPending {
		mw.emit(mw.safeCut())
	}
	return len(p), mw.err
}

// Close writes whatever is still held back.
func (mw *maskWriter) Close() error {
	if len(mw.buf) > 0 && mw.err == nil {
		mw.emit(len(mw.buf))
	}
	return mw.err
}

// emit masks and writes buf[:n] and keeps the rest.
func (mw *maskWriter) emit(n int) {
	if n <= 0 {
		return
	}
	text := strings.ReplaceAll(string(mw.buf[:n]), "\r\n", "\n")
	mw.buf = append(mw.buf[:0], mw.buf[n:]...)
	if _, err := io.WriteString(mw.w, mw.m.Mask(text)); err != nil {
		mw.err = err
	}
}

// safeCut returns how much of an over-long line may be written now: all but the last
// longest-1 bytes (which may start a value still arriving), moved back so it neither splits a
// value found in the buffer nor a "\r\n".
func (mw *maskWriter) safeCut() int {
	cut := len(mw.buf) - max(mw.m.longest()-1, 0)
	for _, sp := range mw.m.spans(string(mw.buf)) {
		if sp.start < cut && cut < sp.end {
			cut = sp.start
		}
	}
	if cut > 0 && mw.buf[cut-1] == '\r' {
		cut--
	}
	return cut
}
