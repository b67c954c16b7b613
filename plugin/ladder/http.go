package ladder

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// fallbacks are bodies a proxy or a bare web server answers with when the app itself is not
// behind the name: seeing one means the page is not the app's own, whatever the status code.
var fallbacks = []string{
	"404 page not found",     // traefik, no router for the Host
	"no available server",    // traefik, router without healthy backends
	"Bad Gateway",            // any proxy, backend refused
	"Service Unavailable",    // any proxy
	"Gateway Timeout",        // any proxy
	"Welcome to nginx!",      // a default nginx site
	"Apache2 Debian Default", // a default Apache site
}

// readyPoll is how often the front door is asked again while the app is not serving yet. Nothing
// announces "routable" as an event, so this is a bounded poll against the real proxy.
const readyPoll = time.Second

// serving proves the app answers through the front door, with its own Host header, with its own
// page: a 2xx status (after same-host redirects) and a body that is not a proxy fallback. It retries until the readiness
// window ends, then reports what it last saw.
func (l *Ladder) serving(ctx context.Context, t *tier, a *app) bool {
	const check = "serves its own page"
	path := l.Overlay.Config.Health.Path
	if path == "" {
		path = "/"
	}
	l.banner(t.Name, "GET %s%s with Host: %s", strings.TrimRight(l.FrontDoor, "/"), path, a.Domain)
	window := l.ReadyTimeout
	if window <= 0 {
		window = 2 * time.Minute
	}
	wctx, cancel := context.WithTimeout(ctx, window)
	defer cancel()
	var last string   // what the last finished attempt saw
	var answered bool // whether that was an answer (a wrong page) rather than no answer
	var door bool     // whether that was the front door itself failing (refused, TLS)
	for {
		status, why, err := l.ready(wctx, a.Domain)
		if err == nil && why == "" {
			status, why, err = l.get(wctx, a.Domain, path)
		}
		// An attempt cut short by the window's end saw nothing; the one before it is reported.
		switch {
		case err == nil && why == "":
			t.pass(check, "HTTP %d from the app through the front door", status)
			return true
		case err == nil:
			last, answered, door = why, true, false
		case wctx.Err() == nil:
			last, answered, door = err.Error(), false, DoorFault(err)
		}
		select {
		case <-wctx.Done():
			switch {
			case ctx.Err() != nil:
				t.unverified("%s: run aborted (%v) while waiting for Host %s", check, context.Cause(ctx), a.Domain)
			case door:
				// The proxy in front of every app failed, not the app: the box's fault.
				t.unverified("%s: the front door %s failed for Host %s: %s (check the proxy and CCCI_FRONTDOOR_URL)", check, l.FrontDoor, a.Domain, last)
			case answered && strings.HasPrefix(last, "readiness probe"):
				t.fail(check, "%s for Host %s after %s: the app never said it was ready (raise timeouts.http in recipes/%s/cc-ci.yml if its first boot is slow)", last, a.Domain, window, l.Recipe)
			case answered:
				t.fail(check, "%s for Host %s after %s: the page is not the app's own (check the traefik labels, the service port and that the app serves %s; if this status is the app's own answer, e.g. 401 until you log in, declare it in health.statuses of recipes/%s/cc-ci.yml)", last, a.Domain, window, path, l.Recipe)
			case last == "":
				t.fail(check, "no answer for Host %s within %s: the first request did not finish", a.Domain, window)
			default:
				t.fail(check, "no answer for Host %s within %s: %s", a.Domain, window, last)
			}
			return false
		case <-time.After(readyPoll):
		}
	}
}

// maxRedirects bounds how many same-host redirects serving follows.
const maxRedirects = 5

// get fetches path with the app's Host header, following redirects that stay on the app's Host
// and judging the final page. why is non-empty when the answer is not the app's own page.
func (l *Ladder) get(ctx context.Context, domain, path string) (status int, why string, err error) {
	for hop := 0; ; hop++ {
		status, body, loc, err := l.fetch(ctx, domain, path)
		if err != nil {
			return status, "", err
		}
		if (status < 200 || status >= 400) && slices.Contains(l.Overlay.Config.Health.Statuses, status) && fallbackIn(body) == "" {
			// The overlay says this is the app's own answer (401 until you log in). Not a proxy's
			// fallback page (traefik's 404 for an unrouted Host, its 503 without backends), and
			// not a redirect: the rules below (and redirect_hosts) decide those, since the front
			// door's own https redirect or the placeholder host is never the app's page.
			return status, "", nil
		}
		if status >= 300 && status < 400 {
			next, why := l.redirect(domain, path, loc, hop)
			if next == "" {
				return status, why, nil
			}
			path = next
			continue
		}
		if status >= 400 {
			return status, fmt.Sprintf("HTTP %d %q", status, clip(strings.TrimSpace(body))), nil
		}
		if fb := fallbackIn(body); fb != "" {
			return status, fmt.Sprintf("HTTP %d with a proxy fallback page (%q)", status, fb), nil
		}
		return status, "", nil
	}
}

// redirect decides on a 3xx: follow it (next is the path to ask for), or stop with why saying
// what is wrong ("" when a redirect off the app's host is the app's own answer: single sign-on
// to a host the overlay names). A redirect to the same URL on https is a proxy's entrypoint
// redirect, not the app: it proves nothing about the app, whatever Host was sent. A redirect to
// the .env.sample placeholder (<recipe>.example.com) means the app's domain was never wired.
func (l *Ladder) redirect(domain, path, loc string, hop int) (next, why string) {
	if loc == "" {
		return "", "a redirect without a Location header"
	}
	base, err := url.Parse(strings.TrimRight(l.FrontDoor, "/") + path)
	if err != nil {
		return "", fmt.Sprintf("bad front door URL: %v", err)
	}
	u, err := base.Parse(loc)
	if err != nil {
		return "", fmt.Sprintf("a redirect to an unparsable Location %q", loc)
	}
	sameHost := u.Host == base.Host || strings.EqualFold(u.Hostname(), domain)
	switch {
	case !sameHost && strings.EqualFold(u.Hostname(), l.Recipe+".example.com"):
		return "", fmt.Sprintf("a redirect to the placeholder host %s (Location %q): the app's DOMAIN was never wired to %s (check that the compose file passes DOMAIN to the app and .env.sample's DOMAIN=%s.example.com)",
			u.Hostname(), clip(loc), domain, l.Recipe)
	case !sameHost && l.Overlay.RedirectAllowed(u.Hostname()):
		return "", ""
	case !sameHost:
		return "", fmt.Sprintf("a redirect off the app's host to %s (Location %q): an off-host redirect is the app's own page only when the recipe's overlay names the host (redirect_hosts in recipes/%s/cc-ci.yml, for single sign-on)",
			u.Hostname(), clip(loc), l.Recipe)
	case u.Scheme == "https" && base.Scheme == "http" && u.RequestURI() == path:
		return "", fmt.Sprintf("the front door redirects every request to https (%s): it cannot show the app's page; point CCCI_FRONTDOOR_URL at the proxy's https entrypoint or a plain-http one", clip(loc))
	case hop >= maxRedirects:
		return "", fmt.Sprintf("more than %d redirects on %s", maxRedirects, domain)
	}
	return u.RequestURI(), ""
}

// ready asks the overlay's readiness probe, when there is one: why is non-empty until the app
// says it is ready (a long first boot), so the page is judged only after.
func (l *Ladder) ready(ctx context.Context, domain string) (status int, why string, err error) {
	p := l.Overlay.Config.Readiness
	if p == nil {
		return 0, "", nil
	}
	status, body, _, err := l.fetch(ctx, domain, p.Path)
	if err != nil {
		return status, "", err
	}
	accept := p.Statuses
	if len(accept) == 0 {
		accept = []int{http.StatusOK}
	}
	switch {
	case !slices.Contains(accept, status):
		return status, fmt.Sprintf("readiness probe %s: HTTP %d (want %v) %q", p.Path, status, accept, clip(strings.TrimSpace(body))), nil
	case !strings.Contains(body, p.Text):
		return status, fmt.Sprintf("readiness probe %s: HTTP %d without %q", p.Path, status, p.Text), nil
	}
	return status, "", nil
}

// fetch is one GET through the front door with the app's Host header.
func (l *Ladder) fetch(ctx context.Context, domain, path string) (status int, body, location string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(l.FrontDoor, "/")+path, nil)
	if err != nil {
		return 0, "", "", err
	}
	req.Host = domain
	resp, err := l.HTTP.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, "", "", err
	}
	return resp.StatusCode, string(data), resp.Header.Get("Location"), nil
}

// fallbackIn returns the fallback signature a short body consists of, or "". Only short bodies
// count: an app's real page may mention "Bad Gateway" in its text.
func fallbackIn(body string) string {
	b := strings.TrimSpace(body)
	if len(b) > 2048 {
		return ""
	}
	for _, f := range fallbacks {
		if strings.Contains(b, f) {
			return f
		}
	}
	return ""
}

// NoRedirects makes an http.Client report a redirect instead of following it: serving follows
// redirects itself, only on the app's Host and never across the front door's https redirect.
func NoRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }

// DoorFault reports whether err is the front door itself failing rather than the app: the
// connection to it refused, or closed or reset before any answer (a proxy answers 502 when the
// app behind it fails; it never hangs up), or its TLS certificate not valid for the app's name.
// Those are the CI box's faults (unverified), never the recipe's.
func DoorFault(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	// net/http's transport reports a connection the door closed before answering with this
	// unexported error (errServerClosedIdle); only its text can be matched.
	if strings.Contains(err.Error(), "server closed idle connection") {
		return true
	}
	var op *net.OpError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var record tls.RecordHeaderError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &op) && op.Op == "dial":
		return true
	case errors.As(err, &unknownAuthority), errors.As(err, &hostname), errors.As(err, &invalid),
		errors.As(err, &record), errors.As(err, &verify):
		return true
	}
	return false
}

// HostTLS is a RoundTripper for an https front door: each request's TLS handshake names the
// request's Host (the app's domain, under the wildcard certificate of the CI domain suffix), not
// the front door's address, so the certificate is checked against the name the app is served
// under.
type HostTLS struct {
	Base *http.Transport
	mu   sync.Mutex
	per  map[string]*http.Transport
}

// RoundTrip implements http.RoundTripper.
func (h *HostTLS) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" || req.Host == "" {
		return h.Base.RoundTrip(req)
	}
	host := req.Host
	if hn, _, err := net.SplitHostPort(host); err == nil {
		host = hn
	}
	h.mu.Lock()
	t, ok := h.per[host]
	if !ok {
		t = h.Base.Clone()
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		t.TLSClientConfig.ServerName = host
		if h.per == nil {
			h.per = map[string]*http.Transport{}
		}
		h.per[host] = t
	}
	h.mu.Unlock()
	return t.RoundTrip(req)
}
