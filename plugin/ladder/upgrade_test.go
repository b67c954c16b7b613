package ladder

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/swarm"
)

func TestConvergence(t *testing.T) {
	t.Parallel()
	crash := &swarm.CrashLoopError{Service: testStack + "_app", Failures: 3, ExitCode: 2, Err: "task: non-zero exit (2)",
		LastLogs: []string{"2024/01/01 config: reading app.ini", "panic: cannot connect to db: connection refused"}}
	tests := []struct {
		name        string
		waitErrs    []error // per WaitConverged call: install, upgrade, restore
		tier        string
		want        results.Status
		wantReason  string
		wantExcerpt string
		wantLog     []string
	}{
		{name: "a crash loop after the upgrade fails upgrade with the crash's log lines as the excerpt",
			waitErrs: []error{nil, crash}, tier: results.TierUpgrade, want: results.Fail,
			wantReason: "is crash-looping", wantExcerpt: "2024/01/01 config: reading app.ini\npanic: cannot connect to db: connection refused",
			wantLog: []string{"app new " + testBase, "deploy " + testBase, "deploy chaos"}},
		{name: "a crash loop at install fails install with the crash's log lines as the excerpt",
			waitErrs: []error{fmt.Errorf("wait for %s: %w", testStack, crash)}, tier: results.TierInstall, want: results.Fail,
			wantReason: "is crash-looping", wantExcerpt: "2024/01/01 config: reading app.ini\npanic: cannot connect to db: connection refused",
			wantLog: []string{"app new " + testBase, "deploy " + testBase}},
		{name: "a swarm rollback after the upgrade fails upgrade",
			waitErrs: []error{nil, &swarm.RollbackError{Service: testStack + "_app", State: "rollback_started", Message: "update paused due to failure or early termination of task"}},
			tier:     results.TierUpgrade, want: results.Fail, wantReason: `swarm state "rollback_started"`,
			wantLog: []string{"app new " + testBase, "deploy " + testBase, "deploy chaos"}},
		{name: "a stack that never converges after the upgrade fails upgrade",
			waitErrs: []error{nil, &swarm.TimeoutError{Stack: testStack, Waited: time.Minute, Services: []string{"app 0/1: task state 'starting'"}}},
			tier:     results.TierUpgrade, want: results.Fail, wantReason: "did not converge after 1m0s: app 0/1",
			wantLog: []string{"app new " + testBase, "deploy " + testBase, "deploy chaos"}},
		{name: "the Docker API failing during the upgrade's wait is unverified, not the recipe's fault",
			waitErrs: []error{nil, errors.New("list tasks: Cannot connect to the Docker daemon")},
			tier:     results.TierUpgrade, want: results.Unverified, wantReason: "Cannot connect to the Docker daemon",
			wantLog: []string{"app new " + testBase, "deploy " + testBase, "deploy chaos"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.Swarm.WaitErrs = tt.waitErrs
			out := w.run(t.Context())

			tiers := climb(t, out)
			got := tiers[tt.tier]
			assert.Equal(t, tt.want, got.Status)
			assert.Contains(t, got.Reason, tt.wantReason)
			assert.Equal(t, tt.wantExcerpt, out.FailureExcerpt)
			assert.Equal(t, tt.wantLog, w.Abra.Log())
			assertNotReached(t, tiers, tt.tier, ladderOrder[slices.Index(ladderOrder, tt.tier)+1:]...)
			assert.Len(t, w.Swarm.Waits, len(tt.waitErrs))
		})
	}
}

func TestChaosVersionLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		label      string
		disagree   bool // another service carries a different chaos-version
		want       results.Status
		wantReason string
	}{
		{name: "a short label naming the head passes", label: testHead[:8], want: results.Pass},
		{name: "the full head as the label passes", label: testHead, want: results.Pass},
		{name: "a label naming another commit fails upgrade", label: "fedcba98", want: results.Fail,
			wantReason: "chaos-version=fedcba98 does not name the PR head 01234567"},
		{name: "a label marking uncommitted changes fails upgrade", label: testHead[:8] + "+U", want: results.Fail,
			wantReason: "abra deployed a dirty tree"},
		{name: "no label after the chaos deploy fails upgrade", label: "", want: results.Fail,
			wantReason: "no " + chaosLabel + " label"},
		{name: "a label too short to name a commit fails upgrade", label: testHead[:3], want: results.Fail,
			wantReason: "does not name the PR head"},
		{name: "services disagreeing on the label is unverified", label: testHead[:8], disagree: true, want: results.Unverified,
			wantReason: "disagree on label " + chaosLabel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.ChaosLabel = tt.label
			if tt.disagree {
				deploy := w.Abra.OnDeploy
				w.Abra.OnDeploy = func(version string, chaos bool) {
					deploy(version, chaos)
					if chaos {
						w.Swarm.Labels["db"][chaosLabel] = "fedcba98"
					}
				}
			}
			out := w.run(t.Context())

			tiers := climb(t, out)
			upgrade := tiers[results.TierUpgrade]
			assert.Equal(t, tt.want, upgrade.Status, upgrade.Reason)
			assert.Contains(t, upgrade.Reason, tt.wantReason)
			if tt.want == results.Pass {
				assert.Equal(t, results.Pass, checkOf(t, upgrade, "chaos-version label").Status)
				assert.Equal(t, results.Pass, tiers[results.TierRestore].Status)
				return
			}
			assertNotReached(t, tiers, results.TierUpgrade, results.TierBackup, results.TierRestore)
			assert.Equal(t, []string{"app new " + testBase, "deploy " + testBase, "deploy chaos"}, w.Abra.Log())
			assert.NotContains(t, w.Door.Hosts(), "", "no request without a Host")
			assert.Len(t, w.Door.Hosts(), 1, "the front door is asked only at install: the label check comes first")
		})
	}
}

func TestUpgradeData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		atUpgrade  func(w *world)
		readErr    bool
		wantReason []string
		notReason  string
	}{
		{name: "data lost across the upgrade fails upgrade naming the data loss",
			atUpgrade:  func(w *world) { clear(w.Data.Values) },
			wantReason: []string{"the upgrade loses data", "ccci-install is absent"}},
		{name: "a datum changed by the upgrade fails upgrade naming what it reads",
			atUpgrade:  func(w *world) { w.Data.Values[keyInstall] = "migrated-garbage" },
			wantReason: []string{"the upgrade loses data", `reads "migrated-garbage"`}},
		{name: "a datum emptied by the upgrade is data loss, not a restore problem",
			atUpgrade:  func(w *world) { w.Data.Values[keyInstall] = "" },
			wantReason: []string{"the upgrade loses data", `reads ""`}, notReason: "after the backup"},
		{name: "a data probe that cannot read after the upgrade fails upgrade",
			atUpgrade:  func(w *world) { w.Data.ReadErr = errors.New("data-read: exit status 1: 500 Internal Server Error") },
			wantReason: []string{"read ccci-install through the data probe", "500 Internal Server Error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			deploy := w.Abra.OnDeploy
			w.Abra.OnDeploy = func(version string, chaos bool) {
				deploy(version, chaos)
				if chaos {
					tt.atUpgrade(w)
				}
			}
			out := w.run(t.Context())

			tiers := climb(t, out)
			upgrade := tiers[results.TierUpgrade]
			require.Equal(t, results.Pass, tiers[results.TierInstall].Status, tiers[results.TierInstall].Reason)
			assert.Equal(t, results.Fail, upgrade.Status)
			for _, want := range tt.wantReason {
				assert.Contains(t, upgrade.Reason, want)
			}
			if tt.notReason != "" {
				assert.NotContains(t, upgrade.Reason, tt.notReason)
			}
			assert.Equal(t, results.Fail, checkOf(t, upgrade, "data survives upgrade").Status)
			assertNotReached(t, tiers, results.TierUpgrade, results.TierBackup, results.TierRestore)
			assert.Equal(t, []string{"app new " + testBase, "deploy " + testBase, "deploy chaos"}, w.Abra.Log())
		})
	}
}

func TestUpgradeCheckoutFails(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Git.CheckoutErr = errors.New("git checkout: unable to write new index file")
	out := w.run(t.Context())

	tiers := climb(t, out)
	assert.Equal(t, results.Pass, tiers[results.TierInstall].Status)
	assert.Equal(t, results.Unverified, tiers[results.TierUpgrade].Status)
	assert.Contains(t, tiers[results.TierUpgrade].Reason, "check out the PR head "+testHead)
	assertNotReached(t, tiers, results.TierUpgrade, results.TierBackup, results.TierRestore)
	assert.Equal(t, []string{"app new " + testBase, "deploy " + testBase}, w.Abra.Log(), "nothing is deployed from an unknown tree")
}
