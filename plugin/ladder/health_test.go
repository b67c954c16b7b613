package ladder

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
)

// requestsOf returns the paths the front door was asked for with the given Host, in order.
func requestsOf(d *frontDoor, host string) []string {
	var paths []string
	for _, r := range d.Requests() {
		if h, p, _ := strings.Cut(r, " "); h == host {
			paths = append(paths, p)
		}
	}
	return paths
}

// TestHealthStatuses: a status other than 2xx is the app's own answer only when the overlay
// declares it (an app that answers 401 until you log in); a declared status never turns a
// proxy's fallback page or a redirect the ladder refuses into the app's page.
func TestHealthStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		overlay    string
		status     int
		body       string
		redirect   string // Location of a 302 at /, when set
		want       results.Status
		wantReason []string
		wantDetail string
	}{
		{name: "an app answering 401 at / fails install without an overlay, saying how to declare it",
			status: http.StatusUnauthorized, body: "Unauthorized",
			want:       results.Fail,
			wantReason: []string{`HTTP 401 "Unauthorized" for Host ` + freshDomain, "declare it in health.statuses of recipes/gitea/cc-ci.yml"}},
		{name: "an app answering 401 at / passes install with health.statuses [401]",
			overlay: "health:\n  statuses: [401]\n", status: http.StatusUnauthorized, body: "Unauthorized",
			want: results.Pass, wantDetail: "HTTP 401 from the app through the front door"},
		{name: "a declared 401 does not accept another status",
			overlay: "health:\n  statuses: [401]\n", status: http.StatusForbidden, body: "Forbidden",
			want: results.Fail, wantReason: []string{`HTTP 403 "Forbidden"`}},
		{name: "a declared 404 does not make traefik's answer for an unrouted Host the app's page",
			overlay: "health:\n  statuses: [404]\n", status: http.StatusNotFound, body: "404 page not found\n",
			want: results.Fail, wantReason: []string{`HTTP 404 "404 page not found"`}},
		{name: "a declared 503 does not make traefik's answer for a router without backends the app's page",
			overlay: "health:\n  statuses: [503]\n", status: http.StatusServiceUnavailable, body: "no available server",
			want: results.Fail, wantReason: []string{`HTTP 503 "no available server"`}},
		{name: "a declared 302 does not make the front door's redirect to https the app's page",
			overlay: "health:\n  statuses: [302]\n", redirect: "https://" + freshDomain + "/",
			want: results.Fail, wantReason: []string{"the front door redirects every request to https"}},
		{name: "a declared 302 does not make an off-host redirect the app's page: redirect_hosts names those",
			overlay: "health:\n  statuses: [302]\n", redirect: "https://sso.example.org/login",
			want: results.Fail, wantReason: []string{"a redirect off the app's host to sso.example.org", "redirect_hosts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.Ready = doorWindow
			if tt.overlay != "" {
				w.Overlay = overlayOf(t, tt.overlay)
			}
			if tt.redirect != "" {
				w.Door.Redirect("/", tt.redirect)
			} else {
				w.Door.Serve(tt.status, tt.body)
			}
			out := w.run(t.Context())

			tiers := climb(t, out)
			install := tiers[results.TierInstall]
			assert.Equal(t, tt.want, install.Status, install.Reason)
			for _, want := range tt.wantReason {
				assert.Contains(t, install.Reason, want)
			}
			if tt.want != results.Pass {
				assertNotReached(t, tiers, results.TierInstall, tiersAfter(results.TierInstall)...)
				return
			}
			assert.Equal(t, tt.wantDetail, checkOf(t, install, "serves its own page").Detail)
			for _, name := range genericTiers {
				assert.Equal(t, results.Pass, tiers[name].Status, "%s: %s", name, tiers[name].Reason)
			}
			assert.Equal(t, 3, results.Level(out.Tiers))
		})
	}
}

// TestHealthPath: the overlay's health.path is the page every tier asks for.
func TestHealthPath(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Overlay = overlayOf(t, "health:\n  path: /api/healthz\n")
	out := w.run(t.Context())

	tiers := climb(t, out)
	for _, name := range genericTiers {
		require.Equal(t, results.Pass, tiers[name].Status, "%s: %s", name, tiers[name].Reason)
	}
	assert.Equal(t, []string{"/api/healthz"}, requestsOf(w.Door, freshDomain))
	assert.Equal(t, []string{"/api/healthz", "/api/healthz", "/api/healthz"}, requestsOf(w.Door, upgradeDomain),
		"the base, the upgraded app, the restored app")
}

// readiness answers a readiness endpoint from a script: answers[i] is the i-th answer, the last
// one repeats.
type readiness struct {
	mu      sync.Mutex
	answers []struct {
		status int
		body   string
	}
	asked int
}

func (r *readiness) answer() (int, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.answers[min(r.asked, len(r.answers)-1)]
	r.asked++
	return a.status, a.body
}

// TestReadiness: with a readiness probe the page is not judged until the app says it is ready (a
// long first boot); an app that never says so fails with the probe's own words.
func TestReadiness(t *testing.T) {
	t.Parallel()
	const probe = "readiness:\n  path: /api/ready\n  text: ready\n"

	t.Run("the page is asked for only after the probe says ready", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.Overlay = overlayOf(t, probe)
		r := &readiness{answers: []struct {
			status int
			body   string
		}{
			{http.StatusServiceUnavailable, "migrating database"},
			{http.StatusOK, "starting"}, // the right status without the text is not ready either
			{http.StatusOK, "ready"},
		}}
		w.Door.Route("/api/ready", r.answer)
		out := w.run(t.Context())

		tiers := climb(t, out)
		for _, name := range genericTiers {
			require.Equal(t, results.Pass, tiers[name].Status, "%s: %s", name, tiers[name].Reason)
		}
		assert.Equal(t, []string{"/api/ready", "/api/ready", "/api/ready", "/"}, requestsOf(w.Door, freshDomain),
			"not ready, not ready, ready: then the page")
		assert.Equal(t, []string{"/api/ready", "/", "/api/ready", "/", "/api/ready", "/"}, requestsOf(w.Door, upgradeDomain),
			"each time an app is judged, the probe first")
	})

	t.Run("an app that never says ready fails install with the probe's words, its page never judged", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.Ready = doorWindow
		w.Overlay = overlayOf(t, probe)
		w.Door.Route("/api/ready", func() (int, string) { return http.StatusServiceUnavailable, "migrating database" })
		out := w.run(t.Context())

		tiers := climb(t, out)
		install := tiers[results.TierInstall]
		assert.Equal(t, results.Fail, install.Status)
		assert.Contains(t, install.Reason, `readiness probe /api/ready: HTTP 503 (want [200]) "migrating database"`)
		assertNotReached(t, tiers, results.TierInstall, tiersAfter(results.TierInstall)...)
		paths := requestsOf(w.Door, freshDomain)
		assert.NotEmpty(t, paths)
		assert.NotContains(t, paths, "/", "the page is not judged before the app is ready")
	})

	t.Run("a probe that accepts another status is ready on it", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.Overlay = overlayOf(t, "readiness:\n  path: /api/ready\n  statuses: [204]\n")
		w.Door.Route("/api/ready", func() (int, string) { return http.StatusNoContent, "" })
		out := w.run(t.Context())

		require.Equal(t, results.Pass, climb(t, out)[results.TierInstall].Status)
		assert.Equal(t, []string{"/api/ready", "/"}, requestsOf(w.Door, freshDomain))
	})
}
