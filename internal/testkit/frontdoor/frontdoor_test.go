package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseHostRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rule    string
		want    []string
		wantErr string
	}{
		{"one host", "Host(`a.ci.local`)", []string{"a.ci.local"}, ""},
		{"two hosts in one matcher", "Host(`a.ci.local`, `www.a.ci.local`)", []string{"a.ci.local", "www.a.ci.local"}, ""},
		{"hosts joined by ||", "Host(`a.ci.local`) || Host(`B.ci.local`)", []string{"a.ci.local", "b.ci.local"}, ""},
		{"double quotes", `Host("a.ci.local")`, []string{"a.ci.local"}, ""},
		{"a path matcher is refused", "Host(`a`) && PathPrefix(`/x`)", nil, "unsupported rule"},
		{"an unquoted host is refused", "Host(a.ci.local)", nil, "not a quoted host name"},
		{"an empty rule is refused", "", nil, "unsupported rule"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseHostRule(tc.rule)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func sampleLabels(stack, domain string) map[string]string {
	return map[string]string{
		"traefik.enable": "true",
		"traefik.http.services." + stack + ".loadbalancer.server.port": "8080",
		"traefik.http.routers." + stack + ".rule":                      "Host(`" + domain + "`)",
		"traefik.http.routers." + stack + ".entrypoints":               "web-secure",
	}
}

func TestBuildTableReadsRecipeStyleLabels(t *testing.T) {
	t.Parallel()
	disabled := sampleLabels("off", "off.ci.local")
	disabled["traefik.enable"] = "false"
	twoPorts := map[string]string{
		"traefik.enable": "true",
		"traefik.http.services.web.loadbalancer.server.port": "80",
		"traefik.http.services.api.loadbalancer.server.port": "9000",
		"traefik.http.routers.r1.rule":                       "Host(`api.ci.local`)",
		"traefik.http.routers.r1.service":                    "api",
		"traefik.http.routers.web.rule":                      "Host(`web.ci.local`)",
		"traefik.http.routers.lost.rule":                     "Host(`lost.ci.local`)",
	}
	got, problems := buildTable([]service{
		{Name: "samp-1a2b3c_ci_local_app", Labels: sampleLabels("samp-1a2b3c_ci_local", "samp-1a2b3c.ci.local")},
		{Name: "off_app", Labels: disabled},
		{Name: "multi_app", Labels: twoPorts},
		{Name: "zzz_dup", Labels: sampleLabels("dup", "samp-1a2b3c.ci.local")},
		{Name: "bare", Labels: map[string]string{"com.docker.stack.namespace": "bare"}},
	})
	assert.Equal(t, table{
		"samp-1a2b3c.ci.local": {Service: "samp-1a2b3c_ci_local_app", Port: "8080"},
		"api.ci.local":         {Service: "multi_app", Port: "9000"},
		"web.ci.local":         {Service: "multi_app", Port: "80"},
	}, got)
	assert.Equal(t, "tasks.samp-1a2b3c_ci_local_app:8080", got["samp-1a2b3c.ci.local"].target())
	require.Len(t, problems, 2)
	assert.Contains(t, problems[0], "router lost")
	assert.Contains(t, problems[1], "claimed by samp-1a2b3c_ci_local_app and zzz_dup")
}

type fakeSource struct {
	services []service
	err      error
	calls    int
}

func (f *fakeSource) Services(context.Context) ([]service, error) {
	f.calls++
	return f.services, f.err
}

// dialTo sends every upstream connection to addr, standing in for overlay DNS of tasks.<svc>.
func dialTo(addr string) http.RoundTripper {
	return &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
}

func get(t *testing.T, h http.Handler, host, path string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host = host
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return rec.Code, string(body)
}

func TestFrontDoorRoutesByHostAndAnswersLikeTraefik(t *testing.T) {
	t.Parallel()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "app saw host "+r.Host+" path "+r.URL.Path)
	}))
	defer upstream.Close()
	src := &fakeSource{services: []service{{Name: "s_app", Labels: sampleLabels("s", "s.ci.local")}}}
	fd := &frontDoor{src: src, transport: dialTo(upstream.Listener.Addr().String()), ttl: time.Hour, log: slog.New(slog.DiscardHandler), config: "cfg-1"}

	code, body := get(t, fd, "S.ci.local:8480", "/page")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "app saw host S.ci.local:8480 path /page", body)

	code, body = get(t, fd, "unknown.ci.local", "/")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, "404 page not found\n", body)

	req := httptest.NewRequest(http.MethodGet, HealthPath, nil)
	req.Host = "whatever"
	rec := httptest.NewRecorder()
	fd.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "ok", rec.Body.String())
	assert.Equal(t, "cfg-1", rec.Header().Get(ConfigHeader))
	assert.Equal(t, 2, src.calls, "the table is cached for ttl, and re-read once for an unknown host")

	src.services = append(src.services, service{Name: "new_app", Labels: sampleLabels("new", "new.ci.local")})
	code, _ = get(t, fd, "new.ci.local", "/")
	assert.Equal(t, http.StatusOK, code, "an app deployed after the last read is found at once")
}

func TestFrontDoorAnswers502WhenTheUpstreamIsGoneOrLabelsCannotBeRead(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadAddr := ln.Addr().String()
	require.NoError(t, ln.Close())
	src := &fakeSource{services: []service{{Name: "s_app", Labels: sampleLabels("s", "s.ci.local")}}}
	fd := &frontDoor{src: src, transport: dialTo(deadAddr), ttl: 0, log: slog.New(slog.DiscardHandler)}

	code, body := get(t, fd, "s.ci.local", "/")
	assert.Equal(t, http.StatusBadGateway, code)
	assert.Equal(t, "Bad Gateway", body)

	src.err = errors.New("docker socket gone")
	code, body = get(t, fd, "s.ci.local", "/")
	assert.Equal(t, http.StatusBadGateway, code)
	assert.Equal(t, "Bad Gateway", strings.TrimSpace(body))
	assert.Equal(t, 2, src.calls, "a zero ttl re-reads labels on every request")
}
