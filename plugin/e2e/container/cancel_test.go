package container

import (
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/applock"
	"coopcloud.tech/cc-ci/internal/naming"
)

// TestACancelledStepLeavesNothingAfterOneJanitorPass ends the step's container mid-deploy the two
// ways it can end: `docker stop` (SIGTERM to the plugin as PID 1, SIGKILL after docker's 10 s
// grace), and `docker kill` (SIGKILL at once, which is what Drone's docker runner does when a
// build is cancelled or times out: drone-runner-docker engine/engine.go Destroy,
// ContainerKill(ctx, id, "9")). Either way ONE janitor pass on the host leaves nothing.
func TestACancelledStepLeavesNothingAfterOneJanitorPass(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		suffix  string
		number  int64
		pr      string
		stop    []string // the docker command that ends the container
		codes   []int    // the container's possible exit codes
		wantApp bool     // the app's stack must still be there for the janitor
		// signalled: PID 1 caught the signal and passed it to the guarded child (a PID 1 with
		// no handler would not even see SIGTERM, and docker would SIGKILL it after the grace).
		signalled bool
	}{
		{"docker stop: the plugin (PID 1) gets SIGTERM and tears down until the grace runs out", "img3.local", 4103, "63",
			[]string{"stop"}, []int{143, 137}, false, true},
		{"docker kill, as Drone cancels: SIGKILL leaves the app for the janitor", "img4.local", 4104, "64",
			[]string{"kill", "--signal", "KILL"}, []int{137}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHost(t, tt.suffix)
			b := newBuild(t, tt.number, tt.pr)
			domain := b.domain(h)
			stack := naming.Stack(domain)
			s := startStep(t, h, b)
			s.awaitLine(4*time.Minute, "waiting for", "to converge")
			require.FileExists(t, applock.Path(h.LockDir, domain), "the run holds its app lock in the mounted lock dir")

			out, err := exec.Command("docker", append(tt.stop, s.name)...).CombinedOutput()
			require.NoError(t, err, "%s", out)
			code := s.exitCode(2 * time.Minute)
			assert.Contains(t, tt.codes, code, "exit code of the stopped container")
			left := residue(t, stack)
			t.Logf("%v ended the step with %d, leaving %+v", tt.stop, code, left)
			if tt.wantApp {
				require.False(t, left.Empty(), "a SIGKILLed run cannot tear down: its app is still there")
				require.FileExists(t, h.EnvPath(domain), "and its .env")
			}
			if tt.signalled {
				assert.Contains(t, s.output(), "forwarded signal to guarded child", "PID 1 caught SIGTERM")
			} else {
				assert.NotContains(t, s.output(), "forwarded signal to guarded child")
			}
			if code == 143 {
				assert.Contains(t, s.output(), "TEARDOWN", "SIGTERM ran the teardown")
			}

			lines := janitorPass(t, h)

			var found []map[string]any
			for _, e := range lines {
				if e["msg"] == "candidate" && e["domain"] == domain {
					found = append(found, e)
				}
			}
			require.Len(t, found, 1, "one janitor line for %s in %v", domain, lines)
			assert.Equal(t, "reap", found[0]["decision"], "%v", found[0])
			assert.NoFileExists(t, applock.Path(h.LockDir, domain), "the janitor unlinks the lockfile")
			assertNothingLeft(t, h, b)
		})
	}
}
