package ladder

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
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
func (l *Ladder) serving(ctx context.Context, t *tier) bool {
	const check = "serves its own page"
	l.banner(t.Name, "GET %s/ with Host: %s", l.FrontDoor, l.Domain)
	window := l.ReadyTimeout
	if window <= 0 {
		window = 2 * time.Minute
	}
	wctx, cancel := context.WithTimeout(ctx, window)
	defer cancel()
	var last string   // what the last finished attempt saw
	var answered bool // whether that was an answer (a wrong page) rather than no answer
	for {
		status, why, err := l.get(wctx, "/")
		// An attempt cut short by the window's end saw nothing; the one before it is reported.
		switch {
		case err == nil && why == "":
			t.pass(check, "HTTP %d from the app through the front door", status)
			return true
		case err == nil:
			last, answered = why, true
		case wctx.Err() == nil:
			last, answered = err.Error(), false
		}
		select {
		case <-wctx.Done():
			switch {
			case ctx.Err() != nil:
				t.unverified("%s: run aborted (%v) while waiting for Host %s", check, context.Cause(ctx), l.Domain)
			case answered:
				t.fail(check, "%s for Host %s after %s: the page is not the app's own (check the traefik labels, the service port and that the app serves /)", last, l.Domain, window)
			case last == "":
				t.fail(check, "no answer for Host %s within %s: the first request did not finish", l.Domain, window)
			default:
				t.fail(check, "no answer for Host %s within %s: %s", l.Domain, window, last)
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
func (l *Ladder) get(ctx context.Context, path string) (status int, why string, err error) {
	for hop := 0; ; hop++ {
		status, body, loc, err := l.fetch(ctx, path)
		if err != nil {
			return status, "", err
		}
		if status >= 300 && status < 400 {
			next, why := l.redirect(path, loc, hop)
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
// what is wrong ("" when a redirect off the app's host is the app's own answer, e.g. SSO).
// A redirect to the same URL on https is a proxy's entrypoint redirect, not the app: it proves
// nothing about the app, whatever Host was sent.
func (l *Ladder) redirect(path, loc string, hop int) (next, why string) {
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
	sameHost := u.Host == base.Host || strings.EqualFold(u.Hostname(), l.Domain)
	switch {
	case !sameHost:
		return "", ""
	case u.Scheme == "https" && base.Scheme == "http" && u.RequestURI() == path:
		return "", fmt.Sprintf("the front door redirects every request to https (%s): it cannot show the app's page; point CCCI_FRONTDOOR_URL at the proxy's https entrypoint or a plain-http one", clip(loc))
	case hop >= maxRedirects:
		return "", fmt.Sprintf("more than %d redirects on %s", maxRedirects, l.Domain)
	}
	return u.RequestURI(), ""
}

// fetch is one GET through the front door with the app's Host header.
func (l *Ladder) fetch(ctx context.Context, path string) (status int, body, location string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(l.FrontDoor, "/")+path, nil)
	if err != nil {
		return 0, "", "", err
	}
	req.Host = l.Domain
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
