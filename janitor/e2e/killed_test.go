package e2e_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/internal/testkit"
)

// TestOnePassCleansUpAfterAKilledRun kills a real run the ways Drone can, then runs one janitor
// pass and a new run of the same recipe and PR.
func TestOnePassCleansUpAfterAKilledRun(t *testing.T) {
	tests := []struct {
		name    string
		suffix  string
		trigger []string // the kill happens once a line with all of these has been printed
		group   bool     // SIGKILL the whole process group, not only the wrapper
		// wantLeft: something of the app was still on the swarm for the janitor (false: the
		// guarded child tore itself down on PDEATHSIG and only the lockfile is left).
		wantLeft bool
	}{
		{"killing only the wrapper mid-deploy leaves just the lockfile for the janitor", "j1.local",
			[]string{"FAKE abra", "app deploy"}, false, false},
		{"killing the whole process group as abra app deploy starts leaves the .env and secrets", "j2.local",
			[]string{"FAKE abra", "app deploy"}, true, true},
		{"killing the whole process group mid-deploy (converging) leaves the stack", "j3.local",
			[]string{"waiting for", "to converge"}, true, true},
		{"killing the whole process group mid-backup leaves the stack", "j4.local",
			[]string{"FAKE abra", "app backup create"}, true, true},
		{"killing only the wrapper mid-backup leaves just the lockfile for the janitor", "j5.local",
			[]string{"FAKE abra", "app backup create"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			h := newHost(t, tt.suffix)
			rec, err := testkit.MakeRecipe(filepath.Join(t.TempDir(), "sample"), testkit.Good)
			require.NoError(t, err)
			const pr = "7"
			domain := h.domainOf(rec.Head, pr)
			stack := naming.Stack(domain)

			run := startRun(t, h, rec.Src, rec.Head, pr, tt.trigger...)
			target := run.cmd.Process.Pid
			if tt.group {
				target = -target
			}
			require.NoError(t, unix.Kill(target, unix.SIGKILL))
			assertKilledBy(t, run)
			awaitGone(t, h.marker(), 2*time.Minute)
			require.FileExists(t, h.applockPath(domain), "a killed run leaves its lockfile")
			killed := time.Since(start)
			left := residue(t, stack)
			if tt.wantLeft {
				require.False(t, left.Empty(), "the killed run left its app on the swarm")
				require.FileExists(t, h.EnvPath(domain), "the killed run left its .env")
			} else {
				require.True(t, left.Empty(), "the guarded child tore itself down: %+v", left)
			}

			lines := janitorPass(t, h)

			line := candidateLine(t, lines, domain)
			assert.Equal(t, "reap", line["decision"], "%v", line)
			if tt.wantLeft {
				assert.Contains(t, line["reason"], "torn down under the lock")
			} else {
				assert.Contains(t, line["reason"], "nothing deployed")
			}
			requireNothingLeft(t, stack)
			assert.NoFileExists(t, h.EnvPath(domain), "the app's .env is gone")
			assert.NoFileExists(t, h.applockPath(domain), "the lockfile is gone")
			reaped := time.Since(start)

			t.Logf("killed after %.1fs leaving %+v; reaped by %.1fs (%s, %.2fs)",
				killed.Seconds(), left, reaped.Seconds(), line["reason"], line["duration"].(float64)/1e9)
			if !tt.wantLeft {
				// Nothing of the app was left to get in a new run's way: the lock is free and the
				// lockfile gone, which the lines above proved. A new run is proven where the janitor
				// had something to reap.
				return
			}
			code, out := completeRun(t, h, rec.Src, rec.Head, pr)
			require.Equal(t, 0, code, "a new run of the same recipe and PR must pass:\n%s", out)
			requireNothingLeft(t, stack)
			_, err = os.Stat(h.EnvPath(domain))
			assert.ErrorIs(t, err, os.ErrNotExist)
			t.Logf("new run passed by %.1fs", time.Since(start).Seconds())
		})
	}
}
