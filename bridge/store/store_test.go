package store

import (
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/bridge/event"
)

func comment(id int64, delivery string) event.Event {
	return event.Event{Forge: event.GitHub, DeliveryID: delivery, Kind: event.Comment, Repo: "coop-cloud/sample",
		PR: 7, CommentID: id, Body: "!testme", Author: "alice"}
}

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestAddCreatesEachCommentOnceUnderABurst(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "b.db"))
	var created atomic.Int32
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			// the same comment, delivered 100 times with distinct delivery ids (redeliveries)
			_, c, err := s.Add(comment(42, "d-"+string(rune('a'+i%26))))
			assert.NoError(t, err)
			if c {
				created.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), created.Load(), "one request for one comment")
	pending, err := s.Pending()
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, Received, pending[0].State)
}

func TestRequestsSurviveAReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "b.db")
	s, err := Open(path)
	require.NoError(t, err)
	r, created, err := s.Add(comment(1, "x"))
	require.NoError(t, err)
	require.True(t, created)
	r.State, r.Build, r.SHA = Started, 17, "abc"
	require.NoError(t, s.Put(r))
	_, _, err = s.Add(comment(2, "y"))
	require.NoError(t, err)
	require.NoError(t, s.PutPR(PR{Key: "k", Sticky: 9, Current: r.Key}))
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	require.NoError(t, s.SetCursor("github/coop-cloud/sample", at))
	require.NoError(t, s.Close())

	s = open(t, path)
	got, err := s.ByBuild(17)
	require.NoError(t, err)
	assert.Equal(t, r.Key, got.Key)
	assert.Equal(t, Started, got.State)
	p, err := s.PR("k")
	require.NoError(t, err)
	assert.Equal(t, int64(9), p.Sticky)
	c, err := s.Cursor("github/coop-cloud/sample")
	require.NoError(t, err)
	assert.True(t, at.Equal(c))
	_, _, err = s.Add(comment(1, "redelivered"))
	require.NoError(t, err)
	pending, err := s.Pending()
	require.NoError(t, err)
	require.Len(t, pending, 2, "both requests still need work after the restart")
	assert.Equal(t, Started, pending[0].State, "oldest first, and the redelivery did not reset it")
}

func TestFinalRequestsAreNotPending(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "b.db"))
	for i, st := range []State{Reported, Refused, Duplicate, Cancelled, Dropped, Received, Starting, Started} {
		r, _, err := s.Add(comment(int64(i+1), ""))
		require.NoError(t, err)
		r.State = st
		require.NoError(t, s.Put(r))
	}
	pending, err := s.Pending()
	require.NoError(t, err)
	var states []State
	for _, r := range pending {
		states = append(states, r.State)
	}
	assert.ElementsMatch(t, []State{Received, Starting, Started}, states)
}

func TestUnknownKeysAreNotFound(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "b.db"))
	_, err := s.Get("nope")
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.ByBuild(5)
	assert.ErrorIs(t, err, ErrNotFound)
	p, err := s.PR("fresh")
	require.NoError(t, err)
	assert.Equal(t, PR{Key: "fresh"}, p)
	c, err := s.Cursor("never")
	require.NoError(t, err)
	assert.True(t, c.IsZero())
}

func TestASecondBridgeOnTheSameFileIsRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "b.db")
	open(t, path)
	_, err := Open(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "another cc-ci-bridge")
}

func TestPruneDropsOnlyOldFinishedRequests(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "b.db"))
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	old, _, err := s.Add(comment(1, "old"))
	require.NoError(t, err)
	old.State, old.Build = Reported, 5
	require.NoError(t, s.Put(old))
	stuck, _, err := s.Add(comment(2, "stuck")) // old but not final: never pruned
	require.NoError(t, err)
	clock = clock.Add(60 * 24 * time.Hour)
	fresh, _, err := s.Add(comment(3, "fresh"))
	require.NoError(t, err)
	fresh.State = Reported
	require.NoError(t, s.Put(fresh))

	n, err := s.Prune(clock.Add(-30 * 24 * time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = s.Get(old.Key)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.ByBuild(5)
	assert.ErrorIs(t, err, ErrNotFound, "its build index went with it")
	for _, k := range []string{stuck.Key, fresh.Key} {
		_, err = s.Get(k)
		assert.NoError(t, err)
	}
	require.NoError(t, s.Ping())
}
