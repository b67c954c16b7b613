package reap_test

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/janitor/reap"
)

// benchLockfiles is the figure: a pass over 10,000 lockfiles must take < 0.5 s.
const benchLockfiles = 10_000

// benchPass runs b.N passes of a janitor logging JSON to nowhere (the formatting cost is real,
// the terminal's is not) and reports the per-lockfile cost too.
func benchPass(b *testing.B, w *world, before func(b *testing.B), check func(b *testing.B, sum reap.Summary)) {
	j := reap.New(w.s, w.swarm, w.s.Logger(io.Discard))
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		before(b)
		b.StartTimer()
		sum, err := j.Pass(context.Background())
		b.StopTimer()
		require.NoError(b, err)
		check(b, sum)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchLockfiles, "ns/lockfile")
}

// BenchmarkPassOver10000FreeLockfiles: every lockfile is an orphan with nothing deployed (no
// stacks, no .env), so each is probed, locked, unlinked and released: real files, real flocks.
func BenchmarkPassOver10000FreeLockfiles(b *testing.B) {
	w := newWorld(b)
	w.s.LogLevel = "info"
	require.NoError(b, w.s.Validate())
	benchPass(b, w, func(b *testing.B) {
		for i := range benchLockfiles {
			f, err := os.Create(w.lockPath(domain(i)))
			require.NoError(b, err)
			require.NoError(b, f.Close())
		}
	}, func(b *testing.B, sum reap.Summary) {
		require.Equal(b, benchLockfiles, sum.Reaped)
	})
}

// BenchmarkPassOver10000HeldLockfiles: one helper process holds all 10,000 locks (live runs), so
// each is probed, found held, its age read and logged.
func BenchmarkPassOver10000HeldLockfiles(b *testing.B) {
	w := newWorld(b)
	w.s.LogLevel = "info"
	require.NoError(b, w.s.Validate())
	for i := range benchLockfiles {
		w.lockfile(b, domain(i))
	}
	runs := startHelper(b, w.lockDir, "hold-all")
	runs.expect(b, "locked 10000")
	benchPass(b, w, func(*testing.B) {}, func(b *testing.B, sum reap.Summary) {
		require.Equal(b, benchLockfiles, sum.Left)
	})
}
