package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drone/drone-go/plugin/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/bridge/enroll"
	"coopcloud.tech/cc-ci/bridge/event"
	"coopcloud.tech/cc-ci/internal/testkit/forgehook"
)

var (
	githubSecret = []byte("github-webhook-secret")
	giteaSecret  = []byte("gitea-webhook-secret")
	droneSecret  = []byte("drone-webhook-secret")
	wrongSecret  = []byte("not-the-secret")
	fixedNow     = time.Date(2024, 5, 1, 12, 0, 1, 0, time.UTC)
	errStore     = errors.New("bbolt: disk full")
)

// enrolment is a real enrolment file: intake asks the same object the bridge will.
const enrolment = `github:
  - repo: coop-cloud/sample
    recipe: sample
gitea:
  - repo: coop-cloud/sample
    recipe: sample
`

// recordingSink records every Accept and BuildEvent call, and fails them with err when set.
type recordingSink struct {
	mu     sync.Mutex
	err    error
	events []event.Event
	builds []*webhook.Request
}

func (s *recordingSink) Accept(_ context.Context, ev event.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, ev)
	return s.err
}

func (s *recordingSink) BuildEvent(_ context.Context, req *webhook.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.builds = append(s.builds, req)
	return s.err
}

func (s *recordingSink) got() []event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event.Event(nil), s.events...)
}

// logBuffer collects JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		out = append(out, m)
	}
	return out
}

// harness is one set of handlers with everything they were given, for one test.
type harness struct {
	h        *Handlers
	sink     *recordingSink
	logs     *logBuffer
	mu       sync.Mutex
	outcomes []string // "forge outcome"
}

// newHarness builds handlers with all three secrets, the enrolment above and bots "cc-ci-bot"
// (GitHub) and "cc-ci" (Gitea); edit adjusts the config first when not nil.
func newHarness(t *testing.T, edit func(*Config)) *harness {
	t.Helper()
	e, err := enroll.Parse("enrol.yaml", []byte(enrolment))
	require.NoError(t, err)
	hs := &harness{sink: &recordingSink{}, logs: &logBuffer{}}
	cfg := Config{
		GitHubSecret: githubSecret,
		GiteaSecret:  giteaSecret,
		DroneSecret:  droneSecret,
		Bots:         map[string]string{event.GitHub: "cc-ci-bot", event.Gitea: "cc-ci"},
		Enrolled:     e.Enrolled,
		Log:          slog.New(slog.NewJSONHandler(hs.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Outcome: func(forge, outcome string) {
			hs.mu.Lock()
			defer hs.mu.Unlock()
			hs.outcomes = append(hs.outcomes, forge+" "+outcome)
		},
		Now: func() time.Time { return fixedNow },
	}
	if edit != nil {
		edit(&cfg)
	}
	hs.h, err = New(cfg, hs.sink, hs.sink)
	require.NoError(t, err)
	return hs
}

// send builds the request for an already signed (or deliberately unsigned) delivery.
func send(d forgehook.Delivery) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/hooks/"+d.Forge, bytes.NewReader(d.Body))
	req.Header = d.Headers.Clone()
	return req
}

// serve runs req through route and returns the response.
func (hs *harness) serve(route http.HandlerFunc, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	route(rec, req)
	return rec
}

// assertLogged checks that a line with message msg was logged at level, carrying attrs, and that
// every line names the forge.
func (hs *harness) assertLogged(t *testing.T, level, msg string, attrs map[string]any) {
	t.Helper()
	lines := hs.logs.lines(t)
	require.NotEmpty(t, lines, "no log line")
	for _, l := range lines {
		assert.Contains(t, l, "forge", "every line names the forge: %v", l)
	}
	for _, l := range lines {
		if l["msg"] != msg {
			continue
		}
		assert.Equal(t, level, l["level"], "level of %q", msg)
		for k, v := range attrs {
			assert.Equal(t, v, l[k], "attr %s of %q", k, msg)
		}
		return
	}
	t.Errorf("no log line %q in %v", msg, lines)
}

func (hs *harness) outcomesSeen() []string {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return append([]string(nil), hs.outcomes...)
}

// forgeCase is one delivery through a forge route and everything it must cause.
type forgeCase struct {
	name        string
	delivery    forgehook.Delivery  // already signed, or not, as the case needs
	mutate      func(*http.Request) // changes to the request after signing
	edit        func(*Config)       // changes to the handlers' config
	sinkErr     error               // the sink's answer
	wantStatus  int                 // the HTTP status
	wantBody    string              // the response body's first line, exactly
	wantOutcome string              // the outcome reported for the metric
	wantEvent   *event.Event        // what the sink got; nil: nothing
	wantLog     string              // the message of the delivery's log line
	wantLevel   string              // its level
	wantAttrs   map[string]any      // attrs it carries
}

func runForgeCases(t *testing.T, forge string, cases []forgeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hs := newHarness(t, tc.edit)
			hs.sink.err = tc.sinkErr
			req := send(tc.delivery)
			if tc.mutate != nil {
				tc.mutate(req)
			}
			route := hs.h.GitHub
			if forge == event.Gitea {
				route = hs.h.Gitea
			}
			rec := hs.serve(route, req)

			assert.Equal(t, tc.wantStatus, rec.Code)
			assert.Equal(t, tc.wantBody+"\n", rec.Body.String())
			assert.Equal(t, []string{forge + " " + tc.wantOutcome}, hs.outcomesSeen())
			if tc.wantEvent == nil {
				assert.Empty(t, hs.sink.got(), "the sink must get nothing")
			} else {
				assert.Equal(t, []event.Event{*tc.wantEvent}, hs.sink.got())
			}
			hs.assertLogged(t, tc.wantLevel, tc.wantLog, tc.wantAttrs)
		})
	}
}

// withoutHeader deletes a header from the request.
func withoutHeader(names ...string) func(*http.Request) {
	return func(r *http.Request) {
		for _, n := range names {
			r.Header.Del(n)
		}
	}
}

// withHeader sets a header on the request.
func withHeader(name, value string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

// signedBody is a delivery of forge's headers with an arbitrary body, signed with secret.
func signedBody(base forgehook.Delivery, body string, secret []byte) forgehook.Delivery {
	base.Body = []byte(body)
	return base.Sign(secret)
}
