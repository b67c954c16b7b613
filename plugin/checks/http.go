package checks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/internal/results"
)

// HTTPCheck is one request a maintainer declares, sent to the live app through the front door
// with the app's domain as the Host, and what its answer must be.
type HTTPCheck struct {
	Name    string
	Method  string // default GET
	Path    string // must start with "/"
	Headers map[string]string
	Body    string
	// Status lists the accepted statuses (default 200). Redirects are never followed: list 302
	// to accept one.
	Status []int
	// ExpectText must appear in the body (optional); NotText must not (optional).
	ExpectText string
	NotText    string
}

// maxBody caps how much of an answer is read: the checks look for text on a page, not in a
// download.
const maxBody = 1 << 20

// defaultTimeout bounds a check when no client is given.
const defaultTimeout = 30 * time.Second

// excerptLen caps the body excerpt in a failing check's detail.
const excerptLen = 200

// ValidateHTTP checks c statically, for the overlay loader: the name set, the method an HTTP
// token, the path a path on the app, headers well-formed, statuses real HTTP statuses. The error
// names the field and says how to fix it.
func ValidateHTTP(c HTTPCheck) error {
	name := strings.TrimSpace(c.Name)
	if name == "" {
		return errors.New(`http check: name is empty: give every check a name (name: "home page")`)
	}
	if strings.IndexFunc(c.Name, isControl) >= 0 || len(c.Name) > maxName {
		return fmt.Errorf("http check %q: name: use at most %d printable characters", plain(c.Name, 60), maxName)
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("http check %q: %s", c.Name, fmt.Sprintf(format, a...))
	}
	if m := c.Method; m != "" {
		if !isToken(m) {
			return bad("method %q is not an HTTP method: write one such as GET, POST or HEAD", plain(m, 40))
		}
		if up := strings.ToUpper(m); up != m && slices.Contains(knownMethods, up) {
			return bad("method %q: HTTP methods are case-sensitive: write %s", m, up)
		}
	}
	if strings.Contains(c.Path, "://") {
		return bad("path %q is a URL: give only the path (the check always goes to the app's domain through the front door)", plain(c.Path, 80))
	}
	if !strings.HasPrefix(c.Path, "/") {
		return bad(`path %q must start with "/": it is a path on the app's domain (write "/%s")`, plain(c.Path, 80), strings.TrimLeft(plain(c.Path, 80), "/"))
	}
	if strings.ContainsFunc(c.Path, func(r rune) bool { return r == ' ' || r == '#' || isControl(r) }) {
		return bad("path %q holds a space, a control character or a #fragment: percent-encode it (%%20) and drop the fragment", plain(c.Path, 80))
	}
	if _, err := url.ParseRequestURI(c.Path); err != nil {
		return bad("path %q is not a valid request path: %v", plain(c.Path, 80), err)
	}
	for k, v := range c.Headers {
		switch {
		case !isToken(k):
			return bad("header name %q is not an HTTP header name (letters, digits and -)", plain(k, 60))
		case strings.EqualFold(k, "Host"):
			return bad("header Host: the check is always sent with the app's domain as Host; remove it")
		case strings.ContainsAny(v, "\r\n\x00"):
			return bad("header %s: the value holds a line break or NUL; put it on one line", k)
		}
	}
	for _, s := range c.Status {
		if s < 100 || s > 599 {
			return bad("status %d is not an HTTP status: use 100-599 (e.g. 200, 302, 401)", s)
		}
	}
	if c.ExpectText != "" && c.ExpectText == c.NotText {
		return bad("expect_text and not_text are the same text: the check could never pass; keep one")
	}
	return nil
}

var knownMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}

// isToken reports whether s is an RFC 9110 token (section 5.6.2): the syntax of a method and of
// a header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// RunHTTP sends c to the app at domain through frontDoor (a base URL: the request goes to
// frontDoor+c.Path with Host: domain) and judges the answer. It is Fail when the app answers a
// status c does not accept or its body misses ExpectText or holds NotText, or when the app does
// not answer within client's Timeout; Unverified when the front door cannot be reached (refused,
// reset, TLS not valid for the domain) or ctx (the run's) is done. A check that is not valid
// (ValidateHTTP) fails without a request. Redirects are never followed, whatever client says.
func RunHTTP(ctx context.Context, client *http.Client, frontDoor, domain string, c HTTPCheck) results.Check {
	name := plain(c.Name, maxName)
	fail := func(format string, a ...any) results.Check {
		return results.Check{Name: name, Status: results.Fail, Detail: clip(fmt.Sprintf(format, a...), maxDetail)}
	}
	if err := ValidateHTTP(c); err != nil {
		return fail("%s", plain(err.Error(), maxDetail))
	}
	method := cmp.Or(c.Method, http.MethodGet)
	accepted := c.Status
	if len(accepted) == 0 {
		accepted = []int{http.StatusOK}
	}
	what := fmt.Sprintf("%s %s (Host %s)", method, plain(c.Path, 120), plain(domain, 120))

	a, err := send(ctx, client, frontDoor, domain, method, c)
	status, body := a.status, a.body
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return results.Check{Name: name, Status: results.Unverified, Detail: clip(fmt.Sprintf("%s: run aborted (%v) before the app answered", what, context.Cause(ctx)), maxDetail)}
	case isTimeout(err):
		// The front door is up (it accepted the connection) but nothing answered in time: a
		// proxy passes a slow app's silence through, so this is the app's.
		return fail("%s: no answer within the HTTP timeout: %s", what, plain(err.Error(), 200))
	case status != 0:
		// The answer's status line and headers came; only its body broke off.
		return fail("%s: HTTP %d, but the body could not be read: %s", what, status, plain(err.Error(), 200))
	default:
		return results.Check{Name: name, Status: results.Unverified, Detail: clip(fmt.Sprintf("%s: the front door %s could not be reached: %s (check the proxy and CCCI_FRONTDOOR_URL)", what, plain(frontDoor, 120), plain(err.Error(), 200)), maxDetail)}
	}
	excerpt := pageText(body, excerptLen)
	if !slices.Contains(accepted, status) {
		if a.location != "" {
			return fail("%s: HTTP %d to %q, want %s (redirects are not followed: list %d in the check's statuses to accept this one)", what, status, plain(a.location, 200), statuses(accepted), status)
		}
		return fail("%s: HTTP %d, want %s; body: %q", what, status, statuses(accepted), excerpt)
	}
	if t := c.ExpectText; t != "" && !hasText(body, t) {
		return fail("%s: HTTP %d, but the body does not contain %q%s; body: %q", what, status, plain(t, 120), cutNote(body), excerpt)
	}
	if t := c.NotText; t != "" && hasText(body, t) {
		return fail("%s: HTTP %d, but the body contains %q, which it must not; body: %q", what, status, plain(t, 120), excerpt)
	}
	return results.Check{Name: name, Status: results.Pass, Detail: clip(fmt.Sprintf("%s: HTTP %d", what, status), maxDetail)}
}

// answer is what the app sent back.
type answer struct {
	status   int
	body     string // up to maxBody+1 bytes, so a cut is seen
	location string
}

// send makes the request and reads the answer.
func send(ctx context.Context, client *http.Client, frontDoor, domain, method string, c HTTPCheck) (answer, error) {
	var body io.Reader
	if c.Body != "" {
		body = strings.NewReader(c.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(frontDoor, "/")+c.Path, body)
	if err != nil {
		return answer{}, err
	}
	req.Host = domain
	for k, v := range c.Headers {
		req.Header.Set(k, v)
	}
	noFollow := http.Client{Timeout: defaultTimeout}
	if client != nil {
		noFollow = *client
	}
	// A followed redirect would judge another page than the one the check names.
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	a := answer{status: resp.StatusCode, body: string(data)}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		a.location = resp.Header.Get("Location")
	}
	return a, err
}

// hasText looks for t in the body as sent and as text (entities decoded), so "Don't" matches a
// page that writes Don&#39;t.
func hasText(body, t string) bool {
	if len(body) > maxBody {
		body = body[:maxBody]
	}
	return strings.Contains(body, t) || strings.Contains(html.UnescapeString(body), t)
}

func cutNote(body string) string {
	if len(body) > maxBody {
		return fmt.Sprintf(" (only the first %d bytes were read)", maxBody)
	}
	return ""
}

func statuses(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "one of " + strings.Join(parts, ", ")
}

// isTimeout reports whether err is the app not answering in time, once the front door accepted
// the connection. A dial that timed out, or a TLS handshake that did, is the door's.
func isTimeout(err error) bool {
	var ne net.Error
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" || strings.Contains(err.Error(), "TLS handshake timeout") {
		return false
	}
	return errors.As(err, &ne) && ne.Timeout()
}
