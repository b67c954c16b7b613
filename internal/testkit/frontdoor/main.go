// Command frontdoor is the FAKE front door, TEST SUPPORT code: a traefik stand-in for the test
// swarm (DESIGN.md section 9). It runs as swarm stack "ccci-frontdoor" on the attachable overlay
// network "proxy", is the only service with a published (host-mode) port, and routes by Host
// header to `tasks.<service>:<port>` as declared by the apps' traefik labels, which it reads from
// the Docker socket. Unknown hosts get traefik's exact 404 body.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

// routeTTL bounds how stale the routing table may be: short, because tests hit a new app right
// after its deploy converged.
const routeTTL = 500 * time.Millisecond

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, log); err != nil {
		log.Error("frontdoor failed", "err", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger) error {
	addr := os.Getenv("FRONTDOOR_LISTEN")
	if addr == "" {
		addr = ":80"
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return fmt.Errorf("docker client: %w", err)
	}
	defer cli.Close()
	fd := &frontDoor{src: dockerSource{cli}, transport: newTransport(), ttl: routeTTL, log: log,
		config: os.Getenv("FRONTDOOR_CONFIG")}
	srv := &http.Server{Addr: addr, Handler: fd, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("FAKE front door (cc-ci test double) listening", "addr", addr)
	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", addr, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// newTransport dials upstreams with short timeouts: a task that is gone should be a quick 502.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 30 * time.Second
	t.IdleConnTimeout = 5 * time.Second // task IPs change on every redeploy
	return t
}

// dockerSource lists traefik-enabled swarm services through the Docker API.
type dockerSource struct{ cli *client.Client }

func (d dockerSource) Services(ctx context.Context) ([]service, error) {
	list, err := d.cli.ServiceList(ctx, swarm.ServiceListOptions{
		Filters: filters.NewArgs(filters.Arg("label", "traefik.enable=true")),
	})
	if err != nil {
		return nil, err
	}
	out := make([]service, 0, len(list))
	for _, s := range list {
		out = append(out, service{Name: s.Spec.Name, Labels: s.Spec.Labels})
	}
	return out, nil
}
