package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
)

// gate is a reverse proxy between the bridge and the fake forge that can hold every request.
// With -hold-workers, phase 1 runs with the gate shut: the bridge's workers wait on their first
// forge call (the trust check), which they make before writing to the store, so the intake path
// runs alone and its own capacity is measured. The gate opens after phase 1 (and before the
// bridge's 30 s API timeout would turn a held trust check into a refusal).
type gate struct {
	srv  *httptest.Server
	mu   sync.Mutex
	open chan struct{} // closed while the gate is open
}

// newGate starts an open gate in front of target.
func newGate(target string) (*gate, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	g := &gate{open: make(chan struct{})}
	close(g.open)
	proxy := httputil.NewSingleHostReverseProxy(u)
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		open := g.open
		g.mu.Unlock()
		select {
		case <-open:
		case <-r.Context().Done():
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	return g, nil
}

// hold shuts the gate: requests from now on wait for release.
func (g *gate) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
		g.open = make(chan struct{})
	default: // already held
	}
}

// release opens the gate and lets every held request through.
func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

func (g *gate) close() {
	g.release()
	g.srv.Close()
}
