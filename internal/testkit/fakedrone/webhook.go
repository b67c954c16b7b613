package fakedrone

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"github.com/99designs/httpsignatures-go"
	"github.com/drone/drone-go/drone"
)

// signer signs like Drone's webhook sender (plugin/webhook/webhook.go): draft-cavage HTTP
// Signatures, hmac-sha256 over the "date" and "digest" headers, keyId "hmac-key", in a
// Signature header.
var signer = httpsignatures.NewSigner(httpsignatures.AlgorithmHmacSha256, "date", "digest")

// hookTimeout bounds one delivery, as the sender's context.WithTimeout(ctx, time.Minute) does.
const hookTimeout = time.Minute

// wireRepo is a repo as core.Repository encodes it: its "build" is a pointer, present only when
// set (teardown.go sets repo.Build; the triggerer and cancel do not). The outer Build field
// shadows drone.Repo's non-pointer one.
type wireRepo struct {
	drone.Repo
	Build *drone.Build `json:"build,omitempty"`
}

// payload is the sender's body: core.WebhookData plus the system (webhook.go payload type); it
// decodes into drone-go's plugin/webhook.Request.
type payload struct {
	Event  string        `json:"event"`
	Action string        `json:"action"`
	User   *drone.User   `json:"user,omitempty"`
	Repo   *wireRepo     `json:"repo,omitempty"`
	Build  *drone.Build  `json:"build,omitempty"`
	System *drone.System `json:"system,omitempty"`
}

// Who sends a build webhook; each sends a slightly different payload.
type origin int

const (
	fromTrigger  origin = iota // trigger.go: "created"
	fromCancel                 // cancel.go: "updated"
	fromTeardown               // teardown.go: "updated", then "completed"
)

// sendLocked queues the build webhook for action. The triggerer's "created" carries the repo
// owner as user and the build without stages (trigger.go); cancel's "updated" carries the build
// with its stages (cancel.go); teardown's "updated" and "completed" carry it with its stages
// and also as repo.build (teardown.go).
func (s *Server) sendLocked(rec *record, action string, from origin) {
	if s.cfg.WebhookEndpoint == "" || !matchEvent(s.cfg.WebhookEvents, "build", action) {
		return
	}
	b := rec.snapshot(from != fromTrigger)
	repo := &wireRepo{Repo: rec.repo.repo}
	p := payload{Event: "build", Action: action, Repo: repo, Build: &b, System: s.system()}
	switch from {
	case fromTrigger:
		p.User = &drone.User{ID: 1, Login: s.cfg.User, Active: true, Machine: true}
	case fromTeardown:
		repo.Build = &b
	}
	body, err := json.Marshal(p)
	if err != nil {
		s.log.Error("fakedrone: encode webhook", "err", err)
		return
	}
	s.hooks.enqueue("build", body)
}

// matchEvent is the sender's match: no patterns match everything, else "event:action" must
// match one filepath.Match pattern.
func matchEvent(patterns []string, event, action string) bool {
	if len(patterns) == 0 {
		return true
	}
	name := event
	if action != "" {
		name = event + ":" + action
	}
	for _, p := range patterns {
		if ok, _ := filepath.Match(p, name); ok {
			return true
		}
	}
	return false
}

// system is core.System as the sender attaches it.
func (s *Server) system() *drone.System {
	u, err := url.Parse(s.cfg.LinkBase)
	if err != nil {
		return &drone.System{Link: s.cfg.LinkBase, Version: "fakedrone"}
	}
	return &drone.System{Proto: u.Scheme, Host: u.Host, Link: s.cfg.LinkBase, Version: "fakedrone"}
}

// hookQueue delivers webhooks one at a time in the order they were queued, so one build's
// webhooks arrive in order. Delivery is best effort: a failed POST is logged and forgotten, as
// Drone's callers only log the sender's error.
type hookQueue struct {
	endpoint, secret string
	log              *slog.Logger
	client           *http.Client
	ctx              context.Context
	cancel           context.CancelFunc
	wake             chan struct{}
	done             chan struct{}

	mu      sync.Mutex
	drop    bool
	queue   []delivery
	sent    int
	dropped int
}

type delivery struct {
	event string
	body  []byte
}

func newHookQueue(ctx context.Context, endpoint, secret string, log *slog.Logger) *hookQueue {
	q := &hookQueue{endpoint: endpoint, secret: secret, log: log, client: &http.Client{},
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	q.ctx, q.cancel = context.WithCancel(ctx)
	go q.loop()
	return q
}

func (q *hookQueue) setDrop(drop bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.drop = drop
}

func (q *hookQueue) enqueue(event string, body []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.drop {
		q.dropped++
		return
	}
	q.queue = append(q.queue, delivery{event, body})
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *hookQueue) counts() (sent, dropped int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.sent, q.dropped
}

// close stops delivery; queued webhooks that were not sent yet are lost.
func (q *hookQueue) close() {
	q.cancel()
	<-q.done
}

func (q *hookQueue) loop() {
	defer close(q.done)
	for {
		q.mu.Lock()
		var d *delivery
		if len(q.queue) > 0 {
			d = &q.queue[0]
			q.queue = q.queue[1:]
		}
		q.mu.Unlock()
		if d == nil {
			select {
			case <-q.ctx.Done():
				return
			case <-q.wake:
				continue
			}
		}
		q.mu.Lock()
		q.sent++ // counted before the POST, so a receiver that has it sees it counted
		q.mu.Unlock()
		if err := q.post(*d); err != nil {
			q.log.Warn("fakedrone: webhook not delivered", "err", err)
		}
	}
}

// post sends one webhook with the sender's headers: X-Drone-Event, Content-Type, Digest
// (SHA-256 of the body, base64), Date (UTC, http.TimeFormat) and the Signature over date and
// digest.
func (q *hookQueue) post(d delivery) error {
	ctx, cancel := context.WithTimeout(q.ctx, hookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, q.endpoint, bytes.NewReader(d.body))
	if err != nil {
		return fmt.Errorf("webhook request: %w", err)
	}
	sum := sha256.Sum256(d.body)
	req.Header.Add("X-Drone-Event", d.event)
	req.Header.Add("Content-Type", "application/json")
	req.Header.Add("Digest", "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]))
	req.Header.Add("Date", time.Now().UTC().Format(http.TimeFormat))
	if err := signer.SignRequest("hmac-key", q.secret, req); err != nil {
		return fmt.Errorf("sign webhook: %w", err)
	}
	res, err := q.client.Do(req)
	if err != nil {
		return fmt.Errorf("post webhook to %s: %w", q.endpoint, err)
	}
	return res.Body.Close() // the sender ignores the status code too
}
