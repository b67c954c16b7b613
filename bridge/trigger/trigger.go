// Package trigger turns stored requests into Drone builds and verdicts on the PR. It is the
// bridge's worker: intake stores a request and returns at once; trigger does every forge and Drone
// call off the request path, one PR at a time (a PR's requests are handled in order by one worker,
// so two `!testme` on one PR can never both start a build), resuming from the store after a
// restart and retrying Drone with backoff.
package trigger

import (
	"context"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/drone/drone-go/drone"

	"coopcloud.tech/cc-ci/bridge/command"
	"coopcloud.tech/cc-ci/bridge/event"
	"coopcloud.tech/cc-ci/bridge/forge"
	"coopcloud.tech/cc-ci/bridge/store"
)

// droneClient is what trigger needs of drone-go's client.
type droneClient interface {
	BuildCreate(owner, name, commit, branch string, params map[string]string) (*drone.Build, error)
	BuildCancel(owner, name string, build int) error
	Build(owner, name string, num int) (*drone.Build, error)
	BuildList(owner, name string, opts drone.ListOptions) ([]*drone.Build, error)
	Logs(owner, name string, build, stage, step int) ([]*drone.Line, error)
}

// instruments is what trigger counts (bridge/metrics.Metrics).
type instruments interface {
	BuildStarted(forge string)
	TriggerLatency(d time.Duration)
	Reconcile(action string)
	Request(result string)
}

// Config is how trigger reaches Drone and what it links to.
type Config struct {
	DroneRepo    string        // owner/name of the cc-ci repo whose recipe-test pipeline runs the plugin
	DroneBranch  string        // the branch of that repo to build (its .drone.yml)
	DroneURL     string        // Drone's web address, for build links
	RunsDir      string        // CCCI_RUNS_DIR, where the plugin writes <run-id>/results.json
	RunsURL      string        // public URL of the runs dir (empty: no results.json link)
	DashboardURL string        // the dashboard's URL (empty: no link)
	AllowList    []string      // logins trusted beyond org members and writers
	Workers      int           // PRs worked on at once
	RetryMin     time.Duration // first retry delay after a Drone or forge failure
	RetryMax     time.Duration // longest retry delay
	Sweep        time.Duration // how often stored work is rescanned (lost wake-ups, due retries)
	Reconcile    time.Duration // how long a started build may go unheard before Drone is asked
	Retention    time.Duration // how long finished requests are kept (redeliveries within it are still recognised)

	// Recipe maps an enrolled forge repo to its recipe.
	Recipe func(forge, repo string) (string, bool)
	// Bots are each forge's bot login (whose sticky comment is ours).
	Bots map[string]string
}

// jobTimeout bounds the work on one request (a handful of forge and Drone calls).
const jobTimeout = 2 * time.Minute

// Service is the worker.
type Service struct {
	cfg    Config
	store  *store.Store
	forges map[string]forge.Forge
	drone  droneClient
	owner  string
	name   string
	log    *slog.Logger
	m      instruments
	now    func() time.Time

	shards []chan wake

	mu      sync.Mutex
	checked map[string]time.Time // started requests: when Drone was last asked about them
	queued  map[string]bool      // requests with a wake-up in a worker queue (one is enough)
	pruned  time.Time            // when finished requests were last pruned
}

// New returns a Service; call Run to start its workers.
func New(cfg Config, st *store.Store, forges map[string]forge.Forge, dc droneClient, m instruments, log *slog.Logger) *Service {
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = time.Second
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = time.Minute
	}
	if cfg.Sweep <= 0 {
		cfg.Sweep = 5 * time.Second
	}
	if cfg.Reconcile <= 0 {
		cfg.Reconcile = 30 * time.Second
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 30 * 24 * time.Hour
	}
	owner, name, _ := strings.Cut(cfg.DroneRepo, "/")
	s := &Service{cfg: cfg, store: st, forges: forges, drone: dc, owner: owner, name: name, log: log, m: m,
		now: time.Now, checked: map[string]time.Time{}, queued: map[string]bool{}}
	for range cfg.Workers {
		s.shards = append(s.shards, make(chan wake, 4096))
	}
	return s
}

// Accept stores ev durably and wakes the worker for its PR (intake.Sink). A request seen before
// (a redelivery, or the poll finding a comment a webhook already brought) is not added again.
func (s *Service) Accept(_ context.Context, ev event.Event) error {
	r, created, err := s.store.Add(keepCommand(ev))
	if err != nil {
		return err
	}
	if created {
		s.dispatch(r)
	}
	return nil
}

// wake is one wake-up of a PR's worker: a request key, and whether Drone said its build ended.
type wake struct {
	key   string
	ended bool
}

// dispatch queues r for its PR's worker. A full queue drops the wake-up: the sweep finds the
// request in the store. Only the worker writes a request it has been woken for (one writer per
// PR), so webhooks and the reconcile loop wake it instead of writing the request themselves.
func (s *Service) dispatch(r store.Request) {
	if !s.wake(r, false) {
		s.log.Warn("worker queue full; the sweep picks the request up", "request", r.Key)
	}
}

func (s *Service) wake(r store.Request, ended bool) bool {
	s.mu.Lock()
	if s.queued[r.Key] && !ended {
		s.mu.Unlock()
		return true // already waiting in its worker's queue
	}
	s.queued[r.Key] = true
	s.mu.Unlock()
	h := fnv.New32a()
	_, _ = h.Write([]byte(event.PRKey(r.Event.Forge, r.Event.Repo, r.Event.PR)))
	select {
	case s.shards[int(h.Sum32())%len(s.shards)] <- wake{key: r.Key, ended: ended}:
		return true
	default:
		s.mu.Lock()
		delete(s.queued, r.Key)
		s.mu.Unlock()
		return false // the sweep finds it in the store
	}
}

// Run works until ctx ends: it resumes every pending request, then serves wake-ups, due retries
// and the reconcile loop. It returns after the workers finished the request in hand.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, ch := range s.shards {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case wk := <-ch:
					s.mu.Lock()
					delete(s.queued, wk.key)
					s.mu.Unlock()
					if ctx.Err() != nil {
						return // shutting down: the request stays in the store for the next start
					}
					// The request in hand is finished even when shutdown begins meanwhile: its
					// forge and Drone calls must not fail half-way and be mistaken for answers.
					jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jobTimeout)
					s.work(jctx, wk)
					cancel()
				}
			}
		})
	}
	s.sweep(ctx)
	t := time.NewTicker(s.cfg.Sweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
			s.sweep(ctx)
		}
	}
}

// sweep re-dispatches stored work: pending requests whose retry is due, started requests the PR
// was not told about, and started builds Drone has not told us about for a while (the reconcile
// loop: a build webhook can be lost). Once an hour it prunes finished requests past retention.
func (s *Service) sweep(ctx context.Context) {
	now := s.now()
	var started []store.Request // asked about outside the store's read transaction
	full := 0
	err := s.store.EachPending(func(r store.Request) {
		switch {
		case r.State == store.Started:
			if !r.Acked && !r.Next.After(now) && !s.wake(r, false) {
				full++
			}
			started = append(started, r)
		case r.Next.After(now):
			// a retry not yet due; its timer or a later sweep dispatches it
		default:
			if !s.wake(r, false) {
				full++
			}
		}
	})
	if err != nil {
		s.log.Error("read pending requests", "err", err)
	}
	if full > 0 {
		s.log.Warn("worker queues full; the next sweep picks the rest up", "requests", full)
	}
	for _, r := range started {
		if ctx.Err() != nil {
			return
		}
		s.reconcile(ctx, r, now)
	}
	if now.Sub(s.pruned) >= time.Hour {
		s.pruned = now
		n, err := s.store.Prune(now.Add(-s.cfg.Retention))
		if err != nil {
			s.log.Error("prune finished requests", "err", err)
		} else if n > 0 {
			s.log.Info("pruned finished requests", "requests", n, "older_than", s.cfg.Retention)
		}
	}
}

// work advances one request as far as it can go now.
func (s *Service) work(ctx context.Context, wk wake) {
	r, err := s.store.Get(wk.key)
	if err != nil {
		s.log.Error("load request", "request", wk.key, "err", err)
		return
	}
	if r.State.Final() || r.Next.After(s.now()) {
		return
	}
	log := s.log.With("request", r.Key, "delivery", r.Event.DeliveryID, "forge", r.Event.Forge,
		"repo", r.Event.Repo, "pr", r.Event.PR)
	f, ok := s.forges[r.Event.Forge]
	if !ok {
		s.finish(log, r, store.Dropped, "forge "+r.Event.Forge+" is not configured")
		return
	}
	j := &job{s: s, f: f, r: r, log: log}
	switch {
	case r.Event.Kind == event.Push:
		j.push(ctx)
	case r.State == store.Received || r.State == store.Starting:
		j.start(ctx)
	case r.State == store.Started:
		if !r.Acked && !j.ack(ctx) {
			return
		}
		if wk.ended || r.Attempts > 0 {
			j.report(ctx) // it asks Drone first: a build still running is left alone
		}
	}
}

// finish moves r to a final state.
func (s *Service) finish(log *slog.Logger, r store.Request, st store.State, note string) {
	r.State, r.Note, r.Next = st, note, time.Time{}
	if err := s.store.Put(r); err != nil {
		log.Error("store request", "err", err)
		return
	}
	s.mu.Lock()
	delete(s.checked, r.Key)
	s.mu.Unlock()
	s.m.Request(string(st))
	log.Info("request done", "state", st, "note", note)
}

// retry records a failure and schedules the request again with exponential backoff.
func (s *Service) retry(log *slog.Logger, r store.Request, err error) store.Request {
	r.Attempts++
	d := s.cfg.RetryMin << min(r.Attempts-1, 16)
	if d > s.cfg.RetryMax || d <= 0 {
		d = s.cfg.RetryMax
	}
	r.Next, r.Error = s.now().Add(d), err.Error()
	if perr := s.store.Put(r); perr != nil {
		log.Error("store request", "err", perr)
		return r
	}
	log.Warn("will retry", "in", d, "attempt", r.Attempts, "err", err)
	s.m.Reconcile("retry")
	time.AfterFunc(d, func() { s.wake(r, r.State == store.Started) })
	return r
}

// buildURL is the Drone web page of build n.
func (s *Service) buildURL(n int64) string {
	return strings.TrimRight(s.cfg.DroneURL, "/") + "/" + s.cfg.DroneRepo + "/" + itoa(n)
}

// Catch is Accept for the poll's catch-up: it reports whether the comment was new to the bridge
// (its webhook was lost), which the poll counts.
func (s *Service) Catch(_ context.Context, ev event.Event) (bool, error) {
	r, created, err := s.store.Add(keepCommand(ev))
	if err != nil {
		return false, err
	}
	if created {
		s.dispatch(r)
	}
	return created, nil
}

// keepCommand replaces a comment's body by its command line before it is stored: the rest of a
// comment (up to 64 KiB of anyone's text) is neither needed nor ours to keep.
func keepCommand(ev event.Event) event.Event {
	if ev.Kind != event.Comment {
		return ev
	}
	if c, ok := command.Parse(ev.Body); ok && c.Quick {
		ev.Body = command.Quick
	} else if ok {
		ev.Body = command.Cold
	}
	return ev
}
