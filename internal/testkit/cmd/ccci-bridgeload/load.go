package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"coopcloud.tech/cc-ci/internal/testkit/forgehook"
)

// tally counts the answers of a batch of deliveries.
type tally struct {
	mu    sync.Mutex
	ok    int            // 202 Accepted
	other map[string]int // any other status, or the transport error
}

func (t *tally) add(status int, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil && status == http.StatusAccepted {
		t.ok++
		return
	}
	if t.other == nil {
		t.other = map[string]int{}
	}
	if err != nil {
		t.other["error: "+err.Error()]++
		return
	}
	t.other[fmt.Sprintf("HTTP %d", status)]++
}

// send posts one delivery over the keep-alive client and reads the whole answer, so the
// connection goes back to the pool.
func (w *world) send(ctx context.Context, d forgehook.Delivery) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+w.addr+"/hooks/github", bytes.NewReader(d.Body))
	if err != nil {
		return 0, err
	}
	req.Header = d.Headers.Clone()
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Body.Close()
}

// deliveries prepares n deliveries round-robin over the phase-1 PRs, before any clock runs.
func (w *world) deliveries(n, prs int) []forgehook.Delivery {
	ds := make([]forgehook.Delivery, n)
	for i := range ds {
		ds[i] = w.delivery(1 + i%prs)
	}
	return ds
}

// warmUp opens the connections and gets the bridge's first allocations out of the way.
func (w *world) warmUp(ctx context.Context, n, prs, conc int) error {
	if n == 0 {
		return nil
	}
	var t tally
	closedLoop(ctx, w.deliveries(n, prs), conc, func(_ int, d forgehook.Delivery) {
		status, err := w.send(ctx, d)
		t.add(status, err)
	})
	if t.ok != n {
		return fmt.Errorf("warm-up: %d of %d deliveries accepted (%v); see the bridge log", t.ok, n, t.other)
	}
	return ctx.Err()
}

// closedLoop runs fn over ds with conc calls in flight.
func closedLoop(ctx context.Context, ds []forgehook.Delivery, conc int, fn func(int, forgehook.Delivery)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(ds) {
					return
				}
				fn(i, ds[i])
			}
		})
	}
	wg.Wait()
}

// holdLimit is the longest -hold-workers holds the bridge's forge calls.
const holdLimit = 20 * time.Second

// ackResult is phase 1's measurement.
type ackResult struct {
	start time.Time       // when the first delivery went out
	wall  time.Duration   // first send to last answer
	lat   []time.Duration // per delivery: send (or its scheduled send) to the whole answer read
	t     *tally
}

// phase1 posts ds, closed-loop or at cfg.rate.
func (w *world) phase1(ctx context.Context, cfg config, ds []forgehook.Delivery) (*ackResult, error) {
	r := &ackResult{lat: make([]time.Duration, len(ds)), t: &tally{}}
	if w.gate != nil {
		w.gate.hold()
		// Released after phase 1, or sooner: a forge call held past the bridge's 30 s API
		// timeout would fail its trust check.
		t := time.AfterFunc(holdLimit, w.gate.release)
		defer func() { t.Stop(); w.gate.release() }()
	}
	r.start = time.Now()
	if cfg.rate == 0 {
		closedLoop(ctx, ds, cfg.conc, func(i int, d forgehook.Delivery) {
			t0 := time.Now()
			status, err := w.send(ctx, d)
			r.lat[i] = time.Since(t0)
			r.t.add(status, err)
		})
	} else {
		// Open loop: delivery i is due at start + i/rate. Its latency counts from then, so a
		// sender held up by a slow answer charges the wait to the deliveries queued behind it
		// (no coordinated omission).
		interval := time.Duration(float64(time.Second) / cfg.rate)
		closedLoop(ctx, ds, cfg.conc, func(i int, d forgehook.Delivery) {
			due := r.start.Add(time.Duration(i) * interval)
			if wait := time.Until(due); wait > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(wait):
				}
			}
			status, err := w.send(ctx, d)
			r.lat[i] = time.Since(due)
			r.t.add(status, err)
		})
	}
	r.wall = time.Since(r.start)
	return r, ctx.Err()
}

// drainResult is how long the bridge took to finish every accepted request.
type drainResult struct {
	drained  bool
	accepted float64            // accepted deliveries so far (warm-up included)
	final    float64            // requests in a final state (warm-up included)
	since    time.Duration      // from phase 1's first delivery
	rate     float64            // requests finished per second since phase 1 began
	results  map[string]float64 // ccci_bridge_requests_total by result
}

// awaitDrain polls the bridge's /metrics until every accepted request has ended (reported,
// duplicate, ...) or limit passes. base is the snapshot taken as phase 1 began.
func (w *world) awaitDrain(ctx context.Context, limit time.Duration, start time.Time, base snapshot) (*drainResult, error) {
	deadline := time.Now().Add(limit)
	for {
		m, err := w.metrics()
		if err != nil {
			return nil, err
		}
		d := &drainResult{accepted: m.accepted, final: m.final(), results: m.results, since: time.Since(start)}
		d.drained = d.final >= d.accepted
		if d.drained || time.Now().After(deadline) || ctx.Err() != nil {
			d.rate = (d.final - base.m.final()) / d.since.Seconds()
			return d, ctx.Err()
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}
