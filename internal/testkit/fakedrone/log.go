package fakedrone

import (
	"bytes"
	"strings"
	"sync"
	"time"

	"github.com/drone/drone-go/drone"
)

// logLimit is the most log a step keeps; beyond it the oldest lines go, as runner-go's livelog
// Writer does with its defaultLimit of 5 MB.
const logLimit = 5 << 20

// lineLog is a step's log: an io.Writer that cuts the output into drone.Line values like
// runner-go's livelog Writer: pos counts from 0, out keeps its trailing "\n", time is seconds
// since the step started. Unlike livelog (which cuts per write) a line split across writes is
// joined first, so a line is one entry however the child flushed it.
type lineLog struct {
	mu      sync.Mutex
	begin   time.Time
	partial []byte
	out     []drone.Line
	size    int
	num     int
}

func newLineLog() *lineLog { return &lineLog{begin: time.Now()} }

// start marks the step's start, the zero of every line's time.
func (l *lineLog) start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.begin = time.Now()
}

// Write implements io.Writer; it never fails.
func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.emitLocked(string(l.partial[:i+1]))
		l.partial = l.partial[i+1:]
	}
	return len(p), nil
}

// flush ends the log: an unterminated last line becomes a line of its own.
func (l *lineLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.emitLocked(string(l.partial))
		l.partial = nil
	}
}

func (l *lineLog) emitLocked(msg string) {
	l.out = append(l.out, drone.Line{Number: l.num, Message: msg,
		Timestamp: int64(time.Since(l.begin).Seconds())})
	l.num++
	l.size += len(msg)
	for l.size > logLimit && len(l.out) > 1 {
		l.size -= len(l.out[0].Message)
		l.out = l.out[1:]
	}
}

// lines returns a copy of the lines so far ([] rather than null when there are none).
func (l *lineLog) lines() []drone.Line {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]drone.Line{}, l.out...)
}

// text is the log so far as one string, including an unterminated last line.
func (l *lineLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, ln := range l.out {
		b.WriteString(ln.Message)
	}
	b.Write(l.partial)
	return b.String()
}
