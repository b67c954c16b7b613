package intake

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/99designs/httpsignatures-go"
	"github.com/drone/drone-go/plugin/webhook"
)

// Drone serves POST /hooks/drone: Drone's global webhook (DRONE_WEBHOOK_ENDPOINT), signed per
// the HTTP Signatures draft. Drone's sender sets X-Drone-Event, Date and
// Digest "SHA-256=<base64>" and signs the date and digest headers with hmac-sha256 under key id
// "hmac-key" (drone plugin/webhook/webhook.go:
// https://github.com/harness/harness/blob/drone/plugin/webhook/webhook.go). Build events go to
// the BuildSink; the others (repo, user) are ignored.
func (h *Handlers) Drone(w http.ResponseWriter, r *http.Request) {
	x, body := h.begin(w, r, Drone, h.cfg.DroneSecret, "")
	if x == nil {
		return
	}
	if err := verifyDrone(r, body, h.cfg.DroneSecret); err != nil {
		x.finish(http.StatusUnauthorized, OutcomeBadSignature, "bad signature", slog.LevelWarn, "drone webhook signature refused", "reason", err.Error())
		return
	}
	kind := r.Header.Get("X-Drone-Event")
	if kind == "" {
		x.finish(http.StatusBadRequest, OutcomeBadRequest, "bad event headers", slog.LevelWarn, "drone webhook headers refused", "reason", "no X-Drone-Event header")
		return
	}
	if kind != webhook.EventBuild {
		x.finish(http.StatusOK, OutcomeIgnored, "ignored: event not handled", slog.LevelDebug, "drone webhook ignored", "event", kind)
		return
	}
	var req webhook.Request
	if err := json.Unmarshal(body, &req); err != nil {
		x.finish(http.StatusBadRequest, OutcomeBadRequest, "bad payload", slog.LevelWarn, "drone webhook payload refused", "reason", err.Error())
		return
	}
	if req.Repo == nil || req.Build == nil {
		x.finish(http.StatusBadRequest, OutcomeBadRequest, "bad payload", slog.LevelWarn, "drone webhook payload refused", "reason", "build event without repo or build")
		return
	}
	x.log = x.log.With("drone_repo", req.Repo.Slug, "build", req.Build.Number, "action", req.Action, "build_status", req.Build.Status)
	if err := h.builds.BuildEvent(r.Context(), &req); err != nil {
		x.finish(http.StatusServiceUnavailable, OutcomeStoreError, "cannot take the build event, retry later", slog.LevelError, "drone webhook not taken", "err", err)
		return
	}
	x.finish(http.StatusAccepted, OutcomeAccepted, "accepted", slog.LevelInfo, "drone webhook accepted")
}

// verifyDrone checks the HTTP signature and then the body against the signed digest.
//
// httpsignatures-go's IsValid only recomputes the HMAC over the headers the signature lists and
// requires "date" among them; it never reads the body, never checks the Digest header against it
// and never checks the date's age (signature.go, Signature.IsValid and HeaderList.signingString,
// at the version in go.mod). So the signature must also cover "digest", and the digest must equal
// the SHA-256 of the raw body, compared in constant time: otherwise anyone holding one signed
// request could replay its headers with a body of their own.
func verifyDrone(r *http.Request, body, secret []byte) error {
	sig, err := httpsignatures.FromRequest(r)
	if err != nil {
		return fmt.Errorf("signature header: %w", err)
	}
	if sig.Algorithm != httpsignatures.AlgorithmHmacSha256 {
		return errors.New("signature algorithm is not hmac-sha256")
	}
	for _, need := range []string{"date", "digest"} {
		if !slices.Contains(sig.Headers, need) {
			return fmt.Errorf("signature does not cover the %s header", need)
		}
	}
	if !sig.IsValid(string(secret), r) {
		return errSignatureMismatch
	}
	digest, ok := strings.CutPrefix(r.Header.Get("Digest"), "SHA-256=")
	if !ok {
		return errors.New("digest header is not SHA-256")
	}
	want, err := base64.StdEncoding.DecodeString(digest)
	if err != nil {
		return errors.New("digest header is not base64")
	}
	got := sha256.Sum256(body)
	if subtle.ConstantTimeCompare(got[:], want) != 1 {
		return errors.New("body does not match the signed digest")
	}
	return nil
}
