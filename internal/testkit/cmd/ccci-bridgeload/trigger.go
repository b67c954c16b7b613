package main

import (
	"context"
	"sync"
	"time"

	"coopcloud.tech/cc-ci/internal/testkit/forgehook"
)

// statusWait is how long after the last phase-2 send a pending status may still arrive.
const statusWait = time.Minute

// trigResult is phase 2's measurement.
type trigResult struct {
	sent    int
	ack     []time.Duration // per delivery: the webhook's answer
	trigger []time.Duration // per delivery that got one: send to the first pending status
	missing int             // deliveries with no pending status within statusWait
	t       *tally
}

// phase2 sends one `!testme` per new PR at cfg.trigRate for cfg.trigFor, open loop, and times
// each to the first pending status on its PR's head. A PR of its own per request, so no request
// is a duplicate of another's run and each one's status is told apart by its head SHA.
func (w *world) phase2(ctx context.Context, cfg config) (*trigResult, error) {
	n := max(int(cfg.trigRate*cfg.trigFor.Seconds()), 1)
	type shot struct {
		d    forgehook.Delivery
		sha  string
		sent time.Time
	}
	shots := make([]shot, n)
	for i := range shots {
		pr := w.nextPR
		w.nextPR++
		shots[i].sha = w.openPR(pr)
		shots[i].d = w.delivery(pr)
	}
	r := &trigResult{sent: n, ack: make([]time.Duration, n), t: &tally{}}
	interval := time.Duration(float64(time.Second) / cfg.trigRate)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range shots {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			select {
			case <-ctx.Done():
				wg.Wait()
				return nil, ctx.Err()
			case <-time.After(wait):
			}
		}
		// Each send in its own goroutine: a slow answer never delays the next send.
		wg.Go(func() {
			shots[i].sent = time.Now()
			status, err := w.send(ctx, shots[i].d)
			r.ack[i] = time.Since(shots[i].sent)
			r.t.add(status, err)
		})
	}
	wg.Wait()

	// The fake forge stamps each status as it arrives (fakeforge.State.AddStatus), so polling
	// late and slowly loses no precision; it only has to see every status eventually. It stays
	// coarse so this process takes little of the CPUs it shares with the bridge.
	left := make(map[int]bool, n)
	for i := range shots {
		left[i] = true
	}
	deadline := time.Now().Add(statusWait)
	for len(left) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		for i := range left {
			for _, st := range w.forge.Statuses(repo, shots[i].sha) {
				if st.State == "pending" {
					r.trigger = append(r.trigger, st.Created.Sub(shots[i].sent))
					delete(left, i)
					break
				}
			}
		}
		if len(left) > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	r.missing = len(left)
	return r, ctx.Err()
}
