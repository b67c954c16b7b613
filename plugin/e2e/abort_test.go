package e2e_test

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/applock"
	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/testkit"
)

// startPlugin starts the plugin on the good sample and returns it with a channel of its output
// lines, so a test can act at a named stage.
func startPlugin(t *testing.T, dir string, rec testkit.Recipe, pr string, extraEnv ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(env.Bins["cc-ci-plugin"])
	cmd.Env = env.PluginEnv(testkit.NewHost(dir, suffix), rec.Src, rec.Head, pr, extraEnv...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = cmd.Stdout
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, lines
}

// waitForLine consumes lines until one contains want; the whole output so far is returned.
func waitForLine(t *testing.T, lines <-chan string, want string) string {
	t.Helper()
	var seen strings.Builder
	timeout := time.After(3 * time.Minute)
	for {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "plugin ended before printing %q:\n%s", want, seen.String())
			seen.WriteString(l + "\n")
			if strings.Contains(l, want) {
				return seen.String()
			}
		case <-timeout:
			t.Fatalf("no line containing %q within 3m:\n%s", want, seen.String())
		}
	}
}

func drain(lines <-chan string) string {
	var b strings.Builder
	for l := range lines {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// assertAbortedCleanly checks an aborted run: its exit code, an unverified results.json that
// says why, nothing left on the swarm and the app lock free.
func assertAbortedCleanly(t *testing.T, dir string, rec testkit.Recipe, pr string, code, wantCode int, out string) *results.Results {
	t.Helper()
	assert.Equal(t, wantCode, code, out)
	matches, _ := filepath.Glob(filepath.Join(dir, "runs", "*", "results.json"))
	require.Len(t, matches, 1, "the teardown funnel must write results.json:\n%s", out)
	res, err := results.ReadFile(matches[0])
	require.NoError(t, err)
	assert.Equal(t, results.VerdictUnverified, res.Verdict, "an aborted run is never pass or fail")
	require.NotNil(t, res.Tier(results.TierInstall), "every tier is reported, decided or not")
	require.NotNil(t, res.Tier(results.TierRestore), "every tier is reported, decided or not")
	assert.True(t, res.Teardown.Clean, "residue: %v", res.Teardown.Residue)
	for _, domain := range []string{naming.Domain("sample", pr, rec.Head, suffix), naming.UpgradeDomain("sample", pr, rec.Head, suffix)} {
		assertNothingLeft(t, naming.Stack(domain))
		assert.NoFileExists(t, testkit.NewHost(dir, suffix).EnvPath(domain), "the app's .env must be removed")
		lock, err := applock.TryAcquire(filepath.Join(dir, "lock"), domain)
		require.NoError(t, err, "both app locks must be free after the run ended")
		require.NoError(t, lock.Release())
	}
	return res
}

func TestSIGTERMMidUpgradeTearsDownAndExits143(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := makeRecipe(t, testkit.Good)
	cmd, lines := startPlugin(t, dir, rec, "4")
	up := naming.UpgradeDomain("sample", "4", rec.Head, suffix)
	before := waitForLine(t, lines, "UPGRADE  abra app deploy "+up+" the PR head")
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM), "signal the wrapper, as Drone does on cancel")
	out := before + drain(lines)
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	res := assertAbortedCleanly(t, dir, rec, "4", ee.ExitCode(), 143, out)
	assert.Contains(t, out, "TEARDOWN")
	assert.Equal(t, results.Pass, res.Tier(results.TierInstall).Status, "what was proven before the signal is kept")
	upgrade := res.Tier(results.TierUpgrade)
	require.NotNil(t, upgrade)
	assert.Equal(t, results.Unverified, upgrade.Status)
	assert.Contains(t, upgrade.Reason, "signal", "the reason names the abort's cause")
}

func TestDeadlineMidRunTearsDownAndExits142(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := makeRecipe(t, testkit.Good)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	// 12 s lands inside the install or upgrade wait (install converges after ~8 s).
	cmd, lines := startPlugin(t, dir, rec, "5", "CCCI_DEADLINE=12s")
	out := drain(lines)
	err := cmd.Wait()
	require.NoError(t, ctx.Err())
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, out)
	res := assertAbortedCleanly(t, dir, rec, "5", ee.ExitCode(), 142, out)
	var reasons []string
	for _, tr := range res.Tiers {
		reasons = append(reasons, tr.Reason)
	}
	assert.Contains(t, strings.Join(reasons, "\n"), "deadline", "the reason names the abort's cause")
}
