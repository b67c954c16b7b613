// Package intake is the bridge's front door: the HTTP handlers that receive GitHub, Gitea/Forgejo
// and Drone webhooks. Before anything else each handler caps the body, verifies the signature over
// the raw bytes in constant time and checks the event headers; only then does it parse, convert
// the delivery to one event.Event and hand it to a durable Sink. It answers 202 only once the Sink
// holds the event, so a forge's delivery is either safely queued or redelivered.
//
// Status codes: 404 a route whose secret is not configured, 405 not POST, 413 body over the cap,
// 401 missing or wrong signature, 400 missing headers or invalid JSON, 200 ping or ignored,
// 202 accepted, 503 the Sink could not store the event (the forge may redeliver).
package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/drone/drone-go/plugin/webhook"

	"coopcloud.tech/cc-ci/bridge/event"
)

// Sink durably enqueues an accepted event. The handler answers 202 only after Accept returns
// nil; an error answers 503.
type Sink interface {
	Accept(ctx context.Context, ev event.Event) error
}

// BuildSink takes a verified Drone build webhook (a build created, updated or finished).
type BuildSink interface {
	BuildEvent(ctx context.Context, req *webhook.Request) error
}

// DefaultMaxBody is the body cap when Config.MaxBody is 0: 1 MiB. A comment delivery carries the
// comment and the PR description, each at most 65,536 characters on GitHub, plus a few KiB of
// repo and user objects, so real `!testme` deliveries are far below it; anything larger is
// refused with 413 before it costs memory, and a comment it held is still found by the poll.
const DefaultMaxBody = 1 << 20

// Drone is the forge label the Drone route reports its outcomes under.
const Drone = "drone"

// Outcomes of a delivery, as passed to Config.Outcome (the label of the deliveries metric).
const (
	OutcomeAccepted     = "accepted"
	OutcomeIgnored      = "ignored"
	OutcomeBadSignature = "bad_signature"
	OutcomeBadRequest   = "bad_request"
	OutcomeTooLarge     = "too_large"
	OutcomeStoreError   = "store_error"
)

// Config configures the handlers. A forge whose secret is empty is not served: its route answers
// 404. At least one of GitHubSecret and GiteaSecret must be set: the bridge refuses to start
// without a webhook secret rather than accept unsigned deliveries.
type Config struct {
	GitHubSecret []byte // HMAC key of the GitHub webhook
	GiteaSecret  []byte // HMAC key of the Gitea/Forgejo webhook
	DroneSecret  []byte // key of Drone's signed build webhook (DRONE_WEBHOOK_SECRET)
	// MaxBody caps a request body in bytes; 0 means DefaultMaxBody.
	MaxBody int64
	// Bots maps a forge (event.GitHub, event.Gitea) to the bridge's own login there, whose
	// comments are never commands.
	Bots map[string]string
	// Enrolled reports whether a forge repo ("owner/name") is enrolled (enroll.Enrolment.Enrolled).
	Enrolled func(forge, repo string) bool
	// Log receives one line per delivery; nil discards.
	Log *slog.Logger
	// Outcome is called once per delivery with the forge (or Drone) and one of the Outcome
	// constants, for the deliveries metric; nil does nothing.
	Outcome func(forge, outcome string)
	// Now stamps event.Event.Received; nil is time.Now.
	Now func() time.Time
}

// Handlers holds the webhook routes; its methods are http.HandlerFuncs.
type Handlers struct {
	cfg    Config
	sink   Sink
	builds BuildSink
	log    *slog.Logger
}

// New checks cfg and returns the handlers. builds may be nil only when cfg.DroneSecret is empty.
func New(cfg Config, sink Sink, builds BuildSink) (*Handlers, error) {
	switch {
	case len(cfg.GitHubSecret) == 0 && len(cfg.GiteaSecret) == 0:
		return nil, errors.New("intake: no webhook secret for GitHub or Gitea: refusing to accept unsigned deliveries")
	case sink == nil:
		return nil, errors.New("intake: no sink")
	case len(cfg.DroneSecret) > 0 && builds == nil:
		return nil, errors.New("intake: a Drone webhook secret but no build sink")
	case cfg.Enrolled == nil:
		return nil, errors.New("intake: no enrolment (Config.Enrolled)")
	case cfg.MaxBody < 0:
		return nil, fmt.Errorf("intake: negative MaxBody %d", cfg.MaxBody)
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Outcome == nil {
		cfg.Outcome = func(string, string) {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handlers{cfg: cfg, sink: sink, builds: builds, log: cfg.Log}, nil
}

// ErrIgnored is matched (errors.Is) by every IgnoredError: a well-formed, authentic delivery the
// bridge does not act on. The HTTP layer answers it 200.
var ErrIgnored = errors.New("ignored")

// IgnoredError is a delivery ignored for Reason ("comment edited", "no command", ...). Reasons
// are fixed texts, never taken from the payload, since they go back to the sender.
type IgnoredError struct {
	Reason string
}

func (e *IgnoredError) Error() string { return "ignored: " + e.Reason }

// Is makes every IgnoredError match ErrIgnored.
func (e *IgnoredError) Is(target error) bool { return target == ErrIgnored }

func ignored(reason string) error { return &IgnoredError{Reason: reason} }

// ErrBadPayload is an authentic delivery whose JSON lacks what its event needs (a repo, a PR
// number, a comment id): answered 400, since redelivering it cannot help.
var ErrBadPayload = errors.New("bad payload")

func badPayload(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadPayload, fmt.Sprintf(format, args...))
}
