package ladder

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"coopcloud.tech/cc-ci/internal/abra"
	"coopcloud.tech/cc-ci/internal/results"
)

func TestAbraErrors(t *testing.T) {
	t.Parallel()
	deployArgs := []string{"app", "deploy", freshDomain, "--chaos", "--no-input"}
	tests := []struct {
		name        string
		errs        map[string]map[string][]error // domain -> command -> per call
		tier        string
		want        results.Status
		wantReason  string
		wantExcerpt string
		wantLog     []string
		wantApps    []results.App
	}{
		{name: "a deploy that times out leaves install unverified, not failed",
			errs: map[string]map[string][]error{freshDomain: {abra.CmdAppDeploy: {&abra.Error{Args: deployArgs, ExitCode: -1, Timeout: true,
				Output: "waiting for services to converge", Err: context.DeadlineExceeded}}}},
			tier: results.TierInstall, want: results.Unverified, wantReason: "deploy: abra app deploy",
			wantExcerpt: "waiting for services to converge", wantLog: goodLog[:2], wantApps: bothApps[:1]},
		{name: "a deploy where abra exits 1 fails install with abra's output as the excerpt",
			errs: map[string]map[string][]error{freshDomain: {abra.CmdAppDeploy: {abraExit(deployArgs, "FATA unable to deploy: service app: invalid mount config")}}},
			tier: results.TierInstall, want: results.Fail, wantReason: "exit code 1: FATA unable to deploy",
			wantExcerpt: "FATA unable to deploy: service app: invalid mount config", wantLog: goodLog[:2], wantApps: bothApps[:1]},
		{name: "app new where abra exits 1 fails install before any deploy",
			errs: map[string]map[string][]error{freshDomain: {abra.CmdAppNew: {abraExit([]string{"app", "new"}, "FATA .env.sample: DOMAIN is missing")}}},
			tier: results.TierInstall, want: results.Fail, wantReason: "FATA .env.sample: DOMAIN is missing",
			wantExcerpt: "FATA .env.sample: DOMAIN is missing", wantLog: goodLog[:1], wantApps: bothApps[:1]},
		{name: "abra missing from the runner leaves install unverified",
			errs: map[string]map[string][]error{freshDomain: {abra.CmdAppNew: {fmt.Errorf("abra app new: %w: \"abra\" is not on PATH", abra.ErrNotFound)}}},
			tier: results.TierInstall, want: results.Unverified, wantReason: "abra not found", wantLog: goodLog[:1], wantApps: bothApps[:1]},
		{name: "the upgrade's chaos deploy where abra exits 1 fails upgrade with abra's output as the excerpt",
			errs: map[string]map[string][]error{upgradeDomain: {abra.CmdAppDeploy: {nil, abraExit(deployArgs, "FATA secret db_password_v2 not found")}}},
			tier: results.TierUpgrade, want: results.Fail, wantReason: "exit code 1: FATA secret db_password_v2 not found",
			wantExcerpt: "FATA secret db_password_v2 not found", wantLog: goodLog[:5], wantApps: bothApps},
		{name: "a backup where abra exits 1 fails backup and never restores",
			errs: map[string]map[string][]error{upgradeDomain: {abra.CmdBackupCreate: {abraExit([]string{"app", "backup", "create"}, "FATA backupbot: no such container")}}},
			tier: results.TierBackup, want: results.Fail, wantReason: "backupbot: no such container",
			wantExcerpt: "FATA backupbot: no such container", wantLog: goodLog[:6], wantApps: bothApps},
		{name: "a backup abra refuses because backup-bot-two is not deployed is the server's fault, not the recipe's",
			errs: map[string]map[string][]error{upgradeDomain: {abra.CmdBackupCreate: {abraExit([]string{"app", "backup", "create"}, "FATA no backupbot discovered, is it deployed?")}}},
			tier: results.TierBackup, want: results.Unverified, wantReason: "backup-bot-two is not deployed on the CI server",
			wantExcerpt: "FATA no backupbot discovered, is it deployed?", wantLog: goodLog[:6], wantApps: bothApps},
		{name: "a restore where abra exits 1 fails restore with abra's output as the excerpt",
			errs: map[string]map[string][]error{upgradeDomain: {abra.CmdRestore: {abraExit([]string{"app", "restore"}, "FATA restic: repository is empty")}}},
			tier: results.TierRestore, want: results.Fail, wantReason: "restic: repository is empty",
			wantExcerpt: "FATA restic: repository is empty", wantLog: goodLog, wantApps: bothApps},
		{name: "a restore that times out is unverified",
			errs: map[string]map[string][]error{upgradeDomain: {abra.CmdRestore: {&abra.Error{Args: []string{"app", "restore"}, ExitCode: -1, Timeout: true,
				Output: "restoring /var/lib/postgresql", Err: context.DeadlineExceeded}}}},
			tier: results.TierRestore, want: results.Unverified, wantReason: "timed out",
			wantExcerpt: "restoring /var/lib/postgresql", wantLog: goodLog, wantApps: bothApps},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.Abra.Errs = tt.errs
			out := w.run(t.Context())

			tiers := climb(t, out)
			i := slices.Index(ladderOrder, tt.tier)
			for _, before := range ladderOrder[:i] {
				assert.Equal(t, results.Pass, tiers[before].Status, "%s: %s", before, tiers[before].Reason)
			}
			got := tiers[tt.tier]
			assert.Equal(t, tt.want, got.Status)
			assert.Contains(t, got.Reason, tt.wantReason)
			assert.Equal(t, tt.wantExcerpt, out.FailureExcerpt)
			assert.Equal(t, tt.wantLog, w.Abra.Log())
			if tt.tier == results.TierBackup {
				assert.Equal(t, results.Unverified, tiers[results.TierRestore].Status)
				assert.Equal(t, "not reached: backup did not pass", tiers[results.TierRestore].Reason)
				assertNotReached(t, tiers, results.TierBackup, tiersAfter(results.TierRestore)...)
			} else {
				assertNotReached(t, tiers, tt.tier, ladderOrder[i+1:]...)
			}
			assert.Equal(t, tt.wantApps, out.Apps, "app new ran once per app, failed or not")
			assert.Equal(t, len(tt.wantApps), out.Deploys)
		})
	}
}
