package checks

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
)

const appDomain = "app.ci.example.org"

// fakeDoor is a real HTTP server standing in for the front door with one app behind it: like
// traefik, it routes by Host and answers "404 page not found" for a Host it does not know.
type fakeDoor struct {
	*httptest.Server
	requests atomic.Int32
}

func newDoor(t *testing.T) *fakeDoor {
	t.Helper()
	d := &fakeDoor{}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `<html><head><title>Home</title><style>body{}</style></head><body><h1>Welcome &amp; hello</h1>`+
			`<script>var token = "x";</script><p>Don&#39;t panic</p></body></html>`)
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, "<h1>boom</h1>\n\x1b[31mstack\x1b[0m \u202eevil")
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://sso.example.org/auth?client=app", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // answers only when the client gives up
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, strings.Repeat("a", maxBody)+"needle")
	})
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("X-Token") != "t0ken" || string(body) != `{"q":1}` {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"ok":true}`)
	})
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.requests.Add(1)
		if r.Host != appDomain {
			http.NotFound(w, r) // traefik: no router for this Host
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(d.Close)
	return d
}

func noRedirectClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestRunHTTP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		domain     string // default appDomain
		check      HTTPCheck
		client     *http.Client // default noRedirectClient
		want       results.Status
		wantDetail []string
		notDetail  []string
	}{
		{name: "the home page with its text passes", check: HTTPCheck{Name: "home", Path: "/", ExpectText: "Welcome & hello"},
			want: results.Pass, wantDetail: []string{"GET / (Host " + appDomain + "): HTTP 200"}},
		{name: "expected text matches the page's text as well as its markup", check: HTTPCheck{Name: "home", Path: "/", ExpectText: "Don't panic"}, want: results.Pass},
		{name: "the Host header decides which app answers", domain: "other.ci.example.org", check: HTTPCheck{Name: "home", Path: "/"},
			want: results.Fail, wantDetail: []string{"HTTP 404, want 200", `body: "404 page not found"`}},
		{name: "a status not accepted fails with the status and a plain excerpt", check: HTTPCheck{Name: "broken", Path: "/broken"},
			want: results.Fail, wantDetail: []string{"HTTP 500, want 200", `body: "boom stack evil"`}, notDetail: []string{"<h1>", "\x1b", "\u202e", "\n"}},
		{name: "a status listed is accepted", check: HTTPCheck{Name: "broken", Path: "/broken", Status: []int{500}}, want: results.Pass},
		{name: "missing text fails with the text and an excerpt without scripts or styles", check: HTTPCheck{Name: "home", Path: "/", ExpectText: "Dashboard"},
			want: results.Fail, wantDetail: []string{`does not contain "Dashboard"`, `body: "Home Welcome & hello Don't panic"`}, notDetail: []string{"token", "body{}"}},
		{name: "text that must not be there fails", check: HTTPCheck{Name: "home", Path: "/", NotText: "Welcome"},
			want: results.Fail, wantDetail: []string{`contains "Welcome", which it must not`}},
		{name: "text that is absent as it must be passes", check: HTTPCheck{Name: "home", Path: "/", NotText: "Traceback"}, want: results.Pass},
		{name: "a redirect not listed fails and names where it went", check: HTTPCheck{Name: "login", Path: "/login"},
			want: results.Fail, wantDetail: []string{"HTTP 302 to \"https://sso.example.org/auth?client=app\", want 200", "list 302"}},
		{name: "a redirect listed passes", check: HTTPCheck{Name: "login", Path: "/login", Status: []int{200, 302}}, want: results.Pass,
			wantDetail: []string{"HTTP 302"}},
		{name: "a client that follows redirects still does not follow them", check: HTTPCheck{Name: "login", Path: "/login", Status: []int{302}},
			client: &http.Client{Timeout: 5 * time.Second}, want: results.Pass},
		{name: "a method, headers and a body are sent", check: HTTPCheck{Name: "api", Method: "POST", Path: "/api", Headers: map[string]string{"X-Token": "t0ken"}, Body: `{"q":1}`, Status: []int{201}, ExpectText: `"ok":true`},
			want: results.Pass, wantDetail: []string{"POST /api"}},
		{name: "an app that does not answer in time fails", check: HTTPCheck{Name: "slow", Path: "/slow"},
			client: &http.Client{Timeout: 200 * time.Millisecond}, want: results.Fail, wantDetail: []string{"no answer within the HTTP timeout"}},
		{name: "text past the read limit is not seen, and the detail says so", check: HTTPCheck{Name: "big", Path: "/big", ExpectText: "needle"},
			want: results.Fail, wantDetail: []string{"only the first 1048576 bytes were read"}},
		{name: "an invalid check fails without a request", check: HTTPCheck{Name: "bad", Path: "login"},
			want: results.Fail, wantDetail: []string{`must start with "/"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			door := newDoor(t)
			client := tt.client
			if client == nil {
				client = noRedirectClient()
			}
			domain := tt.domain
			if domain == "" {
				domain = appDomain
			}
			got := RunHTTP(t.Context(), client, door.URL+"/", domain, tt.check)
			assert.Equal(t, tt.want, got.Status, "detail: %s", got.Detail)
			assert.Equal(t, tt.check.Name, got.Name)
			for _, w := range tt.wantDetail {
				assert.Contains(t, got.Detail, w)
			}
			for _, w := range tt.notDetail {
				assert.NotContains(t, got.Detail, w)
			}
			assert.LessOrEqual(t, len([]rune(got.Detail)), maxDetail)
			if err := ValidateHTTP(tt.check); err != nil {
				assert.Zero(t, door.requests.Load(), "an invalid check is never sent")
			} else {
				assert.Equal(t, int32(1), door.requests.Load(), "exactly one request, no redirect followed")
			}
		})
	}
}

// TestRunHTTPUnverified: when the front door itself is not there, or the run is over, nothing
// was learnt about the app.
func TestRunHTTPUnverified(t *testing.T) {
	t.Parallel()
	t.Run("a front door that refuses connections is unverified", func(t *testing.T) {
		t.Parallel()
		door := httptest.NewServer(http.NotFoundHandler())
		url := door.URL
		door.Close()
		got := RunHTTP(t.Context(), noRedirectClient(), url, appDomain, HTTPCheck{Name: "home", Path: "/"})
		assert.Equal(t, results.Unverified, got.Status, got.Detail)
		assert.Contains(t, got.Detail, "the front door "+url+" could not be reached")
	})
	t.Run("a front door that hangs up without answering is unverified", func(t *testing.T) {
		t.Parallel()
		door := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}))
		t.Cleanup(door.Close)
		got := RunHTTP(t.Context(), noRedirectClient(), door.URL, appDomain, HTTPCheck{Name: "home", Path: "/"})
		assert.Equal(t, results.Unverified, got.Status, got.Detail)
	})
	t.Run("a run aborted while the app is asked is unverified", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		asked := make(chan struct{})
		door := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(asked)
			<-r.Context().Done()
		}))
		t.Cleanup(door.Close)
		go func() { <-asked; cancel() }()
		got := RunHTTP(ctx, noRedirectClient(), door.URL, appDomain, HTTPCheck{Name: "home", Path: "/"})
		assert.Equal(t, results.Unverified, got.Status, got.Detail)
		assert.Contains(t, got.Detail, "run aborted")
	})
}

func TestValidateHTTP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		check   HTTPCheck
		wantErr string
	}{
		{name: "a minimal check is valid", check: HTTPCheck{Name: "home", Path: "/"}},
		{name: "a full check is valid", check: HTTPCheck{Name: "api", Method: "POST", Path: "/api/v1/items?x=1", Headers: map[string]string{"Accept": "application/json"},
			Body: "{}", Status: []int{201, 302}, ExpectText: "ok", NotText: "error"}},
		{name: "a custom method token is valid", check: HTTPCheck{Name: "dav", Method: "PROPFIND", Path: "/"}},
		{name: "a check needs a name", check: HTTPCheck{Path: "/"}, wantErr: "name is empty"},
		{name: "a blank name is no name", check: HTTPCheck{Name: "  ", Path: "/"}, wantErr: "name is empty"},
		{name: "a name with a line break is refused", check: HTTPCheck{Name: "a\nb", Path: "/"}, wantErr: "name: use at most"},
		{name: "a method with a space is refused", check: HTTPCheck{Name: "x", Method: "GET /", Path: "/"}, wantErr: `method "GET /" is not an HTTP method`},
		{name: "a lower-case method is refused with the fix", check: HTTPCheck{Name: "x", Method: "get", Path: "/"}, wantErr: "case-sensitive: write GET"},
		{name: "a path without a slash is refused with the fix", check: HTTPCheck{Name: "x", Path: "login"}, wantErr: `must start with "/"`},
		{name: "an empty path is refused", check: HTTPCheck{Name: "x"}, wantErr: `path "" must start with "/"`},
		{name: "a URL is refused: the check always goes to the app", check: HTTPCheck{Name: "x", Path: "https://evil.example.com/"}, wantErr: "is a URL"},
		{name: "a path with a space is refused", check: HTTPCheck{Name: "x", Path: "/a b"}, wantErr: "percent-encode"},
		{name: "a path with a fragment is refused", check: HTTPCheck{Name: "x", Path: "/a#top"}, wantErr: "fragment"},
		{name: "a path with a control character is refused", check: HTTPCheck{Name: "x", Path: "/a\r\nX-Injected: 1"}, wantErr: "control character"},
		{name: "a status below 100 is refused", check: HTTPCheck{Name: "x", Path: "/", Status: []int{20}}, wantErr: "status 20 is not an HTTP status"},
		{name: "a status above 599 is refused", check: HTTPCheck{Name: "x", Path: "/", Status: []int{600}}, wantErr: "use 100-599"},
		{name: "a Host header is refused", check: HTTPCheck{Name: "x", Path: "/", Headers: map[string]string{"host": "evil"}}, wantErr: "header Host"},
		{name: "a header name with a colon is refused", check: HTTPCheck{Name: "x", Path: "/", Headers: map[string]string{"X-A:": "1"}}, wantErr: "not an HTTP header name"},
		{name: "a header value with a line break is refused", check: HTTPCheck{Name: "x", Path: "/", Headers: map[string]string{"X-A": "1\r\nX-B: 2"}}, wantErr: "line break"},
		{name: "the same expected and forbidden text can never pass", check: HTTPCheck{Name: "x", Path: "/", ExpectText: "a", NotText: "a"}, wantErr: "could never pass"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateHTTP(tt.check)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}
