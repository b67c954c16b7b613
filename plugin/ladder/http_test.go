package ladder

import (
	"context"
	"net"
	"net/http"
	"strings"
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

// TestServingFails runs whole ladders against front doors that never show the app's own page.
func TestServingFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		body       string
		dropping   bool // the front door drops every connection unanswered
		wantReason []string
	}{
		{name: "the app serving traefik's 404 fallback with 200 fails install", status: http.StatusOK, body: "404 page not found\n",
			wantReason: []string{"HTTP 200 with a proxy fallback page", `"404 page not found"`, "for Host " + testDomain}},
		{name: "a 502 Bad Gateway fails install", status: http.StatusBadGateway, body: "Bad Gateway",
			wantReason: []string{"HTTP 502", "Bad Gateway", "not the app's own"}},
		{name: "traefik with no healthy backend fails install", status: http.StatusServiceUnavailable, body: "no available server",
			wantReason: []string{"HTTP 503"}},
		{name: "a default nginx page with 200 fails install", status: http.StatusOK, body: "<h1>Welcome to nginx!</h1>",
			wantReason: []string{"proxy fallback page", "Welcome to nginx!"}},
		{name: "a front door that drops every connection fails install with no answer", dropping: true,
			wantReason: []string{"no answer for Host " + testDomain, "within 2s: Get "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.Ready = 2 * time.Second
			w.Door.Serve(tt.status, tt.body)
			if tt.dropping {
				w.DoorURL = droppingServer(t)
			}
			out := w.run(t.Context())

			tiers := climb(t, out)
			install := tiers[results.TierInstall]
			assert.Equal(t, results.Fail, install.Status)
			for _, want := range tt.wantReason {
				assert.Contains(t, install.Reason, want)
			}
			assert.Equal(t, results.Fail, checkOf(t, install, "serves its own page").Status)
			assertNotReached(t, tiers, results.TierInstall, results.TierUpgrade, results.TierBackup, results.TierRestore)
			assert.Equal(t, []string{"app new " + testBase, "deploy " + testBase}, w.Abra.Log())
			assert.Empty(t, w.Data.Calls, "no datum is seeded into an app that does not serve")
			assert.Equal(t, results.VerdictFail, results.Verdict(out.Tiers))
			for _, h := range w.Door.Hosts() {
				assert.Equal(t, testDomain, h)
			}
			if !tt.dropping {
				assert.GreaterOrEqual(t, len(w.Door.Hosts()), 2, "the front door is asked again until the window ends")
			}
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

func TestServing(t *testing.T) {
	t.Parallel()

	t.Run("an app that serves a fallback while it starts passes once it serves its own page", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.Door.Serve(http.StatusBadGateway, "Bad Gateway")
		w.Door.OnHit(func() { w.Door.Serve(http.StatusOK, appPage) }) // ready from the second request
		l := w.ladder()
		l.start = time.Now()
		tr := l.newTier(results.TierInstall)

		require.True(t, l.serving(t.Context(), tr))
		assert.Equal(t, results.Pass, tr.Status)
		assert.Equal(t, []string{testDomain, testDomain}, w.Door.Hosts())
	})

	t.Run("a redirect to a login page on the app's host is followed and the login page judged", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.Door.Redirect("/", "/user/login")
		l := w.ladder()
		l.start = time.Now()
		tr := l.newTier(results.TierInstall)

		require.True(t, l.serving(t.Context(), tr))
		assert.Contains(t, checkOf(t, tr.Tier, "serves its own page").Detail, "HTTP 200")
		assert.Equal(t, []string{testDomain, testDomain}, w.Door.Hosts(), "both hops carry the app's Host")
	})

	t.Run("a redirect on the app's host to a fallback page is not the app's own page", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.Door.Redirect("/", "/login")
		w.Door.Serve(http.StatusOK, "404 page not found\n")
		l := w.ladder()
		l.ReadyTimeout = 2 * time.Second
		l.start = time.Now()
		tr := l.newTier(results.TierInstall)

		require.False(t, l.serving(t.Context(), tr))
		assert.Equal(t, results.Fail, tr.Status)
		assert.Contains(t, tr.Reason, "proxy fallback page")
	})

	t.Run("a proxy's redirect of the same URL to https proves nothing about the app", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.Door.Redirect("/", "https://"+testDomain+"/")
		l := w.ladder()
		l.ReadyTimeout = 2 * time.Second
		l.start = time.Now()
		tr := l.newTier(results.TierInstall)

		require.False(t, l.serving(t.Context(), tr))
		assert.Equal(t, results.Fail, tr.Status)
		assert.Contains(t, tr.Reason, "redirects every request to https")
	})

	t.Run("a redirect off the app's host, like single sign-on, is the app answering", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.Door.Redirect("/", "https://sso.example.org/auth?client=app")
		l := w.ladder()
		l.start = time.Now()
		tr := l.newTier(results.TierInstall)

		require.True(t, l.serving(t.Context(), tr))
		assert.Contains(t, checkOf(t, tr.Tier, "serves its own page").Detail, "HTTP 302")
		assert.Len(t, w.Door.Hosts(), 1, "a redirect off the app's host is not followed")
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

		require.False(t, l.serving(ctx, tr))
		assert.Equal(t, results.Unverified, tr.Status)
		assert.Contains(t, tr.Reason, "run aborted")
	})
}
