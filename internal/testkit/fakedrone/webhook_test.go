package fakedrone_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/99designs/httpsignatures-go"
	"github.com/drone/drone-go/drone"
	"github.com/drone/drone-go/plugin/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
)

const hookSecret = "xVKAGlWQiY3sOp8JVc0nbuNId3PNCgWh"

// hook is one verified webhook the receiver got.
type hook struct {
	req webhook.Request
	raw map[string]json.RawMessage
}

// receiver is a webhook endpoint that verifies each delivery the way a bridge must (the HTTP
// signature with httpsignatures-go, as drone-go's plugin/webhook handler does, plus the Digest
// over the body) and hands verified ones to the test; a bad one fails the test.
func receiver(t *testing.T) (string, <-chan hook) {
	t.Helper()
	got := make(chan hook, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := verify(r); err != nil {
			t.Errorf("webhook rejected: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var h hook
		if err := json.Unmarshal(body, &h.req); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		_ = json.Unmarshal(body, &h.raw)
		w.WriteHeader(http.StatusNoContent)
		got <- h
	}))
	t.Cleanup(srv.Close)
	return srv.URL, got
}

// verify checks a delivery: event header, signature (keyId, algorithm, signed headers, value),
// and that the Digest header is the SHA-256 of the body. It restores the body for the caller.
func verify(r *http.Request) error {
	if ev := r.Header.Get("X-Drone-Event"); ev != "build" {
		return fmt.Errorf("X-Drone-Event %q", ev)
	}
	sig, err := httpsignatures.FromRequest(r)
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	switch {
	case sig.KeyID != "hmac-key":
		return fmt.Errorf("keyId %q", sig.KeyID)
	case sig.Algorithm != httpsignatures.AlgorithmHmacSha256:
		return fmt.Errorf("algorithm is not hmac-sha256")
	case sig.Headers.String() != "date digest":
		return fmt.Errorf("signed headers %q", sig.Headers.String())
	case sig.IsValid("not-the-secret", r):
		return fmt.Errorf("signature valid for a wrong secret")
	case !sig.IsValid(hookSecret, r):
		return fmt.Errorf("signature invalid")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	if want := "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:]); r.Header.Get("Digest") != want {
		return fmt.Errorf("digest %q, body hashes to %q", r.Header.Get("Digest"), want)
	}
	if _, err := time.Parse(http.TimeFormat, r.Header.Get("Date")); err != nil {
		return fmt.Errorf("date: %w", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return nil
}

// next returns the next webhook, failing the test when none comes.
func next(t *testing.T, hooks <-chan hook) hook {
	t.Helper()
	select {
	case h := <-hooks:
		return h
	case <-deadline(t).Done():
		require.FailNow(t, "no webhook arrived")
		return hook{}
	}
}

func TestWebhooksAreSignedLikeDroneAndArriveInOrder(t *testing.T) {
	t.Parallel()
	endpoint, hooks := receiver(t)
	s := start(t, fakedrone.Config{WebhookEndpoint: endpoint, WebhookSecret: hookSecret})
	b := createAndWait(t, s, map[string]string{"CCCI_PR": "7"})

	created := next(t, hooks)
	assert.Equal(t, "build", created.req.Event)
	assert.Equal(t, "created", created.req.Action)
	assert.Equal(t, b.Number, created.req.Build.Number)
	assert.Equal(t, drone.StatusPending, created.req.Build.Status)
	assert.Equal(t, "7", created.req.Build.Params["CCCI_PR"])
	assert.Equal(t, owner+"/"+name, created.req.Repo.Slug)
	require.NotNil(t, created.req.User, "the triggerer sends the repo owner")
	require.NotNil(t, created.req.System)
	assert.Equal(t, s.URL, created.req.System.Link)

	updated := next(t, hooks)
	assert.Equal(t, "updated", updated.req.Action, "no webhook for running: Drone's setup sends none")
	assert.Equal(t, drone.StatusPassing, updated.req.Build.Status)
	assert.Equal(t, b.Number, updated.req.Repo.Build.Number, "teardown sets repo.build")
	require.Len(t, updated.req.Build.Stages, 1)
	require.Len(t, updated.req.Build.Stages[0].Steps, 1)

	completed := next(t, hooks)
	assert.Equal(t, "completed", completed.req.Action)
	assert.Equal(t, drone.StatusPassing, completed.req.Build.Status)
	sent, dropped := s.WebhookCounts()
	assert.Equal(t, 3, sent)
	assert.Zero(t, dropped)
}

func TestACancelledBuildSendsOneUpdatedWebhook(t *testing.T) {
	t.Parallel()
	endpoint, hooks := receiver(t)
	started := make(chan struct{}, 1)
	s := start(t, fakedrone.Config{WebhookEndpoint: endpoint, WebhookSecret: hookSecret,
		Runner: blockingRunner(started)})
	b, err := s.Client().BuildCreate(owner, name, sha, "", nil)
	require.NoError(t, err)
	<-started
	require.NoError(t, s.Client().BuildCancel(owner, name, int(b.Number)))
	_, err = s.WaitFinished(deadline(t), owner, name, b.Number)
	require.NoError(t, err)
	// A second build proves nothing else was queued for the first: delivery is in order.
	second, err := s.Client().BuildCreate(owner, name, sha, "", nil)
	require.NoError(t, err)

	assert.Equal(t, "created", next(t, hooks).req.Action)
	killed := next(t, hooks)
	assert.Equal(t, "updated", killed.req.Action)
	assert.Equal(t, drone.StatusKilled, killed.req.Build.Status)
	assert.NotContains(t, string(killed.raw["repo"]), `"build"`, "cancel does not set repo.build")
	then := next(t, hooks)
	assert.Equal(t, "created", then.req.Action)
	assert.Equal(t, second.Number, then.req.Build.Number)
}

func TestDroppedWebhooksAreLostAndEventFiltersApply(t *testing.T) {
	t.Parallel()
	endpoint, hooks := receiver(t)
	s := start(t, fakedrone.Config{WebhookEndpoint: endpoint, WebhookSecret: hookSecret,
		WebhookEvents: []string{"build:created", "build:updated"}})
	s.DropWebhooks(true)
	first := createAndWait(t, s, nil)
	s.DropWebhooks(false)
	second := createAndWait(t, s, nil)

	h := next(t, hooks)
	assert.Equal(t, "created", h.req.Action)
	assert.Equal(t, second.Number, h.req.Build.Number, "build %d's webhooks were lost", first.Number)
	h = next(t, hooks)
	assert.Equal(t, "updated", h.req.Action)
	assert.Equal(t, second.Number, h.req.Build.Number)
	// The completed webhook is filtered out: the next one is the third build's.
	third := createAndWait(t, s, nil)
	h = next(t, hooks)
	assert.Equal(t, "created", h.req.Action)
	assert.Equal(t, third.Number, h.req.Build.Number)
	_, dropped := s.WebhookCounts()
	assert.Equal(t, 2, dropped, "created and updated of the first build; its completed was filtered")
}
