package intake

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/httpsignatures-go"
	"github.com/drone/drone-go/drone"
	"github.com/drone/drone-go/plugin/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/testkit/forgehook"
)

// droneSigner signs as Drone's webhook sender does: hmac-sha256 over the date and digest headers,
// key id "hmac-key" (https://github.com/harness/harness/blob/drone/plugin/webhook/webhook.go).
var droneSigner = httpsignatures.NewSigner(httpsignatures.AlgorithmHmacSha256, "date", "digest")

func buildPayload(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(webhook.Request{
		Event:  webhook.EventBuild,
		Action: webhook.ActionUpdated,
		Repo:   &drone.Repo{Slug: "coop-cloud/cc-ci"},
		Build:  &drone.Build{Number: 7, Status: drone.StatusPassing},
	})
	require.NoError(t, err)
	return b
}

// droneRequest is a Drone webhook POST of body for event, with Drone's headers, signed by signer
// with secret.
func droneRequest(t *testing.T, signer *httpsignatures.Signer, secret []byte, event string, body []byte) *http.Request {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/hooks/drone", bytes.NewReader(body))
	req.Header.Set("X-Drone-Event", event)
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	req.Header.Set("Digest", "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]))
	req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	require.NoError(t, signer.SignRequest("hmac-key", string(secret), req))
	return req
}

func TestDrone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		req         func(t *testing.T) *http.Request
		edit        func(*Config)
		sinkErr     error
		wantStatus  int
		wantOutcome string
		wantBuild   bool
		wantReason  string // the reason logged, for refusals
	}{
		{
			name: "a signed build event reaches the build sink and is answered 202",
			req: func(t *testing.T) *http.Request {
				return droneRequest(t, droneSigner, droneSecret, "build", buildPayload(t))
			},
			wantStatus: http.StatusAccepted, wantOutcome: OutcomeAccepted, wantBuild: true,
		},
		{
			name: "a build event signed with the wrong secret is refused 401",
			req: func(t *testing.T) *http.Request {
				return droneRequest(t, droneSigner, wrongSecret, "build", buildPayload(t))
			},
			wantStatus: http.StatusUnauthorized, wantOutcome: OutcomeBadSignature, wantReason: "signature does not match the body",
		},
		{
			name: "a body swapped under the original signature and digest is refused 401",
			req: func(t *testing.T) *http.Request {
				req := droneRequest(t, droneSigner, droneSecret, "build", buildPayload(t))
				forged := bytes.Replace(buildPayload(t), []byte(`"number":7`), []byte(`"number":8`), 1)
				req.Body = httpNoClose(forged)
				return req
			},
			wantStatus: http.StatusUnauthorized, wantOutcome: OutcomeBadSignature, wantReason: "body does not match the signed digest",
		},
		{
			name: "a swapped body with a matching new digest breaks the signature and is refused 401",
			req: func(t *testing.T) *http.Request {
				req := droneRequest(t, droneSigner, droneSecret, "build", buildPayload(t))
				forged := bytes.Replace(buildPayload(t), []byte(`"number":7`), []byte(`"number":8`), 1)
				sum := sha256.Sum256(forged)
				req.Header.Set("Digest", "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]))
				req.Body = httpNoClose(forged)
				return req
			},
			wantStatus: http.StatusUnauthorized, wantOutcome: OutcomeBadSignature, wantReason: "signature does not match the body",
		},
		{
			name: "a signature that does not cover the digest is refused 401",
			req: func(t *testing.T) *http.Request {
				return droneRequest(t, httpsignatures.NewSigner(httpsignatures.AlgorithmHmacSha256, "date"), droneSecret, "build", buildPayload(t))
			},
			wantStatus: http.StatusUnauthorized, wantOutcome: OutcomeBadSignature, wantReason: "signature does not cover the digest header",
		},
		{
			name: "an hmac-sha1 signature is refused 401",
			req: func(t *testing.T) *http.Request {
				return droneRequest(t, httpsignatures.NewSigner(httpsignatures.AlgorithmHmacSha1, "date", "digest"), droneSecret, "build", buildPayload(t))
			},
			wantStatus: http.StatusUnauthorized, wantOutcome: OutcomeBadSignature, wantReason: "signature algorithm is not hmac-sha256",
		},
		{
			name: "an unsigned build event is refused 401",
			req: func(t *testing.T) *http.Request {
				req := droneRequest(t, droneSigner, droneSecret, "build", buildPayload(t))
				req.Header.Del("Signature")
				return req
			},
			wantStatus: http.StatusUnauthorized, wantOutcome: OutcomeBadSignature, wantReason: "signature header: No Signature header found in request",
		},
		{
			name: "a repo event is ignored",
			req: func(t *testing.T) *http.Request {
				return droneRequest(t, droneSigner, droneSecret, "repo", []byte(`{"event":"repo"}`))
			},
			wantStatus: http.StatusOK, wantOutcome: OutcomeIgnored,
		},
		{
			name: "a signed request without X-Drone-Event is refused 400",
			req: func(t *testing.T) *http.Request {
				req := droneRequest(t, droneSigner, droneSecret, "build", buildPayload(t))
				req.Header.Del("X-Drone-Event")
				return req
			},
			wantStatus: http.StatusBadRequest, wantOutcome: OutcomeBadRequest, wantReason: "no X-Drone-Event header",
		},
		{
			name: "a signed build event that is not JSON is refused 400",
			req: func(t *testing.T) *http.Request {
				return droneRequest(t, droneSigner, droneSecret, "build", []byte(`{"build":`))
			},
			wantStatus: http.StatusBadRequest, wantOutcome: OutcomeBadRequest,
		},
		{
			name: "a signed build event without a build is refused 400",
			req: func(t *testing.T) *http.Request {
				return droneRequest(t, droneSigner, droneSecret, "build", []byte(`{"event":"build"}`))
			},
			wantStatus: http.StatusBadRequest, wantOutcome: OutcomeBadRequest, wantReason: "build event without repo or build",
		},
		{
			name: "a build sink error is answered 503",
			req: func(t *testing.T) *http.Request {
				return droneRequest(t, droneSigner, droneSecret, "build", buildPayload(t))
			},
			sinkErr:    errStore,
			wantStatus: http.StatusServiceUnavailable, wantOutcome: OutcomeStoreError, wantBuild: true,
		},
		{
			name: "a GET is answered 405",
			req: func(t *testing.T) *http.Request {
				req := droneRequest(t, droneSigner, droneSecret, "build", buildPayload(t))
				req.Method = http.MethodGet
				return req
			},
			wantStatus: http.StatusMethodNotAllowed, wantOutcome: OutcomeBadRequest,
		},
		{
			name: "a body over the cap is refused 413",
			req: func(t *testing.T) *http.Request {
				return droneRequest(t, droneSigner, droneSecret, "build", buildPayload(t))
			},
			edit:       func(c *Config) { c.MaxBody = 16 },
			wantStatus: http.StatusRequestEntityTooLarge, wantOutcome: OutcomeTooLarge,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hs := newHarness(t, tc.edit)
			hs.sink.err = tc.sinkErr
			rec := hs.serve(hs.h.Drone, tc.req(t))
			assert.Equal(t, tc.wantStatus, rec.Code)
			assert.Equal(t, []string{"drone " + tc.wantOutcome}, hs.outcomesSeen())
			if tc.wantBuild {
				require.Len(t, hs.sink.builds, 1)
				assert.Equal(t, int64(7), hs.sink.builds[0].Build.Number)
				assert.Equal(t, "coop-cloud/cc-ci", hs.sink.builds[0].Repo.Slug)
			} else {
				assert.Empty(t, hs.sink.builds, "the build sink must get nothing")
			}
			lines := hs.logs.lines(t)
			require.Len(t, lines, 1, "one log line per delivery")
			assert.Equal(t, "drone", lines[0]["forge"])
			assert.Equal(t, float64(tc.wantStatus), lines[0]["status"])
			if tc.wantReason != "" {
				assert.Equal(t, tc.wantReason, lines[0]["reason"])
			}
			assert.NotContains(t, rec.Body.String(), "coop-cloud/cc-ci", "nothing received is echoed")
		})
	}
}

// httpNoClose wraps a body for a request built by hand.
func httpNoClose(b []byte) *readCloser { return &readCloser{Reader: bytes.NewReader(b)} }

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func TestUnconfiguredRoutesAnswer404(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, func(c *Config) { c.GitHubSecret, c.DroneSecret = nil, nil })
	gh := hs.serve(hs.h.GitHub, send(ghComment(forgehook.CommentParams{Body: "!testme"})))
	assert.Equal(t, http.StatusNotFound, gh.Code)
	dr := hs.serve(hs.h.Drone, droneRequest(t, droneSigner, droneSecret, "build", buildPayload(t)))
	assert.Equal(t, http.StatusNotFound, dr.Code)
	assert.Empty(t, hs.sink.got())
	assert.Empty(t, hs.sink.builds)
	assert.Empty(t, hs.outcomesSeen(), "a route that does not exist reports no delivery outcome")
	hs.assertLogged(t, "WARN", "webhook for a route with no secret configured", map[string]any{"forge": "github", "delivery": "gh-1"})

	gt := hs.serve(hs.h.Gitea, send(gtComment(forgehook.CommentParams{Body: "!testme"})))
	assert.Equal(t, http.StatusAccepted, gt.Code, "the configured forge is still served")
}

func TestNew(t *testing.T) {
	t.Parallel()
	enrolled := func(string, string) bool { return true }
	sink := &recordingSink{}
	tests := []struct {
		name    string
		cfg     Config
		sink    Sink
		builds  BuildSink
		wantErr string
	}{
		{name: "no webhook secret at all is refused", cfg: Config{Enrolled: enrolled, DroneSecret: droneSecret}, sink: sink, builds: sink, wantErr: "no webhook secret"},
		{name: "empty secrets are no secrets", cfg: Config{GitHubSecret: []byte{}, GiteaSecret: []byte(""), Enrolled: enrolled}, sink: sink, wantErr: "no webhook secret"},
		{name: "no sink is refused", cfg: Config{GitHubSecret: githubSecret, Enrolled: enrolled}, wantErr: "no sink"},
		{name: "a Drone secret without build sink is refused", cfg: Config{GitHubSecret: githubSecret, DroneSecret: droneSecret, Enrolled: enrolled}, sink: sink, wantErr: "no build sink"},
		{name: "no enrolment is refused", cfg: Config{GiteaSecret: giteaSecret}, sink: sink, wantErr: "no enrolment"},
		{name: "a negative body cap is refused", cfg: Config{GiteaSecret: giteaSecret, Enrolled: enrolled, MaxBody: -1}, sink: sink, wantErr: "negative MaxBody"},
		{name: "one forge secret, a sink and an enrolment are enough", cfg: Config{GiteaSecret: giteaSecret, Enrolled: enrolled}, sink: sink},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := New(tc.cfg, tc.sink, tc.builds)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.Nil(t, h)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, int64(DefaultMaxBody), h.cfg.MaxBody)
		})
	}
}

func TestIgnoredErrorMatchesErrIgnored(t *testing.T) {
	t.Parallel()
	err := ignored("no command")
	assert.ErrorIs(t, err, ErrIgnored)
	assert.Equal(t, "ignored: no command", err.Error())
	assert.NotErrorIs(t, badPayload("x"), ErrIgnored)
	assert.True(t, strings.HasPrefix(badPayload("x").Error(), ErrBadPayload.Error()))
}
