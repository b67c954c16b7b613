package reap_test

import (
	"context"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/applock"
	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/janitor/reap"
)

// requireHeldElsewhere fails unless another open file description holds d's lock right now.
func requireHeldElsewhere(t testing.TB, path string) {
	t.Helper()
	lock, err := applock.TryAcquireExisting(path)
	if err == nil {
		_ = lock.Release()
	}
	require.ErrorIs(t, err, applock.ErrHeld, "the lock on %s must be held", path)
}

func TestOrphanIsReapedOnceAndLockfileUnlinked(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	d := domain(1)
	run := startHelper(t, w.lockDir, "hold", d)
	run.expect(t, "locked")
	w.deployed(t, d)
	run.Kill(t) // Drone cancels the build: SIGKILL, no teardown; the kernel drops the flock
	w.swarm.OnTeardown = func(context.Context, string) error {
		requireHeldElsewhere(t, w.lockPath(d)) // torn down WHILE the janitor holds the lock
		return nil
	}

	sum := w.pass(t)

	assert.Equal(t, 1, sum.Reaped)
	require.Len(t, w.swarm.Teardowns(), 1)
	assert.Equal(t, naming.Stack(d), w.swarm.Teardowns()[0].Stack)
	assert.Equal(t, w.envPath(d), w.swarm.Teardowns()[0].EnvPath, "the app's .env in the canonical abra dir")
	assert.NoFileExists(t, w.lockPath(d), "the lockfile is unlinked after the teardown")
	assert.NoFileExists(t, w.envPath(d))
	line := w.log.line(t, d)
	assert.Equal(t, reap.Reap, line["decision"])
	assert.Contains(t, line["reason"], "orphan")
	assert.Contains(t, line, "duration")

	sum = w.pass(t)
	assert.Equal(t, reap.Summary{Duration: sum.Duration}, sum, "a second pass finds nothing")
	assert.Len(t, w.swarm.Teardowns(), 1, "torn down exactly once")
	assert.NoFileExists(t, w.lockPath(d), "no lockfile is recreated")
}

func TestLiveHolderIsNeverReapedAndIsLogged(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	d := domain(2)
	run := startHelper(t, w.lockDir, "hold", d)
	run.expect(t, "locked")
	w.deployed(t, d)

	sum := w.pass(t)

	assert.Equal(t, 1, sum.Left)
	assert.Zero(t, sum.Leaked)
	assert.Empty(t, w.swarm.Teardowns(), "a live run is never torn down")
	assert.FileExists(t, w.lockPath(d))
	assert.FileExists(t, w.envPath(d))
	requireHeldElsewhere(t, w.lockPath(d))
	line := w.log.line(t, d)
	assert.Equal(t, reap.Leave, line["decision"])
	assert.Equal(t, "INFO", line["level"])
	assert.Contains(t, line["reason"], "held by a live run")
	assert.NotContains(t, line["reason"], "leaked")
	assert.Contains(t, line, "held_for")
}

func TestNewRunAcquireBlocksUntilSlowReapFinishes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	d := domain(3)
	w.lockfile(t, d)
	w.deployed(t, d)
	var mu sync.Mutex
	var events []string
	event := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	entered, gate := make(chan struct{}), make(chan struct{})
	w.swarm.OnTeardown = func(ctx context.Context, _ string) error {
		event("teardown started")
		close(entered)
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		event("teardown finished")
		return nil
	}
	passDone := make(chan error, 1)
	go func() {
		_, err := w.janitor().Pass(context.Background())
		passDone <- err
	}()
	select {
	case <-entered:
	case <-time.After(waitTimeout):
		require.FailNow(t, "the janitor never started the teardown")
	}

	run := startHelper(t, w.lockDir, "acquire", d)
	line := run.next(t)
	require.Contains(t, line, "waiting for app lock", "a new run must wait while the janitor reaps")
	event("new run waiting")
	close(gate)
	run.expect(t, "acquired")
	event("new run acquired")
	select {
	case err := <-passDone:
		require.NoError(t, err)
	case <-time.After(waitTimeout):
		require.FailNow(t, "the pass did not finish")
	}

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"teardown started", "new run waiting", "teardown finished", "new run acquired"}, events)
	assert.FileExists(t, w.lockPath(d), "the new run holds a fresh lockfile")
	requireHeldElsewhere(t, w.lockPath(d))
	assert.Equal(t, []string{reap.Reap}, w.log.decisions(t, d))
}

func TestTwoJanitorsExactlyOneReaps(t *testing.T) {
	t.Parallel()
	const withLockfile, withoutLockfile, rounds = 40, 10, 10
	contended := 0
	for range rounds {
		w := newWorld(t)
		var all []string
		for i := range withLockfile + withoutLockfile {
			d := domain(i)
			all = append(all, d)
			w.swarm.Present = append(w.swarm.Present, naming.Stack(d))
			if i < withLockfile {
				w.lockfile(t, d)
			}
			if i%2 == 0 {
				require.NoError(t, os.WriteFile(w.envPath(d), nil, 0o644))
			}
		}
		w.swarm.OnTeardown = func(context.Context, string) error {
			runtime.Gosched() // let the other janitor in while this one holds the lock
			return nil
		}
		start := make(chan struct{})
		sums := make([]reap.Summary, 2)
		var wg sync.WaitGroup
		for i := range sums {
			j := w.janitor() // each janitor opens its own descriptors: flock decides between them
			wg.Go(func() {
				<-start
				sum, err := j.Pass(context.Background())
				assert.NoError(t, err)
				sums[i] = sum
			})
		}
		close(start)
		wg.Wait()

		for _, d := range all {
			require.Equal(t, 1, w.swarm.TeardownsOf(naming.Stack(d)), "%s torn down exactly once:\n%s", d, w.log)
			assert.NoFileExists(t, w.lockPath(d))
		}
		assert.Equal(t, len(all), sums[0].Reaped+sums[1].Reaped)
		assert.Zero(t, sums[0].Failed+sums[1].Failed)
		assert.Empty(t, names(t, w.lockDir))
		if sums[0].Reaped > 0 && sums[1].Reaped > 0 {
			contended++
		}
	}
	t.Logf("%d of %d rounds had both janitors reaping some orphans", contended, rounds)
}

func TestNoLockfileCIStackIsReapedAtOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		lockDirGone bool
	}{
		{"a stack without a lockfile is reaped at once", false},
		{"a stack is reaped at once even when /run lost the whole lock dir (reboot)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			d := domain(4)
			w.deployed(t, d) // deployed just now: no age to wait for
			if tt.lockDirGone {
				require.NoError(t, os.Remove(w.lockDir))
			}
			w.swarm.OnTeardown = func(context.Context, string) error {
				requireHeldElsewhere(t, w.lockPath(d)) // a fresh lock, so a starting run waits
				return nil
			}

			sum := w.pass(t)

			assert.Equal(t, 1, sum.Reaped)
			assert.Equal(t, 1, w.swarm.TeardownsOf(naming.Stack(d)))
			assert.NoFileExists(t, w.lockPath(d), "the fresh lockfile is unlinked after the reap")
			assert.NoFileExists(t, w.envPath(d))
			line := w.log.line(t, d)
			assert.Equal(t, reap.Reap, line["decision"])
			assert.Contains(t, line["reason"], "no lockfile")
		})
	}
}

func TestLockHeldBeyondTwiceDeadlineIsFlaggedNotTaken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		heldFor    time.Duration // deadline is 1h
		wantLeaked bool
	}{
		{"a lock held 1.5x the deadline is a slow but live run", 90 * time.Minute, false},
		{"a lock held 3x the deadline is a possible leaked run, still not taken", 3 * time.Hour, true},
		{"a lock held for a year is still not taken", 365 * 24 * time.Hour, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			d := domain(10 + i)
			run := startHelper(t, w.lockDir, "hold", d)
			run.expect(t, "locked")
			w.deployed(t, d)
			since := setMtime(t, w.lockPath(d), tt.heldFor) // after the holder's acquire touched it

			sum := w.pass(t)

			assert.Equal(t, 1, sum.Left)
			assert.Empty(t, w.swarm.Teardowns(), "never reaped by age alone")
			requireHeldElsewhere(t, w.lockPath(d))
			fi, err := os.Stat(w.lockPath(d))
			require.NoError(t, err)
			assert.Equal(t, since, fi.ModTime(), "the janitor never acquired it (that would touch the mtime)")
			line := w.log.line(t, d)
			assert.Equal(t, reap.Leave, line["decision"])
			if tt.wantLeaked {
				assert.Equal(t, 1, sum.Leaked)
				assert.Equal(t, "WARN", line["level"])
				assert.Contains(t, line["reason"], "possible leaked run")
				assert.Contains(t, line["reason"], "never taken")
			} else {
				assert.Zero(t, sum.Leaked)
				assert.NotContains(t, line["reason"], "leaked")
			}
		})
	}
}

func TestWarmAndCanonicalNamesAreNeverProbed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	warmHeld := "warm-sample." + suffix
	warmCIShaped := "warm-abc123." + suffix // matches the CI pattern but for its warm- prefix
	canonical := "myblog.example.com"
	otherSuffix := "samp-abcdef.example.com" // CI-shaped under a suffix that is not ours
	warm := startHelper(t, w.lockDir, "hold", warmHeld)
	warm.expect(t, "locked")
	for _, d := range []string{warmCIShaped, canonical, otherSuffix} {
		w.lockfile(t, d)
		setMtime(t, w.lockPath(d), time.Hour)
	}
	for _, d := range []string{warmHeld, warmCIShaped, canonical, "traefik.example.com"} {
		w.deployed(t, d)
	}
	w.swarm.Present = append(w.swarm.Present, naming.Stack(otherSuffix), "ccci-frontdoor")
	before := w.snapshot(t)

	sum := w.pass(t)

	assert.Empty(t, w.swarm.Teardowns())
	assert.Equal(t, before, w.snapshot(t), "no lockfile created, none flocked (mtime), no .env removed")
	assert.Zero(t, sum.Reaped+sum.Left+sum.Skipped+sum.Failed+sum.WouldReap, "nothing was a candidate")
	assert.Equal(t, 4+6+4, sum.Ignored, "every lockfile, stack and .env above is ignored:\n%s", w.log)
	for _, name := range []string{warmHeld, warmCIShaped, canonical, otherSuffix, naming.Stack(warmHeld), naming.Stack(canonical)} {
		for _, dec := range w.log.decisions(t, name) {
			assert.Equal(t, reap.Ignore, dec, "%s is only ever logged as ignored", name)
		}
	}
	assert.NotContains(t, w.log.line(t, warmHeld), "held_for", "the held warm lock was never probed")
	requireHeldElsewhere(t, w.lockPath(warmHeld))
}

// TestStackOfAnotherInstanceUnderASubSuffixIsNeverReaped: "samp-84ffa5_staging_<our suffix>" is a
// CI stack of another cc-ci instance (suffix staging.<ours>), live as far as we know; it has no
// lockfile here, and must neither get one nor be torn down.
func TestStackOfAnotherInstanceUnderASubSuffixIsNeverReaped(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	nested := "samp-84ffa5.staging." + suffix
	w.swarm.Present = append(w.swarm.Present, naming.Stack(nested))
	before := w.snapshot(t)

	sum := w.pass(t)

	assert.Empty(t, w.swarm.Teardowns(), "another instance's stack must never be torn down")
	assert.Equal(t, before, w.snapshot(t), "no lockfile may be created for it")
	assert.Zero(t, sum.Reaped+sum.WouldReap)
}
