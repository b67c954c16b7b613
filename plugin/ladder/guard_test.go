package ladder

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
)

// fakeGuard answers the policy check per app (by stack), as plugin/run's guard answers from
// plugin/policy, and records what it was asked about.
type fakeGuard struct {
	Refused map[string][]string
	Allowed map[string][]string
	Err     error
	Asked   []string
}

func (g *fakeGuard) Check(_ context.Context, _, _, stack string) (Guarded, error) {
	g.Asked = append(g.Asked, roleOf(stack))
	return Guarded{Refused: g.Refused[stack], Allowed: g.Allowed[stack]}, g.Err
}

func TestTheGuard(t *testing.T) {
	t.Parallel()
	socket := "service app: volumes: /var/run/docker.sock:/var/run/docker.sock in compose.yml mounts the Docker socket"
	tests := []struct {
		name       string
		guard      *fakeGuard
		wantStatus results.Status
		wantReason string
		wantLog    []string
	}{
		{"a refused construct fails install before anything is deployed",
			&fakeGuard{Refused: map[string][]string{freshStack: {socket}}},
			results.Fail, "refused before deploying the PR head .*Docker socket", []string{"fresh: app new --chaos"}},
		{"a configuration that cannot be read fails install before deploying",
			&fakeGuard{Err: errors.New("compose.yml: yaml: line 3: did not find expected key")},
			results.Fail, "could not be checked before deploying", []string{"fresh: app new --chaos"}},
		{"an allowed construct deploys and is listed",
			&fakeGuard{Allowed: map[string][]string{freshStack: {"docker-socket for service app (traefik reads the swarm)"}, upgradeStack: {"docker-socket for service app (traefik reads the swarm)"}}},
			results.Pass, "", goodLog},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			l := w.ladder()
			l.Guard = tt.guard
			out := l.Run(context.Background())
			install := out.Tiers[0]
			require.Equal(t, results.TierInstall, install.Name)
			assert.Equal(t, tt.wantStatus, install.Status, install.Reason)
			assert.Regexp(t, tt.wantReason, install.Reason)
			assert.Equal(t, tt.wantLog, w.Abra.Log())
			if tt.wantStatus == results.Pass {
				assert.Equal(t, []string{"docker-socket for service app (traefik reads the swarm)"}, out.Allowances, "each allowance is listed once")
				assert.Contains(t, tt.guard.Asked, results.RoleUpgrade, "every deploy is judged, the upgrade's too")
			}
		})
	}
}
