package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// HealthPath answers 200 "ok" on any Host, so tests can tell the front door is up. The
// ConfigHeader it carries tells which deployment answered (an update may still be rolling).
const (
	HealthPath   = "/ccci-frontdoor/healthz"
	ConfigHeader = "X-Ccci-Frontdoor-Config"
)

// notFoundBody is traefik's exact body for a host no router matches.
const notFoundBody = "404 page not found\n"

// serviceSource lists the swarm services with their labels.
type serviceSource interface {
	Services(ctx context.Context) ([]service, error)
}

// frontDoor routes requests by Host header to the services' tasks, like traefik on the proxy
// network. The routing table is rebuilt from labels when older than ttl, so a freshly deployed
// app is reachable within ttl.
type frontDoor struct {
	src       serviceSource
	transport http.RoundTripper
	ttl       time.Duration
	log       *slog.Logger
	config    string // echoed in ConfigHeader on HealthPath

	mu       sync.Mutex
	table    table
	fetched  time.Time
	problems string // last logged problems, so an unchanged list is not logged every refresh
}

func (f *frontDoor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == HealthPath {
		w.Header().Set(ConfigHeader, f.config)
		_, _ = io.WriteString(w, "ok")
		return
	}
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	rt, ok, err := f.lookup(r.Context(), host)
	if err != nil {
		f.log.Error("read routes", "err", err)
		http.Error(w, "Bad Gateway", http.StatusBadGateway)
		return
	}
	if !ok {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, notFoundBody)
		return
	}
	f.proxy(rt).ServeHTTP(w, r)
}

func (f *frontDoor) proxy(rt route) *httputil.ReverseProxy {
	target := &url.URL{Scheme: "http", Host: rt.target()}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // apps see their own domain, as behind traefik
			pr.SetXForwarded()
		},
		Transport: f.transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			f.log.Warn("upstream unreachable", "host", r.Host, "target", target.Host, "err", err)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "Bad Gateway")
		},
	}
}

// lookup returns host's route, refreshing the table when it is stale, and once more when the
// host is unknown: an app deployed a moment ago must not get a 404 from a stale table.
func (f *frontDoor) lookup(ctx context.Context, host string) (route, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	refreshed := false
	if f.table == nil || time.Since(f.fetched) > f.ttl {
		if err := f.refresh(ctx); err != nil {
			return route{}, false, err
		}
		refreshed = true
	}
	rt, ok := f.table[host]
	if !ok && !refreshed {
		if err := f.refresh(ctx); err != nil {
			return route{}, false, err
		}
		rt, ok = f.table[host]
	}
	return rt, ok, nil
}

// refresh rebuilds the table from the services' labels; f.mu must be held.
func (f *frontDoor) refresh(ctx context.Context) error {
	svcs, err := f.src.Services(ctx)
	if err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	t, problems := buildTable(svcs)
	if joined := strings.Join(problems, "\n"); joined != f.problems {
		for _, p := range problems {
			f.log.Warn("skipped traefik label", "problem", p)
		}
		f.problems = joined
	}
	f.table, f.fetched = t, time.Now()
	return nil
}
