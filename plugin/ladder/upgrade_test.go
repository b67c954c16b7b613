package ladder

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/abra"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/swarm"
)

// upgradeLog is the call log up to and including the upgrade's chaos deploy.
var upgradeLog = goodLog[:5]

func TestConvergence(t *testing.T) {
	t.Parallel()
	crash := &swarm.CrashLoopError{Service: upgradeStack + "_app", Failures: 3, ExitCode: 2, Err: "task: non-zero exit (2)",
		LastLogs: []string{"2024/01/01 config: reading app.ini", "panic: cannot connect to db: connection refused"}}
	crashLogs := "2024/01/01 config: reading app.ini\npanic: cannot connect to db: connection refused"
	rollback := &swarm.RollbackError{Service: upgradeStack + "_app", State: "rollback_started", Message: "update paused due to failure or early termination of task"}
	refused := &swarm.ImageError{Service: freshStack + "_app", Image: "gitea/gitea:9.9.9", Reason: "manifest unknown: manifest unknown"}
	unreachable := &swarm.ImageError{Service: freshStack + "_app", Image: "gitea/gitea:1.21", Reason: "dial tcp: lookup registry-1.docker.io: no such host", Unreachable: true}
	engineRollback := &swarm.RollbackError{Service: upgradeStack + "_app", State: "paused", Message: "update paused due to failure",
		TaskErr: "starting container failed: unable to remount dir as readonly: device or resource busy", EngineFault: "moby/moby#48783"}
	engineCrash := &swarm.CrashLoopError{Service: freshStack + "_app", Failures: 3, Err: "starting container failed: unable to remount dir as readonly", EngineFault: "moby/moby#48783"}
	tests := []struct {
		name        string
		waitErrs    map[string][]error // per stack, per wait: the fresh app's, then the base's and the upgrade's
		tier        string
		want        results.Status
		wantReason  string
		wantExcerpt string
		wantLog     []string
	}{
		{name: "a crash loop after the upgrade fails upgrade with the crash's log lines as the excerpt",
			waitErrs: map[string][]error{upgradeStack: {nil, crash}}, tier: results.TierUpgrade, want: results.Fail,
			wantReason: "is crash-looping", wantExcerpt: crashLogs, wantLog: upgradeLog},
		{name: "a crash loop of the fresh install fails install with the crash's log lines as the excerpt",
			waitErrs: map[string][]error{freshStack: {fmt.Errorf("wait for %s: %w", freshStack, crash)}}, tier: results.TierInstall, want: results.Fail,
			wantReason: "is crash-looping", wantExcerpt: crashLogs, wantLog: goodLog[:2]},
		{name: "a swarm rollback after the upgrade fails upgrade",
			waitErrs: map[string][]error{upgradeStack: {nil, rollback}}, tier: results.TierUpgrade, want: results.Fail,
			wantReason: `swarm state "rollback_started"`, wantLog: upgradeLog},
		{name: "a rollback swarm completed before the wait looked fails upgrade all the same",
			waitErrs: map[string][]error{upgradeStack: {nil, &swarm.RollbackError{Service: upgradeStack + "_app", State: "rollback_completed", Message: "rollback completed"}}},
			tier:     results.TierUpgrade, want: results.Fail, wantReason: `swarm state "rollback_completed"`, wantLog: upgradeLog},
		{name: "a rollback wrapped by the watcher fails upgrade",
			waitErrs: map[string][]error{upgradeStack: {nil, fmt.Errorf("wait for %s: %w", upgradeStack, rollback)}},
			tier:     results.TierUpgrade, want: results.Fail, wantReason: "update paused due to failure", wantLog: upgradeLog},
		{name: "a stack that never converges after the upgrade fails upgrade",
			waitErrs: map[string][]error{upgradeStack: {nil, &swarm.TimeoutError{Stack: upgradeStack, Waited: time.Minute, Services: []string{"app 0/1: task state 'starting'"}}}},
			tier:     results.TierUpgrade, want: results.Fail, wantReason: "did not converge after 1m0s: app 0/1", wantLog: upgradeLog},
		{name: "the Docker API failing during the upgrade's wait is unverified, not the recipe's fault",
			waitErrs: map[string][]error{upgradeStack: {nil, errors.New("list tasks: Cannot connect to the Docker daemon")}},
			tier:     results.TierUpgrade, want: results.Unverified, wantReason: "Cannot connect to the Docker daemon", wantLog: upgradeLog},
		{name: "an image the registry says does not exist fails install naming the image",
			waitErrs: map[string][]error{freshStack: {refused}}, tier: results.TierInstall, want: results.Fail,
			wantReason: "image gitea/gitea:9.9.9", wantLog: goodLog[:2]},
		{name: "an image whose registry cannot be reached leaves install unverified",
			waitErrs: map[string][]error{freshStack: {unreachable}}, tier: results.TierInstall, want: results.Unverified,
			wantReason: "no such host", wantLog: goodLog[:2]},
		{name: "an image whose registry cannot be reached after the upgrade leaves upgrade unverified",
			waitErrs: map[string][]error{upgradeStack: {nil, fmt.Errorf("wait: %w", &swarm.ImageError{Service: upgradeStack + "_app", Image: "gitea/gitea:1.22", Reason: "net/http: TLS handshake timeout", Unreachable: true})}}, tier: results.TierUpgrade, want: results.Unverified,
			wantReason: "TLS handshake timeout", wantLog: upgradeLog},
		{name: "an update the engine failed to start twice (a known engine bug) leaves upgrade unverified after one redeploy",
			waitErrs: map[string][]error{upgradeStack: {nil, engineRollback, engineRollback}},
			tier:     results.TierUpgrade, want: results.Unverified, wantReason: swarm.EngineFaultWords + " (moby/moby#48783), not the recipe",
			wantLog: append(slices.Clone(upgradeLog), "upgrade: deploy --chaos")},
		{name: "a crash loop of tasks the engine never started, twice, leaves install unverified after one redeploy",
			waitErrs: map[string][]error{freshStack: {engineCrash, engineCrash}},
			tier:     results.TierInstall, want: results.Unverified, wantReason: swarm.EngineFaultWords, wantLog: append(slices.Clone(goodLog[:2]), "fresh: deploy --chaos")},
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
		})
	}
}

// TestAnEngineFaultIsRetriedOnce: when the engine failed to start a container of a deploy (the
// task never ran the recipe's code), the same files are deployed once more and the second
// deploy's convergence is the result, with a warning that says so. A recipe's own failure is
// never redeployed (TestConvergence's logs hold one deploy each).
func TestAnEngineFaultIsRetriedOnce(t *testing.T) {
	t.Parallel()
	fault := &swarm.RollbackError{Service: upgradeStack + "_app", State: "rollback_completed", Message: "rollback completed",
		TaskErr: "starting container failed: unable to remount dir as readonly: device or resource busy", EngineFault: "moby/moby#48783"}
	crash := &swarm.CrashLoopError{Service: freshStack + "_app", Failures: 3, EngineFault: "moby/moby#48783"}
	tests := []struct {
		name     string
		waitErrs map[string][]error
		tier     string
		log      []string
	}{
		{"the upgrade's chaos deploy", map[string][]error{upgradeStack: {nil, fault}}, results.TierUpgrade,
			[]string{"fresh: app new --chaos", "fresh: deploy --chaos", "upgrade: app new " + testBase, "upgrade: deploy " + testBase,
				"upgrade: deploy --chaos", "upgrade: deploy --chaos", "upgrade: backup create", "upgrade: restore 5a7e0001"}},
		{"the fresh install", map[string][]error{freshStack: {crash}}, results.TierInstall,
			append([]string{"fresh: app new --chaos", "fresh: deploy --chaos"}, goodLog[1:]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.Swarm.WaitErrs = tt.waitErrs
			out := w.run(t.Context())

			tiers := climb(t, out)
			got := tiers[tt.tier]
			assert.Equal(t, results.Pass, got.Status, got.Reason)
			assert.Equal(t, tt.log, w.Abra.Log(), "the same files deployed once more, and only once")
			require.Len(t, got.Warnings, 1)
			assert.Contains(t, got.Warnings[0], swarm.EngineFaultWords+" of ")
			assert.Contains(t, got.Warnings[0], "the same files were deployed again")
		})
	}
}

// TestATaskTheEngineNeverStartedIsNoRestartOfTheRecipes: swarm started it again and the stack
// converged; the recipe restarted nothing, so the tier carries no restart warning.
func TestATaskTheEngineNeverStartedIsNoRestartOfTheRecipes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Swarm.Restarts = map[string][][]swarm.TaskFailure{freshStack: {{{Service: freshStack + "_worker", TaskID: "t1", State: "rejected",
		Err: "starting container failed: unable to remount dir as readonly", At: time.Now(), EngineFault: "moby/moby#48783"}}}}
	out := w.run(t.Context())

	tiers := climb(t, out)
	assert.Equal(t, results.Pass, tiers[results.TierInstall].Status)
	assert.Empty(t, tiers[results.TierInstall].Warnings)
	assert.Contains(t, w.Out.String(), swarm.EngineFaultWords+" of "+freshStack+"_worker", "the log says what happened")
}

// TestRestartsBeforeConvergence: a task that fails before its stack converges (an app that
// started before its database: swarm ignores depends_on) is reported on the tier as a warning,
// not failed; the stability check then counts only failures after convergence.
func TestRestartsBeforeConvergence(t *testing.T) {
	t.Parallel()
	restart := func(stack string) []swarm.TaskFailure {
		return []swarm.TaskFailure{{Service: stack + "_app", TaskID: "t1", State: "failed", ExitCode: 1,
			Err: "task: non-zero exit (1)", At: time.Now(), LastLogs: []string{"dial tcp db:5432: connection refused"}}}
	}
	tests := []struct {
		name     string
		restarts map[string][][]swarm.TaskFailure // per stack, per wait
		tier     string
		stack    string
	}{
		{name: "a restart while the fresh install boots is a warning on install",
			restarts: map[string][][]swarm.TaskFailure{freshStack: {restart(freshStack)}}, tier: results.TierInstall, stack: freshStack},
		{name: "a restart while the upgraded app boots is a warning on upgrade",
			restarts: map[string][][]swarm.TaskFailure{upgradeStack: {nil, restart(upgradeStack)}}, tier: results.TierUpgrade, stack: upgradeStack},
		{name: "a restart while the restored app boots is a warning on restore",
			restarts: map[string][][]swarm.TaskFailure{upgradeStack: {nil, nil, restart(upgradeStack)}}, tier: results.TierRestore, stack: upgradeStack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.Swarm.Restarts = tt.restarts
			out := w.run(t.Context())

			tiers := climb(t, out)
			for _, name := range genericTiers {
				assert.Equal(t, results.Pass, tiers[name].Status, "%s: %s", name, tiers[name].Reason)
			}
			assertGenericTop(t, tiers)
			for _, name := range ladderOrder {
				if name != tt.tier {
					assert.Empty(t, tiers[name].Warnings, name)
				}
			}
			warnings := tiers[tt.tier].Warnings
			require.Len(t, warnings, 1)
			assert.Contains(t, warnings[0], "service "+tt.stack+"_app restarted before converging (exit 1: task: non-zero exit (1))")
			assert.Contains(t, warnings[0], "reported, not failed")
			assert.Equal(t, 3, results.Level(out.Tiers))
			assert.Equal(t, results.VerdictPass, results.Verdict(out.Tiers))
			for _, sc := range w.Swarm.StableChecks {
				assert.True(t, sc.Since.Equal(w.Swarm.convergedAt(sc)), "stability of %s is judged from its convergence", sc.Stack)
			}
		})
	}
}

func TestChaosVersionLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		domain     string // the app whose chaos deploys get the label
		label      string
		disagree   bool // another service of the upgraded app carries a different chaos-version
		tier       string
		want       results.Status
		wantReason string
	}{
		{name: "a short label naming the head passes", domain: upgradeDomain, label: testHead[:8], tier: results.TierUpgrade, want: results.Pass},
		{name: "the full head as the label passes", domain: upgradeDomain, label: testHead, tier: results.TierUpgrade, want: results.Pass},
		{name: "a label naming another commit fails upgrade", domain: upgradeDomain, label: "fedcba98", tier: results.TierUpgrade, want: results.Fail,
			wantReason: "chaos-version=fedcba98 does not name the PR head 01234567"},
		{name: "a label marking uncommitted changes fails upgrade", domain: upgradeDomain, label: testHead[:8] + "+U", tier: results.TierUpgrade, want: results.Fail,
			wantReason: "abra deployed a dirty tree"},
		{name: "no label after the chaos deploy fails upgrade", domain: upgradeDomain, label: "", tier: results.TierUpgrade, want: results.Fail,
			wantReason: "no " + chaosLabel(upgradeStack) + " label"},
		{name: "a label too short to name a commit fails upgrade", domain: upgradeDomain, label: testHead[:3], tier: results.TierUpgrade, want: results.Fail,
			wantReason: "does not name the PR head"},
		{name: "services disagreeing on the label is unverified", domain: upgradeDomain, label: testHead[:8], disagree: true, tier: results.TierUpgrade,
			want: results.Unverified, wantReason: "disagree on label " + chaosLabel(upgradeStack)},
		{name: "a fresh install labelled with another commit fails install: it is not the head", domain: freshDomain, label: "fedcba98",
			tier: results.TierInstall, want: results.Fail, wantReason: "chaos-version=fedcba98 does not name the PR head 01234567"},
		{name: "a fresh install without a label fails install", domain: freshDomain, label: "",
			tier: results.TierInstall, want: results.Fail, wantReason: "no " + chaosLabel(freshStack) + " label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.ChaosLabels[tt.domain] = tt.label
			if tt.disagree {
				deploy := w.Abra.OnDeploy
				w.Abra.OnDeploy = func(domain, version string, chaos bool) {
					deploy(domain, version, chaos)
					if chaos && domain == upgradeDomain {
						w.Swarm.Labels[upgradeStack]["db"][chaosLabel(upgradeStack)] = "fedcba98"
					}
				}
			}
			out := w.run(t.Context())

			tiers := climb(t, out)
			got := tiers[tt.tier]
			assert.Equal(t, tt.want, got.Status, got.Reason)
			assert.Contains(t, got.Reason, tt.wantReason)
			if tt.want == results.Pass {
				assert.Equal(t, results.Pass, checkOf(t, got, "chaos-version label").Status)
				assert.Equal(t, results.Pass, tiers[results.TierRestore].Status)
				return
			}
			i := slices.Index(ladderOrder, tt.tier)
			assertNotReached(t, tiers, tt.tier, ladderOrder[i+1:]...)
			if tt.tier == results.TierInstall {
				assert.Equal(t, goodLog[:2], w.Abra.Log())
				assert.Empty(t, w.Door.Hosts(), "the label check comes before the front door")
			} else {
				assert.Equal(t, upgradeLog, w.Abra.Log())
				assert.Equal(t, []string{freshDomain, upgradeDomain}, w.Door.Hosts(),
					"after the upgrade, the label check comes before the front door")
			}
		})
	}
}

// TestBaseDoesNotComeUp: the base is not under test. When it fails to come up, no upgrade can be
// proven from it: a gap (the PR may be the fix for a broken release), with install proven and
// backup and restore run on the fresh app instead.
func TestBaseDoesNotComeUp(t *testing.T) {
	t.Parallel()
	deployArgs := []string{"app", "deploy", upgradeDomain, testBase, "--no-input"}
	tests := []struct {
		name       string
		world      func(w *world)
		overlay    string
		wantCheck  string // the base's failing check, kept on the upgrade tier
		wantReason string
		wantLog    []string
	}{
		{name: "a base release abra refuses to deploy is a gap, not a failure",
			world: func(w *world) {
				w.Abra.Errs = map[string]map[string][]error{upgradeDomain: {abra.CmdAppDeploy: {abraExit(deployArgs, "FATA unable to deploy: invalid mount config")}}}
			},
			wantCheck: "deploy base", wantReason: "FATA unable to deploy: invalid mount config",
			wantLog: []string{"upgrade: app new " + testBase, "upgrade: deploy " + testBase}},
		{name: "a base release that crash-loops is a gap, not a failure",
			world: func(w *world) {
				w.Swarm.WaitErrs = map[string][]error{upgradeStack: {&swarm.CrashLoopError{Service: upgradeStack + "_app", Failures: 3, Err: "task: non-zero exit (1)"}}}
			},
			wantCheck: "base converged", wantReason: "is crash-looping",
			wantLog: []string{"upgrade: app new " + testBase, "upgrade: deploy " + testBase}},
		{name: "a base release abra does not know is a gap, not a failure",
			world: func(w *world) {
				w.Abra.Errs = map[string]map[string][]error{upgradeDomain: {abra.CmdAppNew: {abraExit([]string{"app", "new"}, "FATA unknown version "+testBase)}}}
			},
			wantCheck: "app new", wantReason: "FATA unknown version",
			wantLog: []string{"upgrade: app new " + testBase}},
		{name: "a base whose version label names another release is a gap, not a failure",
			world: func(w *world) {
				deploy := w.Abra.OnDeploy
				w.Abra.OnDeploy = func(domain, version string, chaos bool) {
					deploy(domain, version, chaos)
					if domain == upgradeDomain && !chaos {
						w.Swarm.Labels[upgradeStack]["app"][versionLabel(upgradeStack)] = "1.0.0+1.20.0"
					}
				}
			},
			wantCheck: "base version label", wantReason: `is "1.0.0+1.20.0", want "` + testBase + `"`,
			wantLog: []string{"upgrade: app new " + testBase, "upgrade: deploy " + testBase}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tt.world(w)
			out := w.run(t.Context())

			tiers := climb(t, out)
			assert.Equal(t, results.Pass, tiers[results.TierInstall].Status, tiers[results.TierInstall].Reason)
			upgrade := tiers[results.TierUpgrade]
			assert.Equal(t, results.Skip, upgrade.Status)
			assert.False(t, upgrade.Declared)
			assert.Contains(t, upgrade.Reason, "the upgrade base "+testBase+" does not come up (")
			assert.Contains(t, upgrade.Reason, tt.wantReason)
			assert.Contains(t, upgrade.Lift, "fix the release "+testBase)
			assert.Equal(t, results.Fail, checkOf(t, upgrade, tt.wantCheck).Status, "the base's failing check is kept for the reader")
			for _, name := range []string{results.TierBackup, results.TierRestore} {
				assert.Equal(t, results.Pass, tiers[name].Status, "%s: %s", name, tiers[name].Reason)
			}
			want := append(append(slices.Clone(goodLog[:2]), tt.wantLog...), "fresh: backup create", "fresh: restore 5a7e0001")
			assert.Equal(t, want, w.Abra.Log(), "backup and restore run on the fresh app")
			assert.Equal(t, []string{floorMarkPaths, floorMutatePaths, floorCheckPaths}, w.Floors[freshStack].Calls)
			assert.Empty(t, out.FailureExcerpt, "a gap is no failure")
			assert.Equal(t, 1, results.Level(out.Tiers))
			assert.Equal(t, results.VerdictPass, results.Verdict(out.Tiers))
			assert.Equal(t, bothApps, out.Apps)
		})
	}
}

// TestBaseUnverified: when the base could not be judged (the box failed, not the base), the
// upgrade is unverified, never a gap that would hide it.
func TestBaseUnverified(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		world      func(w *world)
		wantReason string
		wantLog    []string
	}{
		{name: "the Docker API failing while the base converges leaves upgrade unverified",
			world: func(w *world) {
				w.Swarm.WaitErrs = map[string][]error{upgradeStack: {errors.New("list tasks: Cannot connect to the Docker daemon")}}
			},
			wantReason: "base converged: list tasks: Cannot connect to the Docker daemon",
			wantLog:    []string{"upgrade: app new " + testBase, "upgrade: deploy " + testBase}},
		{name: "abra missing when the base is created leaves upgrade unverified",
			world: func(w *world) {
				w.Abra.Errs = map[string]map[string][]error{upgradeDomain: {abra.CmdAppNew: {fmt.Errorf("abra app new: %w", abra.ErrNotFound)}}}
			},
			wantReason: "abra not found", wantLog: []string{"upgrade: app new " + testBase}},
		{name: "the base's deploy timing out leaves upgrade unverified",
			world: func(w *world) {
				w.Abra.Errs = map[string]map[string][]error{upgradeDomain: {abra.CmdAppDeploy: {&abra.Error{Args: []string{"app", "deploy"}, ExitCode: -1, Timeout: true, Err: context.DeadlineExceeded}}}}
			},
			wantReason: "timed out", wantLog: []string{"upgrade: app new " + testBase, "upgrade: deploy " + testBase}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tt.world(w)
			out := w.run(t.Context())

			tiers := climb(t, out)
			assert.Equal(t, results.Pass, tiers[results.TierInstall].Status)
			upgrade := tiers[results.TierUpgrade]
			assert.Equal(t, results.Unverified, upgrade.Status)
			assert.Contains(t, upgrade.Reason, tt.wantReason)
			assert.Empty(t, upgrade.Lift)
			assertNotReached(t, tiers, results.TierUpgrade, tiersAfter(results.TierUpgrade)...)
			assert.Equal(t, append(slices.Clone(goodLog[:2]), tt.wantLog...), w.Abra.Log())
			assert.Equal(t, 1, results.Level(out.Tiers))
			assert.Equal(t, results.VerdictUnverified, results.Verdict(out.Tiers))
		})
	}
}

// TestUpgradeData: the overlay's data probe writes a datum into the base app before the upgrade;
// it must read back unchanged after it.
func TestUpgradeData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		atUpgrade  func(w *world)
		wantReason []string
		notReason  string
	}{
		{name: "data lost across the upgrade fails upgrade naming the data loss",
			atUpgrade:  func(w *world) { clear(w.Data.Values[upgradeDomain]) },
			wantReason: []string{"the upgrade loses data", "ccci-install is absent"}},
		{name: "a datum changed by the upgrade fails upgrade naming what it reads",
			atUpgrade:  func(w *world) { w.Data.Values[upgradeDomain][keyInstall] = "migrated-garbage" },
			wantReason: []string{"the upgrade loses data", `reads "migrated-garbage"`}},
		{name: "a datum emptied by the upgrade is data loss, not a restore problem",
			atUpgrade:  func(w *world) { w.Data.Values[upgradeDomain][keyInstall] = "" },
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
			w.Abra.OnDeploy = func(domain, version string, chaos bool) {
				deploy(domain, version, chaos)
				if chaos && domain == upgradeDomain {
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
			assertNotReached(t, tiers, results.TierUpgrade, tiersAfter(results.TierUpgrade)...)
			assert.Equal(t, upgradeLog, w.Abra.Log())
		})
	}
}

// TestDataProbeRefusesTheSeed: a base app that does not take the datum fails upgrade before the
// head is deployed.
func TestDataProbeRefusesTheSeed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Data.WriteErr = errors.New("data-write ccci-install: exit status 1: 401 Unauthorized")
	out := w.run(t.Context())

	tiers := climb(t, out)
	assert.Equal(t, results.Pass, tiers[results.TierInstall].Status)
	assert.Equal(t, results.Fail, tiers[results.TierUpgrade].Status)
	assert.Contains(t, tiers[results.TierUpgrade].Reason, "did not accept a datum")
	assert.Contains(t, tiers[results.TierUpgrade].Reason, "401 Unauthorized")
	assertNotReached(t, tiers, results.TierUpgrade, tiersAfter(results.TierUpgrade)...)
	assert.Equal(t, goodLog[:4], w.Abra.Log())
}

// TestUpgradeFloor: the generic data floor marks every named volume of the base app and proves
// the markers are there after the upgrade. Lost data is the recipe's failure; the floor failing
// to look (the Docker API, no container) is unverified.
func TestUpgradeFloor(t *testing.T) {
	t.Parallel()
	lost := &lostErr{what: "volume " + upgradeStack + "_data: marker missing (re-created?)"}
	infra := errors.New("copy from container: Cannot connect to the Docker daemon")
	tests := []struct {
		name       string
		errs       map[string]error
		volumes    int
		want       results.Status
		wantCheck  string
		wantReason []string
		wantCalls  []string // every call the upgrade app's floor got
		wantLog    []string
	}{
		{name: "a volume whose marker is gone after the upgrade fails upgrade naming the volume",
			errs: map[string]error{floorCheckVolumes: lost}, volumes: 2, want: results.Fail, wantCheck: "volumes survive upgrade",
			wantReason: []string{"the upgrade loses data (check volume names and mount paths)", upgradeStack + "_data: marker missing"},
			wantCalls:  []string{floorMarkVolumes, floorCheckVolumes}, wantLog: upgradeLog},
		{name: "lost data wrapped and joined with an infrastructure error still fails upgrade",
			errs: map[string]error{floorCheckVolumes: errors.Join(infra, fmt.Errorf("check: %w", lost))}, volumes: 2, want: results.Fail,
			wantCheck: "volumes survive upgrade", wantReason: []string{"the upgrade loses data", "marker missing"},
			wantCalls: []string{floorMarkVolumes, floorCheckVolumes}, wantLog: upgradeLog},
		{name: "the floor failing to read the markers leaves upgrade unverified",
			errs: map[string]error{floorCheckVolumes: infra}, volumes: 2, want: results.Unverified, wantCheck: "infrastructure",
			wantReason: []string{"volumes survive upgrade: copy from container: Cannot connect"},
			wantCalls:  []string{floorMarkVolumes, floorCheckVolumes}, wantLog: upgradeLog},
		{name: "an error that says it is not lost data leaves upgrade unverified",
			errs: map[string]error{floorCheckVolumes: notLostErr{}}, volumes: 2, want: results.Unverified, wantCheck: "infrastructure",
			wantReason: []string{"marker unreadable"},
			wantCalls:  []string{floorMarkVolumes, floorCheckVolumes}, wantLog: upgradeLog},
		{name: "the floor failing to mark the volumes leaves upgrade unverified before the head is deployed",
			errs: map[string]error{floorMarkVolumes: infra}, volumes: 2, want: results.Unverified, wantCheck: "infrastructure",
			wantReason: []string{"mark volumes: copy from container: Cannot connect"},
			wantCalls:  []string{floorMarkVolumes}, wantLog: goodLog[:4]},
		{name: "a stack without named volumes has nothing to carry across: the mark is skipped, never checked",
			volumes: 0, want: results.Pass, wantCheck: "mark volumes",
			wantCalls: []string{floorMarkVolumes, floorMarkPaths, floorMutatePaths, floorCheckPaths}, wantLog: goodLog},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			f := w.Floors[upgradeStack]
			f.Volumes = tt.volumes
			if tt.errs != nil {
				f.Errs = tt.errs
			}
			out := w.run(t.Context())

			tiers := climb(t, out)
			upgrade := tiers[results.TierUpgrade]
			assert.Equal(t, results.Pass, tiers[results.TierInstall].Status)
			assert.Equal(t, tt.want, upgrade.Status, upgrade.Reason)
			for _, want := range tt.wantReason {
				assert.Contains(t, upgrade.Reason, want)
			}
			assert.Equal(t, tt.wantLog, w.Abra.Log())
			assert.Equal(t, tt.wantCalls, f.Calls)
			if tt.want == results.Pass {
				assert.Equal(t, results.Skip, checkOf(t, upgrade, tt.wantCheck).Status)
				assert.Equal(t, results.Pass, checkOf(t, upgrade, "data survives upgrade").Status, "the data probe still proves the upgrade")
				return
			}
			assert.Equal(t, tt.want, checkOf(t, upgrade, tt.wantCheck).Status)
			assertNotReached(t, tiers, results.TierUpgrade, tiersAfter(results.TierUpgrade)...)
		})
	}
}

func TestUpgradeCheckoutFails(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Git.CheckoutErrs = []error{nil, errors.New("git checkout: unable to write new index file")}
	out := w.run(t.Context())

	tiers := climb(t, out)
	assert.Equal(t, results.Pass, tiers[results.TierInstall].Status)
	assert.Equal(t, results.Unverified, tiers[results.TierUpgrade].Status)
	assert.Contains(t, tiers[results.TierUpgrade].Reason, "check out 01234567: git checkout: unable to write new index file")
	assertNotReached(t, tiers, results.TierUpgrade, tiersAfter(results.TierUpgrade)...)
	assert.Equal(t, goodLog[:4], w.Abra.Log(), "nothing is deployed from an unknown tree")
}

// headSample is a PR head's .env.sample that introduces an env key and a secret the base lacks.
const headSample = recipeEnvSample + `SSH_DOMAIN=ssh.gitea.example.com
EXTRA_FILES="compose.smtp.yml"
EXTRA_FILES="$EXTRA_FILES:compose.ldap.yml"
SECRET_API_KEY_VERSION=v1 # length=48
`

// TestUpgradeAddsWhatTheHeadNeeds: before deploying the head onto the base app, the ladder does
// what an operator's upgrade does: adds the env keys new in the head's .env.sample to the app's
// .env (templated with the app's domain, modifiers kept), generates the new secrets, and lists
// both in the outcome.
func TestUpgradeAddsWhatTheHeadNeeds(t *testing.T) {
	t.Parallel()
	secretArgs := []string{"app", "secret", "generate", upgradeDomain, "api_key", "v1"}
	tests := []struct {
		name       string
		errs       map[string]map[string][]error
		want       results.Status
		wantReason string
		wantLog    []string
	}{
		{name: "a new env key and a new secret are added, then the head is deployed",
			want: results.Pass,
			wantLog: []string{"fresh: app new --chaos", "fresh: deploy --chaos", "upgrade: app new " + testBase, "upgrade: deploy " + testBase,
				"upgrade: secret generate api_key v1", "upgrade: deploy --chaos", "upgrade: backup create", "upgrade: restore 5a7e0001"}},
		{name: "a new secret abra cannot generate fails upgrade before the head is deployed",
			errs: map[string]map[string][]error{upgradeDomain: {abra.CmdSecretGenerate: {abraExit(secretArgs, "FATA api_key: secret create failed: rpc error")}}},
			want: results.Fail, wantReason: "FATA api_key: secret create failed: rpc error",
			wantLog: []string{"fresh: app new --chaos", "fresh: deploy --chaos", "upgrade: app new " + testBase, "upgrade: deploy " + testBase,
				"upgrade: secret generate api_key v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.RecipeDir = writeRecipe(t, map[string]string{"compose.yml": recipeCompose, ".env.sample": headSample})
			w.Tree.Refs = map[string]map[string]string{
				testHead: {".env.sample": headSample},
				testBase: {".env.sample": recipeEnvSample},
			}
			w.Abra.Errs = tt.errs
			out := w.run(t.Context())

			tiers := climb(t, out)
			assert.Equal(t, results.Pass, tiers[results.TierInstall].Status)
			upgrade := tiers[results.TierUpgrade]
			assert.Equal(t, tt.want, upgrade.Status, upgrade.Reason)
			assert.Contains(t, upgrade.Reason, tt.wantReason)
			assert.Equal(t, tt.wantLog, w.Abra.Log())
			assert.Equal(t, []string{"new env SSH_DOMAIN", "new env EXTRA_FILES", "new secret api_key"}, out.UpgradeBase.Needs,
				"a key chained across lines is one need")

			// The upgrade app's .env now holds what a fresh one of the head would: the head's
			// .env.sample templated with its domain, the new lines as the sample writes them.
			assert.Equal(t, strings.ReplaceAll(headSample, "gitea.example.com", upgradeDomain), w.appEnv(t, upgradeDomain))
			assert.Equal(t, strings.ReplaceAll(headSample, "gitea.example.com", freshDomain), w.appEnv(t, freshDomain),
				"the fresh app, made from the head, needs nothing added")
			assert.Equal(t, []abraCall{{Cmd: abra.CmdSecretGenerate, Domain: upgradeDomain, Secret: "api_key", Version: "v1"}},
				w.Abra.Calls(abra.CmdSecretGenerate))
			// Added after the head is checked out again, before its chaos deploy.
			j := w.Journal.Entries
			generate := slices.Index(j, "abra upgrade: secret generate api_key v1")
			require.Positive(t, generate)
			assert.Equal(t, "git checkout "+testHead, j[generate-1])
			if tt.want == results.Pass {
				assert.Equal(t, "abra upgrade: deploy --chaos", j[generate+1])
				assert.Contains(t, checkOf(t, upgrade, "new configuration").Detail, "new env SSH_DOMAIN, new env EXTRA_FILES, new secret api_key")
				assert.Equal(t, 3, results.Level(out.Tiers))
				return
			}
			assert.Equal(t, results.Fail, checkOf(t, upgrade, "generate secret api_key").Status)
			assertNotReached(t, tiers, results.TierUpgrade, tiersAfter(results.TierUpgrade)...)
		})
	}
}
