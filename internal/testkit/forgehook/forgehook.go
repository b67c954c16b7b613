// Package forgehook builds signed webhook deliveries as GitHub, Gitea and Forgejo send them: the
// payload field sets of each forge's documented webhook examples and the headers each forge's
// sender sets. It is test code, shared by the bridge's intake tests, its end-to-end test and its
// benchmark, so all three post exactly what a forge would.
//
// Sources (the payloads are written here from these, not copied):
//   - GitHub: "Webhook events and payloads" (issue_comment, pull_request, ping) and "Validating
//     webhook deliveries", https://docs.github.com/en/webhooks/webhook-events-and-payloads and
//     https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
//   - Gitea: "Webhooks", https://docs.gitea.com/usage/repository/webhooks; the payload structs in
//     https://github.com/go-gitea/gitea/blob/main/modules/structs/hook.go (IssueCommentPayload,
//     PullRequestPayload), issue.go, pull.go, repo.go, user.go; the headers in
//     https://github.com/go-gitea/gitea/blob/main/services/webhook/deliver.go (addDefaultHeaders)
//   - Forgejo: the same sender plus X-Forgejo-* headers,
//     https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/webhook/deliver.go
package forgehook

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // GitHub and Gitea still send the legacy SHA-1 signature header
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"hash/fnv"
	"net/http"
	"strings"
	"time"
)

// Forge names, the same words as the bridge's event.GitHub and event.Gitea.
const (
	GitHub = "github"
	Gitea  = "gitea" // Gitea and Forgejo
)

// Delivery is one webhook delivery: what a forge POSTs.
type Delivery struct {
	Forge   string      // GitHub or Gitea
	Forgejo bool        // a Forgejo delivery: X-Forgejo-* headers beside Gitea's
	Event   string      // the event header's value: "issue_comment", "pull_request", "ping"
	ID      string      // the delivery GUID
	Headers http.Header // every header the forge sends; signature headers once Sign is called
	Body    []byte
}

// Sign returns a copy of d carrying the signature headers its forge computes over Body with
// secret: GitHub sends X-Hub-Signature-256 "sha256=<hex>" and the legacy X-Hub-Signature
// "sha1=<hex>"; Gitea sends the bare hex HMAC-SHA256 as X-Gitea-Signature and X-Gogs-Signature
// plus both X-Hub-Signature headers, and Forgejo adds X-Forgejo-Signature (deliver.go above).
// An empty secret yields empty signature headers, as Gitea sends them for a hook without secret.
// d itself is not changed, so a test can sign one delivery with several secrets.
func (d Delivery) Sign(secret []byte) Delivery {
	var sig1, sig256 string
	if len(secret) > 0 {
		sig1 = hexMAC(sha1.New, secret, d.Body)
		sig256 = hexMAC(sha256.New, secret, d.Body)
	}
	out := d
	out.Headers = d.Headers.Clone()
	if out.Headers == nil {
		out.Headers = http.Header{}
	}
	out.Headers.Set("X-Hub-Signature", "sha1="+sig1)
	out.Headers.Set("X-Hub-Signature-256", "sha256="+sig256)
	if d.Forge == Gitea {
		out.Headers.Set("X-Gitea-Signature", sig256)
		out.Headers.Set("X-Gogs-Signature", sig256)
		if d.Forgejo {
			out.Headers.Set("X-Forgejo-Signature", sig256)
		}
	}
	return out
}

// Request returns the POST of d, signed with secret, to url, ready for an http.Client (or a
// handler's ServeHTTP). It panics on an unparsable url: it is a test helper and the url is the
// test's own.
func (d Delivery) Request(url string, secret []byte) *http.Request {
	s := d.Sign(secret)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(s.Body))
	if err != nil {
		panic(fmt.Sprintf("forgehook: request to %q: %v", url, err))
	}
	req.Header = s.Headers.Clone()
	return req
}

func hexMAC(h func() hash.Hash, secret, body []byte) string {
	m := hmac.New(h, secret)
	m.Write(body) // a hash.Hash never returns an error
	return hex.EncodeToString(m.Sum(nil))
}

// field and object build JSON objects that keep their keys in the order the forge writes them,
// so a delivery reads like the documented example.
type field struct {
	key string
	val any
}

type object []field

// MarshalJSON writes o in key order, without HTML escaping (the caller's encoder decides that).
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := encodeTo(&b, f.key, false); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := encodeTo(&b, f.val, false); err != nil {
			return nil, fmt.Errorf("field %s: %w", f.key, err)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func encodeTo(b *bytes.Buffer, v any, escapeHTML bool) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode ends with a newline
	return nil
}

// githubJSON is GitHub's body encoding: compact, with <, > and & as themselves.
func githubJSON(o object) []byte {
	var b bytes.Buffer
	if err := encodeTo(&b, o, false); err != nil {
		panic("forgehook: encode GitHub payload: " + err.Error()) // only plain values go in
	}
	return b.Bytes()
}

// giteaJSON is Gitea's body encoding: JSONPayload is json.MarshalIndent(p, "", "  ") with a
// standard-library-compatible encoder, which escapes <, > and & (structs/hook.go above).
func giteaJSON(o object) []byte {
	b, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		panic("forgehook: encode Gitea payload: " + err.Error()) // only plain values go in
	}
	return b
}

// GUID returns a random version-4 UUID, the form of GitHub's and Gitea's delivery ids.
func GUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails (Go 1.24+)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// id is a stable positive id for a name, so the same user or repo has the same id in every
// delivery of a test.
func id(name string) int64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name)) // a hash.Hash never returns an error
	return int64(h.Sum32()&0x7fffffff) + 1
}

// SHA returns a stable 40-hex commit id for a seed, for tests that need a head that is not "".
func SHA(seed string) string {
	sum := sha1.Sum([]byte(seed)) //nolint:gosec // a made-up commit id, not a security use
	return hex.EncodeToString(sum[:])
}

// split returns a repo's owner and name ("owner/name").
func split(repo string) (owner, name string) {
	owner, name, _ = strings.Cut(repo, "/")
	return owner, name
}

// stamp is the forges' timestamp form.
func stamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
