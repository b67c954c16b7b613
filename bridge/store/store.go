// Package store is the bridge's durable memory (bbolt): every request (one per `!testme` comment,
// keyed by the comment so a redelivery, a poll and the original delivery are one request), its
// state (received -> build started -> reported), each PR's sticky comment and current run, and the
// poll cursors. A restart resumes from here; nothing is kept only in memory.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"coopcloud.tech/cc-ci/bridge/event"
)

// State is where a request stands.
type State string

// Request states. Received and Starting are pending (the trigger works on them); Started waits for
// Drone; the rest are final.
const (
	Received  State = "received"  // stored, not yet looked at
	Starting  State = "starting"  // BuildCreate may have been sent: look for the build before sending again
	Started   State = "started"   // a build runs; the verdict is posted when it ends
	Reported  State = "reported"  // the verdict is on the PR
	Refused   State = "refused"   // untrusted commenter, told so
	Duplicate State = "duplicate" // the same PR and SHA was already being tested; told so
	Cancelled State = "cancelled" // superseded by a newer head (a new !testme or a push)
	Dropped   State = "dropped"   // nothing to do: PR closed, push with nothing in flight
)

// Final reports whether s needs no more work.
func (s State) Final() bool {
	switch s {
	case Reported, Refused, Duplicate, Cancelled, Dropped:
		return true
	}
	return false
}

// Request is one thing a forge asked of us: a `!testme` comment or a push on a PR.
type Request struct {
	Key      string      `json:"key"`
	Event    event.Event `json:"event"`
	State    State       `json:"state"`
	SHA      string      `json:"sha,omitempty"`      // the pinned head under test
	Build    int64       `json:"build,omitempty"`    // Drone build number once started
	Acked    bool        `json:"acked,omitempty"`    // reaction, pending status and sticky posted
	Queued   bool        `json:"queued,omitempty"`   // the PR was told Drone is unreachable
	Attempts int         `json:"attempts,omitempty"` // failed attempts so far (backoff)
	Next     time.Time   `json:"next,omitempty"`     // not before this time (backoff)
	Error    string      `json:"error,omitempty"`    // the last failure, for operators
	Note     string      `json:"note,omitempty"`     // why it ended (cancelled by what, dropped why)
	Created  time.Time   `json:"created"`
	Updated  time.Time   `json:"updated"`
}

// PR is what the bridge remembers of one pull request.
type PR struct {
	Key     string `json:"key"`
	Sticky  int64  `json:"sticky,omitempty"`  // the one comment every run edits
	Current string `json:"current,omitempty"` // the request whose run the sticky shows
	SHA     string `json:"sha,omitempty"`     // that run's head
	Build   int64  `json:"build,omitempty"`   // that run's build
	// PushSHA and PushAt are the last push the bridge heard of (the head it moved to, and when,
	// in the bridge's clock): a `!testme` said before it never tests what it pushed.
	PushSHA string    `json:"push_sha,omitempty"`
	PushAt  time.Time `json:"push_at,omitzero"`
	// Refused lists the commenters already told they may not trigger runs here (told once).
	Refused []string `json:"refused,omitempty"`
}

var (
	bRequests = []byte("requests")
	bPending  = []byte("pending") // keys of the requests that are not final: what a sweep reads
	bDeliver  = []byte("deliveries")
	bPRs      = []byte("prs")
	bBuilds   = []byte("builds")
	bMeta     = []byte("meta")
)

// Store is the bbolt database.
type Store struct {
	db  *bolt.DB
	now func() time.Time
}

// ErrNotFound is returned for an unknown key.
var ErrNotFound = errors.New("not found")

// Open opens (creating) the store at path. It waits at most a second for the file lock: a
// second bridge on the same file is a configuration error, not something to queue behind.
func Open(path string) (*Store, error) {
	// The freelist is rebuilt on open instead of written with every commit: less I/O per request.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoFreelistSync: true})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w (is another cc-ci-bridge using it?)", path, err)
	}
	// Concurrent writers (deliveries and workers) share one commit and its fsync; intake's answer
	// waits for at most this much batching.
	db.MaxBatchDelay = time.Millisecond
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bRequests, bPending, bDeliver, bPRs, bBuilds, bMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("init store %s: %w", path, err)
	}
	return &Store{db: db, now: time.Now}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Add stores a new request for ev unless one with its key (event.Event.Key) exists; it reports whether it was
// new. The delivery id is recorded either way. Concurrent calls share one transaction (and one
// fsync), which is what lets a burst of deliveries be answered in milliseconds.
func (s *Store) Add(ev event.Event) (Request, bool, error) {
	key := ev.Key()
	var (
		out     Request
		created bool
	)
	err := s.db.Batch(func(tx *bolt.Tx) error {
		// Batch may run this function more than once: derive everything from tx.
		created = false
		reqs := tx.Bucket(bRequests)
		if v := reqs.Get([]byte(key)); v != nil {
			if err := json.Unmarshal(v, &out); err != nil {
				return fmt.Errorf("decode request %s: %w", key, err)
			}
		} else {
			now := s.now().UTC()
			out = Request{Key: key, Event: ev, State: Received, Created: now, Updated: now}
			if err := putRequest(tx, out); err != nil {
				return err
			}
			created = true
		}
		if ev.DeliveryID != "" {
			return tx.Bucket(bDeliver).Put([]byte(ev.Forge+"/"+ev.DeliveryID), []byte(key))
		}
		return nil
	})
	if err != nil {
		return Request{}, false, fmt.Errorf("store request %s: %w", key, err)
	}
	return out, created, nil
}

// Get returns the request stored under key.
func (s *Store) Get(key string) (Request, error) {
	var r Request
	err := s.db.View(func(tx *bolt.Tx) error { return get(tx.Bucket(bRequests), key, &r) })
	return r, err
}

// Put replaces a request, stamping Updated, and indexes its build number. Like every write it
// shares a batched commit with concurrent writers (each write replaces whole values, so a batch
// that bbolt retries writes the same again).
func (s *Store) Put(r Request) error {
	r.Updated = s.now().UTC()
	return s.db.Batch(func(tx *bolt.Tx) error { return putRequest(tx, r) })
}

// PutWithPR replaces a request and its PR's record in one transaction, so a crash never leaves
// the PR pointing at another request than the one that was admitted.
func (s *Store) PutWithPR(r Request, p PR) error {
	r.Updated = s.now().UTC()
	return s.db.Batch(func(tx *bolt.Tx) error {
		if err := putRequest(tx, r); err != nil {
			return err
		}
		return put(tx.Bucket(bPRs), p.Key, p)
	})
}

// putRequest writes r and keeps the build and pending indexes in step with it.
func putRequest(tx *bolt.Tx, r Request) error {
	if r.Build != 0 {
		if err := tx.Bucket(bBuilds).Put(buildKey(r.Build), []byte(r.Key)); err != nil {
			return err
		}
	}
	pending := tx.Bucket(bPending)
	var err error
	if r.State.Final() {
		err = pending.Delete([]byte(r.Key))
	} else {
		err = pending.Put([]byte(r.Key), nil)
	}
	if err != nil {
		return err
	}
	return put(tx.Bucket(bRequests), r.Key, r)
}

// ByBuild returns the request whose Drone build is number.
func (s *Store) ByBuild(number int64) (Request, error) {
	var r Request
	err := s.db.View(func(tx *bolt.Tx) error {
		k := tx.Bucket(bBuilds).Get(buildKey(number))
		if k == nil {
			return fmt.Errorf("build %d: %w", number, ErrNotFound)
		}
		return get(tx.Bucket(bRequests), string(k), &r)
	})
	return r, err
}

// Pending returns every request that is not final, oldest first: the work a restart resumes.
func (s *Store) Pending() ([]Request, error) {
	var out []Request
	err := s.EachPending(func(r Request) { out = append(out, r) })
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, err
}

// EachPending calls fn with every request that is not final, in key order, without holding them
// all in memory (a backlog can be long). fn runs inside a read transaction: it must not write.
func (s *Store) EachPending(fn func(Request)) error {
	return s.db.View(func(tx *bolt.Tx) error {
		reqs := tx.Bucket(bRequests)
		return tx.Bucket(bPending).ForEach(func(k, _ []byte) error {
			var r Request
			if err := get(reqs, string(k), &r); err != nil {
				return err
			}
			fn(r)
			return nil
		})
	})
}

// Ping reads the store: the health check.
func (s *Store) Ping() error {
	return s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bRequests) == nil {
			return errors.New("store has no requests bucket")
		}
		return nil
	})
}

// Prune deletes final requests last updated before cutoff, with their delivery and build index
// entries, and reports how many went. Open PR records are kept: they are small and hold the
// sticky comment.
func (s *Store) Prune(cutoff time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		reqs, builds := tx.Bucket(bRequests), tx.Bucket(bBuilds)
		var gone [][]byte
		err := reqs.ForEach(func(k, v []byte) error {
			var r struct {
				State   State     `json:"state"`
				Build   int64     `json:"build"`
				Updated time.Time `json:"updated"`
			}
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode request %s: %w", k, err)
			}
			if r.State.Final() && r.Updated.Before(cutoff) {
				gone = append(gone, append([]byte(nil), k...))
				if r.Build != 0 {
					if err := builds.Delete(buildKey(r.Build)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range gone {
			if err := reqs.Delete(k); err != nil {
				return err
			}
		}
		n = len(gone)
		dels := tx.Bucket(bDeliver)
		var stale [][]byte
		err = dels.ForEach(func(k, v []byte) error {
			if reqs.Get(v) == nil {
				stale = append(stale, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range stale {
			if err := dels.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// PR returns what is remembered of a pull request (the zero PR, keyed, when nothing is).
func (s *Store) PR(key string) (PR, error) {
	p := PR{Key: key}
	err := s.db.View(func(tx *bolt.Tx) error {
		err := get(tx.Bucket(bPRs), key, &p)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
	return p, err
}

// PutPR replaces what is remembered of a pull request.
func (s *Store) PutPR(p PR) error {
	return s.db.Batch(func(tx *bolt.Tx) error { return put(tx.Bucket(bPRs), p.Key, p) })
}

// Cursor returns the time stored under name (zero when none): the poll's high-water marks.
func (s *Store) Cursor(name string) (time.Time, error) {
	var t time.Time
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bMeta).Get([]byte("cursor/" + name))
		if v == nil {
			return nil
		}
		return t.UnmarshalText(v)
	})
	return t, err
}

// SetCursor stores a poll high-water mark.
func (s *Store) SetCursor(name string, t time.Time) error {
	v, err := t.UTC().MarshalText()
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put([]byte("cursor/"+name), v) })
}

func put(b *bolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return b.Put([]byte(key), data)
}

func get(b *bolt.Bucket, key string, v any) error {
	data := b.Get([]byte(key))
	if data == nil {
		return fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}

func buildKey(n int64) []byte { return []byte(fmt.Sprintf("%020d", n)) }
