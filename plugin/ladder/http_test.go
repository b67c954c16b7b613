package ladder

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
)

func TestFallbackIn(t *testing.T) {
	t.Parallel()
	longPage := "<!DOCTYPE html><html><body><h1>Troubleshooting your proxy</h1><p>If you see Bad Gateway, check the upstream.</p>" +
		strings.Repeat("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>", 60) + "</body></html>"
	require.Greater(t, len(longPage), 2048, "the long page must be longer than a fallback can be")
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "traefik's answer for a Host without a router is a fallback", body: "404 page not found\n", want: "404 page not found"},
		{name: "traefik's answer for a router without healthy backends is a fallback", body: "no available server", want: "no available server"},
		{name: "a proxy's Bad Gateway page is a fallback", body: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>", want: "Bad Gateway"},
		{name: "a proxy's Service Unavailable page is a fallback", body: "503 Service Unavailable", want: "Service Unavailable"},
		{name: "a proxy's Gateway Timeout page is a fallback", body: "504 Gateway Timeout", want: "Gateway Timeout"},
		{name: "nginx's default site is a fallback", body: "<html><head><title>Welcome to nginx!</title></head><body>If you see this page, the nginx web server is successfully installed</body></html>", want: "Welcome to nginx!"},
		{name: "Apache's default Debian site is a fallback", body: "<title>Apache2 Debian Default Page: It works</title>", want: "Apache2 Debian Default"},
		{name: "surrounding whitespace does not hide a fallback", body: "\n\n   404 page not found   \n", want: "404 page not found"},
		{name: "a long real page that mentions Bad Gateway is not a fallback", body: longPage, want: ""},
		{name: "the app's own short page is not a fallback", body: appPage, want: ""},
		{name: "an empty body is not a fallback", body: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, fallbackIn(tt.body))
		})
	}
}

// TestServingFails runs whole ladders against front doors that never show the app's own page:
// whatever the body, an error status is never the app's page.
func TestServingFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		body       string
		wantReason []string
	}{
		{name: "the app serving traefik's 404 fallback with 200 fails install", status: http.StatusOK, body: "404 page not found\n",
			wantReason: []string{"HTTP 200 with a proxy fallback page", `"404 page not found"`, "for Host " + freshDomain}},
		{name: "a 502 Bad Gateway fails install", status: http.StatusBadGateway, body: "Bad Gateway",
			wantReason: []string{"HTTP 502", "Bad Gateway", "not the app's own"}},
		{name: "a 502 carrying the app's own page is still not the app's page", status: http.StatusBadGateway, body: appPage,
			wantReason: []string{"HTTP 502", "Gitea: Git with a cup of tea", "not the app's own"}},
		{name: "a 502 with an empty body fails install", status: http.StatusBadGateway, body: "",
			wantReason: []string{`HTTP 502 ""`}},
		{name: "traefik with no healthy backend fails install", status: http.StatusServiceUnavailable, body: "no available server",
			wantReason: []string{"HTTP 503"}},
		{name: "a default nginx page with 200 fails install", status: http.StatusOK, body: "<h1>Welcome to nginx!</h1>",
			wantReason: []string{"proxy fallback page", "Welcome to nginx!"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.Ready = doorWindow
			w.Door.Serve(tt.status, tt.body)
			out := w.run(t.Context())

			tiers := climb(t, out)
			install := tiers[results.TierInstall]
			assert.Equal(t, results.Fail, install.Status)
			for _, want := range tt.wantReason {
				assert.Contains(t, install.Reason, want)
			}
			assert.Equal(t, results.Fail, checkOf(t, install, "serves its own page").Status)
			assertNotReached(t, tiers, results.TierInstall, tiersAfter(results.TierInstall)...)
			assert.Equal(t, goodLog[:2], w.Abra.Log())
			assert.Equal(t, results.VerdictFail, results.Verdict(out.Tiers))
			for _, h := range w.Door.Hosts() {
				assert.Equal(t, freshDomain, h)
			}
			assert.GreaterOrEqual(t, len(w.Door.Hosts()), 2, "the front door is asked again until the window ends")
		})
	}
}

// doorWindow is the readiness window of the tests whose app never turns good: they take that
// long, so it is short, but a loaded box has taken over 2 s for one TLS handshake on loopback, and
// a window no request finishes in is judged "no answer" (a fail), not the door's fault.
const doorWindow = 6 * time.Second

// TestFrontDoorFaults: the front door itself failing (refusing connections, a certificate not
// valid for the app's name) is the CI box's fault: unverified, never the recipe's failure.
func TestFrontDoorFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		door       func(t *testing.T) string
		wantReason []string
	}{
		{name: "a front door that refuses connections leaves install unverified", door: refusingDoor,
			wantReason: []string{"the front door http://", "failed for Host " + freshDomain, "connection refused", "check the proxy and CCCI_FRONTDOOR_URL"}},
		{name: "a front door that accepts and drops every connection leaves install unverified", door: droppingServer,
			wantReason: []string{"the front door http://", "failed for Host " + freshDomain}},
		{name: "a front door whose certificate is not trusted for the app's name leaves install unverified", door: untrustedTLSDoor,
			wantReason: []string{"the front door https://", "failed for Host " + freshDomain, "certificate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.Ready = doorWindow
			w.DoorURL = tt.door(t)
			out := w.run(t.Context())

			tiers := climb(t, out)
			install := tiers[results.TierInstall]
			assert.Equal(t, results.Unverified, install.Status)
			for _, want := range tt.wantReason {
				assert.Contains(t, install.Reason, want)
			}
			assertNotReached(t, tiers, results.TierInstall, tiersAfter(results.TierInstall)...)
			assert.Equal(t, goodLog[:2], w.Abra.Log())
			assert.Empty(t, out.FailureExcerpt)
			assert.Equal(t, results.VerdictUnverified, results.Verdict(out.Tiers))
		})
	}
}

// TestRedirects runs whole ladders whose apps answer / with a redirect. A redirect off the app's
// host is the app's own page only when the recipe's overlay names the host (single sign-on); a
// redirect to the .env.sample placeholder host never is: the app's domain was never wired.
func TestRedirects(t *testing.T) {
	t.Parallel()
	const ssoOverlay = "redirect_hosts: [sso.example.org]\n"
	tests := []struct {
		name       string
		location   string
		overlay    string
		want       results.Status
		wantReason []string
	}{
		{name: "a redirect to the placeholder host fails install naming the Location",
			location: "https://gitea.example.com/user/login", want: results.Fail,
			wantReason: []string{"placeholder host gitea.example.com", `(Location "https://gitea.example.com/user/login")`, "DOMAIN was never wired to " + freshDomain}},
		{name: "a redirect to the placeholder host fails even when the overlay names it",
			location: "http://gitea.example.com/", overlay: "redirect_hosts: [gitea.example.com]\n", want: results.Fail,
			wantReason: []string{"placeholder host gitea.example.com", `(Location "http://gitea.example.com/")`}},
		{name: "a redirect off the app's host fails install without an overlay naming the host",
			location: "https://sso.example.org/auth?client=gitea", want: results.Fail,
			wantReason: []string{"a redirect off the app's host to sso.example.org", `Location "https://sso.example.org/auth?client=gitea"`, "redirect_hosts in recipes/gitea/cc-ci.yml"}},
		{name: "a redirect off the app's host passes when the overlay's redirect_hosts names the host",
			location: "https://sso.example.org/auth?client=gitea", overlay: ssoOverlay, want: results.Pass},
		{name: "the overlay's host matches whatever its case in the Location",
			location: "https://SSO.Example.ORG/auth", overlay: ssoOverlay, want: results.Pass},
		{name: "a host that merely ends with the overlay's host is another host",
			location: "https://sso.example.org.evil.test/auth", overlay: ssoOverlay, want: results.Fail,
			wantReason: []string{"a redirect off the app's host to sso.example.org.evil.test"}},
		{name: "a host that merely contains the overlay's host is another host",
			location: "https://evil-sso.example.org/auth", overlay: ssoOverlay, want: results.Fail,
			wantReason: []string{"a redirect off the app's host to evil-sso.example.org"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.Ready = doorWindow
			w.Door.Redirect("/", tt.location)
			if tt.overlay != "" {
				w.Overlay = overlayOf(t, tt.overlay)
			}
			out := w.run(t.Context())

			tiers := climb(t, out)
			install := tiers[results.TierInstall]
			assert.Equal(t, tt.want, install.Status, install.Reason)
			for _, want := range tt.wantReason {
				assert.Contains(t, install.Reason, want)
			}
			if tt.want == results.Pass {
				assert.Contains(t, checkOf(t, install, "serves its own page").Detail, "HTTP 302")
				assert.Equal(t, 3, results.Level(out.Tiers))
				assert.Equal(t, []string{freshDomain, upgradeDomain, upgradeDomain, upgradeDomain}, w.Door.Hosts(),
					"a redirect off the app's host is never followed")
				return
			}
			assert.Equal(t, results.Fail, checkOf(t, install, "serves its own page").Status)
			assertNotReached(t, tiers, results.TierInstall, tiersAfter(results.TierInstall)...)
		})
	}
}

// droppingServer returns the URL of a TCP server that closes every connection without answering.
// It keeps its port, so no other test's server can take it over mid-test.
func droppingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by the cleanup
			}
			c.Close()
		}
	}()
	return "http://" + ln.Addr().String()
}

// refusingDoor returns the URL of a port that refuses connections: a socket bound to it but not
// listening, so the kernel answers every connection with a reset and no other test's server can
// take the port over mid-test.
func refusingDoor(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	return fmt.Sprintf("http://127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}

// untrustedTLSDoor returns the URL of an https front door whose certificate the ladder's client
// does not trust (httptest's own CA).
func untrustedTLSDoor(t *testing.T) string {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(appPage))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestServing judges one app's answer through the front door.
func TestServing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		redirects  map[string]string // path -> Location
		body       string            // what the app answers with 200 ("": its page)
		want       bool
		wantDetail string // in the passing check's detail
		wantReason string // in the tier's reason
		wantHits   int
	}{
		{name: "a redirect to a login page on the app's host is followed and the login page judged",
			redirects: map[string]string{"/": "/user/login"}, want: true, wantDetail: "HTTP 200", wantHits: 2},
		{name: "an absolute redirect naming the app's host is followed on the front door",
			redirects: map[string]string{"/": "http://" + freshDomain + "/user/login"}, want: true, wantDetail: "HTTP 200", wantHits: 2},
		{name: "a redirect on the app's host to a fallback page is not the app's own page",
			redirects: map[string]string{"/": "/login"}, body: "404 page not found\n", wantReason: "proxy fallback page"},
		{name: "a proxy's redirect of the same URL to https proves nothing about the app",
			redirects: map[string]string{"/": "https://" + freshDomain + "/"}, wantReason: "redirects every request to https"},
		{name: "a redirect without a Location is not the app's page",
			redirects: map[string]string{"/": ""}, wantReason: "a redirect without a Location header"},
		{name: "a redirect loop on the app's host ends after a few hops",
			redirects: map[string]string{"/": "/a", "/a": "/b", "/b": "/a"}, wantReason: "more than 5 redirects on " + freshDomain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			for path, loc := range tt.redirects {
				w.Door.Redirect(path, loc)
			}
			if tt.body != "" {
				w.Door.Serve(http.StatusOK, tt.body)
			}
			l := w.ladder()
			l.ReadyTimeout = 2 * time.Second
			l.start = time.Now()
			tr := l.newTier(results.TierInstall)

			got := l.serving(t.Context(), tr, l.newApp(results.RoleFresh, freshDomain))
			require.Equal(t, tt.want, got, tr.Reason)
			for _, h := range w.Door.Hosts() {
				assert.Equal(t, freshDomain, h, "every hop carries the app's Host")
			}
			if tt.want {
				assert.Equal(t, results.Pass, tr.Status)
				assert.Contains(t, checkOf(t, tr.Tier, "serves its own page").Detail, tt.wantDetail)
				assert.Len(t, w.Door.Hosts(), tt.wantHits)
				return
			}
			assert.Equal(t, results.Fail, tr.Status)
			assert.Contains(t, tr.Reason, tt.wantReason)
		})
	}

	t.Run("an app that serves a fallback while it starts passes once it serves its own page", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.Door.Serve(http.StatusBadGateway, "Bad Gateway")
		w.Door.OnHit(func() { w.Door.Serve(http.StatusOK, appPage) }) // ready from the second request
		l := w.ladder()
		l.start = time.Now()
		tr := l.newTier(results.TierInstall)

		require.True(t, l.serving(t.Context(), tr, l.newApp(results.RoleFresh, freshDomain)))
		assert.Equal(t, results.Pass, tr.Status)
		assert.Equal(t, []string{freshDomain, freshDomain}, w.Door.Hosts())
	})

	t.Run("the run aborted while waiting for the app is unverified, not a failing recipe", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		w.Door.Serve(http.StatusOK, "404 page not found")
		w.Door.OnHit(cancel)
		l := w.ladder()
		l.ReadyTimeout = time.Minute
		l.start = time.Now()
		tr := l.newTier(results.TierInstall)

		require.False(t, l.serving(ctx, tr, l.newApp(results.RoleFresh, freshDomain)))
		assert.Equal(t, results.Unverified, tr.Status)
		assert.Contains(t, tr.Reason, "run aborted")
	})
}
