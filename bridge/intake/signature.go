package intake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Signature failures, logged as the reason of a 401 (never sent back).
var (
	errNoSignature       = errors.New("no signature header")
	errMalformedSig      = errors.New("signature is not hex HMAC-SHA256")
	errSignatureMismatch = errors.New("signature does not match the body")
)

// verifyGitHub checks X-Hub-Signature-256: "sha256=" and the hex HMAC-SHA256 of the raw body
// (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries). The legacy
// SHA-1 X-Hub-Signature is never accepted in its place.
func verifyGitHub(h http.Header, body, secret []byte) error {
	sig := h.Get("X-Hub-Signature-256")
	if sig == "" {
		return fmt.Errorf("X-Hub-Signature-256: %w", errNoSignature)
	}
	hexSig, ok := strings.CutPrefix(sig, "sha256=")
	if !ok {
		return fmt.Errorf("X-Hub-Signature-256: %w", errMalformedSig)
	}
	if err := checkMAC(hexSig, body, secret); err != nil {
		return fmt.Errorf("X-Hub-Signature-256: %w", err)
	}
	return nil
}

// verifyGitea checks the bare hex HMAC-SHA256 Gitea sends as X-Gitea-Signature and Forgejo also
// as X-Forgejo-Signature (services/webhook/deliver.go, addDefaultHeaders, in both projects). When
// the Forgejo header is present it alone decides: a wrong Forgejo signature is not rescued by a
// right Gitea one, so one forged header never stands in for the other.
func verifyGitea(h http.Header, body, secret []byte) error {
	name := "X-Gitea-Signature"
	if _, forgejo := h[http.CanonicalHeaderKey("X-Forgejo-Signature")]; forgejo {
		name = "X-Forgejo-Signature"
	}
	sig := h.Get(name)
	if sig == "" {
		return fmt.Errorf("%s: %w", name, errNoSignature)
	}
	if err := checkMAC(sig, body, secret); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// checkMAC compares hexSig with the HMAC-SHA256 of body in constant time (hmac.Equal).
func checkMAC(hexSig string, body, secret []byte) error {
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return errMalformedSig
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body) // a hash.Hash never returns an error
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errSignatureMismatch
	}
	return nil
}

// githubHeaders reads the event and delivery id of a GitHub delivery. Gitea and Forgejo send
// X-GitHub-Event too, so their own headers are looked for first (STYLE 11): a Gitea delivery on
// the GitHub route is refused, not read as GitHub's.
func githubHeaders(h http.Header) (kind, delivery string, err error) {
	for _, other := range []string{"X-Gitea-Event", "X-Forgejo-Event", "X-Gogs-Event"} {
		if h.Get(other) != "" {
			return "", "", fmt.Errorf("%s on the GitHub route: a Gitea/Forgejo delivery belongs on /hooks/gitea", other)
		}
	}
	return eventHeaders(h.Get("X-GitHub-Event"), "X-GitHub-Event", h.Get("X-GitHub-Delivery"), "X-GitHub-Delivery")
}

// giteaHeaders reads the event and delivery id of a Gitea or Forgejo delivery, Forgejo's headers
// first. X-GitHub-Event alone is not enough: Gitea and Forgejo always send their own.
func giteaHeaders(h http.Header) (kind, delivery string, err error) {
	return eventHeaders(preferForgejo(h, "Event"), "X-Gitea-Event", preferForgejo(h, "Delivery"), "X-Gitea-Delivery")
}

// preferForgejo is X-Forgejo-<suffix> when present, else X-Gitea-<suffix>.
func preferForgejo(h http.Header, suffix string) string {
	if v, ok := h[http.CanonicalHeaderKey("X-Forgejo-"+suffix)]; ok && len(v) > 0 {
		return v[0]
	}
	return h.Get("X-Gitea-" + suffix)
}

func eventHeaders(kind, kindName, delivery, deliveryName string) (string, string, error) {
	switch {
	case kind == "":
		return "", "", fmt.Errorf("no %s header", kindName)
	case delivery == "":
		return "", "", fmt.Errorf("no %s header", deliveryName)
	case !deliveryID.MatchString(delivery):
		return "", "", fmt.Errorf("%s is not a delivery id", deliveryName)
	}
	return kind, delivery, nil
}
