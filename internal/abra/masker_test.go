package abra

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values []string
		in     string
		want   string
	}{
		{
			name:   "a registered value is replaced wherever it occurs",
			values: []string{"hunter2hunter2"},
			in:     "pw=hunter2hunter2 again hunter2hunter2",
			want:   "pw=**** again ****",
		},
		{
			name:   "a value of exactly eight characters is masked",
			values: []string{"12345678"},
			in:     "token 12345678",
			want:   "token ****",
		},
		{
			name:   "a value shorter than eight characters is not masked",
			values: []string{"1234567", "true"},
			in:     "port 1234567 enabled true",
			want:   "port 1234567 enabled true",
		},
		{
			name:   "length counts characters, not bytes",
			values: []string{"ééééééé"},
			in:     "x ééééééé",
			want:   "x ééééééé",
		},
		{
			name:   "two secrets overlapping in the text are masked as one span",
			values: []string{"abcdefghij", "ghijklmnop"},
			in:     "<abcdefghijklmnop>",
			want:   "<****>",
		},
		{
			name:   "a secret inside a longer secret leaves nothing of the longer one",
			values: []string{"password", "mypassword123"},
			in:     "mypassword123 and password",
			want:   "**** and ****",
		},
		{
			name:   "overlapping repeats of one value are masked together",
			values: []string{"abababab"},
			in:     "ababababab",
			want:   "****",
		},
		{
			name:   "a multi-line value is masked line by line",
			values: []string{"first-line-secret\r\nsecond-line-secret\n"},
			in:     "a first-line-secret b second-line-secret",
			want:   "a **** b ****",
		},
		{
			name:   "text without secrets is returned unchanged",
			values: []string{"s3cr3t-value"},
			in:     "nothing to see",
			want:   "nothing to see",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, NewMasker(tt.values...).Mask(tt.in))
		})
	}
}

func TestNilMaskerMasksNothing(t *testing.T) {
	t.Parallel()
	var m *Masker
	assert.Equal(t, "hunter2hunter2", m.Mask("hunter2hunter2"))
	var buf bytes.Buffer
	w := m.Writer(&buf)
	_, err := w.Write([]byte("line\r\n"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.Equal(t, "line\n", buf.String())
}

func TestMaskerWriter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values []string
		writes []string
		want   string
	}{
		{
			name:   "a value split across writes is still masked",
			values: []string{"correct-horse-battery"},
			writes: []string{"pw: correct-ho", "rse-batt", "ery\n"},
			want:   "pw: ****\n",
		},
		{
			name:   "a value split byte by byte is still masked",
			values: []string{"correct-horse-battery"},
			writes: strings.Split("x correct-horse-battery y\n", ""),
			want:   "x **** y\n",
		},
		{
			name:   "terminal line ends become newlines, also when split between writes",
			values: []string{"correct-horse-battery"},
			writes: []string{"one\r", "\ntwo correct-horse-battery\r\n"},
			want:   "one\ntwo ****\n",
		},
		{
			name:   "a last line without a newline is masked on close",
			values: []string{"correct-horse-battery"},
			writes: []string{"done correct-horse", "-battery"},
			want:   "done ****",
		},
		{
			name:   "a lone carriage return is kept",
			values: nil,
			writes: []string{"10%\r20%\r\n"},
			want:   "10%\r20%\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			w := NewMasker(tt.values...).Writer(&buf)
			for _, s := range tt.writes {
				n, err := w.Write([]byte(s))
				require.NoError(t, err)
				require.Equal(t, len(s), n)
			}
			require.NoError(t, w.Close())
			assert.Equal(t, tt.want, buf.String())
		})
	}
}

func TestMaskerWriterHoldsNoCompleteLineBack(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := NewMasker("correct-horse-battery").Writer(&buf)
	_, err := w.Write([]byte("first correct-horse-battery\nsecond"))
	require.NoError(t, err)
	assert.Equal(t, "first ****\n", buf.String(), "a finished line is written at once")
}

func TestMaskerWriterNeverCutsThroughAValueInAnOverlongLine(t *testing.T) {
	t.Parallel()
	const secret = "correct-horse-battery"
	pad := strings.Repeat("=", maxPending)
	tests := []struct {
		name   string
		writes []string
	}{
		{
			name:   "a value still arriving at the end of the buffer is held back",
			writes: []string{pad[5:] + secret[:10], secret[10:] + pad},
		},
		{
			name:   "a whole value lying across the cut is held back in one piece",
			writes: []string{pad + secret + "ab", pad},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A progress bar never ends its line, so the writer flushes it in pieces.
			var buf bytes.Buffer
			w := NewMasker(secret).Writer(&buf)
			for _, s := range tt.writes {
				_, err := w.Write([]byte(s))
				require.NoError(t, err)
				assert.LessOrEqual(t, len(w.(*maskWriter).buf), maxPending, "the buffer stays bounded")
			}
			require.NoError(t, w.Close())
			want := strings.ReplaceAll(strings.Join(tt.writes, ""), secret, Redacted)
			assert.Equal(t, want, buf.String())
		})
	}
}

func TestMaskerAddIsSafeWhileMasking(t *testing.T) {
	t.Parallel()
	m := NewMasker()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			m.Add(strings.Repeat(string(rune('a'+i)), 10))
			_ = m.Mask(strings.Repeat("abcdefgh", 10))
		})
	}
	wg.Wait()
	assert.Equal(t, "x **** y", m.Mask("x hhhhhhhhhh y"))
}
