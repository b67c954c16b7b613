package run

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"time"
)

// probeHost is the Host the infrastructure check sends to the front door: a name under the CI
// domain suffix that no app has, so the proxy answers for itself (traefik: 404 page not found)
// and an https front door presents the wildcard certificate the apps are served under.
const probeHost = "ccci-infra-probe"

// checkInfra proves, before anything is deployed, that the box can run the ladder: Docker answers
// as a swarm manager (swarm.New already checked), abra is there, and the front door answers
// through the same client and TLS name checks the ladder uses. A failure is the box's (exit 3,
// verdict unverified), never the recipe's.
func (r *runner) checkInfra(ctx context.Context) error {
	s := r.s
	if _, err := exec.LookPath(s.AbraBin); err != nil {
		return fmt.Errorf("abra is not installed at %q (%v): install abra or set CCCI_ABRA_BIN", s.AbraBin, err)
	}
	host := probeHost + "." + s.DomainSuffix
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, strings.TrimRight(s.FrontDoor, "/")+"/", nil)
	if err != nil {
		return fmt.Errorf("front door %s: %w", s.FrontDoor, err)
	}
	req.Host = host
	resp, err := r.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("the front door %s does not answer for Host %s: %w (start the proxy on the proxy network, fix CCCI_FRONTDOOR_URL, or for https serve a certificate valid for *.%s)",
			s.FrontDoor, host, err, s.DomainSuffix)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	r.printf("==> [%7.1fs] INFRA    docker swarm manager, abra %s, front door %s answers (HTTP %d for an unknown host)\n",
		r.elapsed(), s.AbraBin, s.FrontDoor, resp.StatusCode)
	return nil
}
