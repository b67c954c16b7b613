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

// abraExit is abra exiting non-zero with output, as the real client reports it.
func abraExit(args []string, output string) error {
	return &abra.Error{Args: args, ExitCode: 1, Output: output, Err: fmt.Errorf("exit status 1")}
}

func TestAbraErrors(t *testing.T) {
	t.Parallel()
	deployArgs := []string{"app", "deploy", testDomain, "--no-input"}
	tests := []struct {
		name        string
		errs        map[string][]error
		tier        string
		want        results.Status
		wantReason  string
		wantExcerpt string
		wantLog     []string
	}{
		{name: "a deploy that times out leaves install unverified, not failed",
			errs: map[string][]error{abra.CmdAppDeploy: {&abra.Error{Args: deployArgs, ExitCode: -1, Timeout: true,
				Output: "waiting for services to converge", Err: context.DeadlineExceeded}}},
			tier: results.TierInstall, want: results.Unverified, wantReason: "deploy: abra app deploy",
			wantExcerpt: "waiting for services to converge",
			wantLog:     []string{"app new " + testBase, "deploy " + testBase}},
		{name: "a deploy where abra exits 1 fails install with abra's output as the excerpt",
			errs: map[string][]error{abra.CmdAppDeploy: {abraExit(deployArgs, "FATA unable to deploy: service app: invalid mount config")}},
			tier: results.TierInstall, want: results.Fail, wantReason: "exit code 1: FATA unable to deploy",
			wantExcerpt: "FATA unable to deploy: service app: invalid mount config",
			wantLog:     []string{"app new " + testBase, "deploy " + testBase}},
		{name: "app new where abra exits 1 fails install before any deploy",
			errs: map[string][]error{abra.CmdAppNew: {abraExit([]string{"app", "new"}, "FATA unknown version 9.9.9")}},
			tier: results.TierInstall, want: results.Fail, wantReason: "FATA unknown version 9.9.9",
			wantExcerpt: "FATA unknown version 9.9.9",
			wantLog:     []string{"app new " + testBase}},
		{name: "abra missing from the runner leaves install unverified",
			errs: map[string][]error{abra.CmdAppNew: {fmt.Errorf("abra app new: %w: \"abra\" is not on PATH", abra.ErrNotFound)}},
			tier: results.TierInstall, want: results.Unverified, wantReason: "abra not found",
			wantLog: []string{"app new " + testBase}},
		{name: "a chaos deploy where abra exits 1 fails upgrade with abra's output as the excerpt",
			errs: map[string][]error{abra.CmdAppDeploy: {nil, abraExit(deployArgs, "FATA secret db_password_v2 not found")}},
			tier: results.TierUpgrade, want: results.Fail, wantReason: "exit code 1: FATA secret db_password_v2 not found",
			wantExcerpt: "FATA secret db_password_v2 not found",
			wantLog:     []string{"app new " + testBase, "deploy " + testBase, "deploy chaos"}},
		{name: "a backup where abra exits 1 fails backup and never restores",
			errs: map[string][]error{abra.CmdBackupCreate: {abraExit([]string{"app", "backup", "create"}, "FATA backupbot: no such container")}},
			tier: results.TierBackup, want: results.Fail, wantReason: "backupbot: no such container",
			wantExcerpt: "FATA backupbot: no such container",
			wantLog:     []string{"app new " + testBase, "deploy " + testBase, "deploy chaos", "backup create"}},
		{name: "a restore where abra exits 1 fails restore with abra's output as the excerpt",
			errs: map[string][]error{abra.CmdRestore: {abraExit([]string{"app", "restore"}, "FATA restic: repository is empty")}},
			tier: results.TierRestore, want: results.Fail, wantReason: "restic: repository is empty",
			wantExcerpt: "FATA restic: repository is empty",
			wantLog:     []string{"app new " + testBase, "deploy " + testBase, "deploy chaos", "backup create", "restore"}},
		{name: "a restore that times out is unverified",
			errs: map[string][]error{abra.CmdRestore: {&abra.Error{Args: []string{"app", "restore"}, ExitCode: -1, Timeout: true,
				Output: "restoring /var/lib/postgresql", Err: context.DeadlineExceeded}}},
			tier: results.TierRestore, want: results.Unverified, wantReason: "timed out",
			wantExcerpt: "restoring /var/lib/postgresql",
			wantLog:     []string{"app new " + testBase, "deploy " + testBase, "deploy chaos", "backup create", "restore"}},
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
			} else {
				assertNotReached(t, tiers, tt.tier, ladderOrder[i+1:]...)
			}
			assert.Equal(t, 1, out.Deploys, "app new ran once, failed or not")
		})
	}
}
