package ladder

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"coopcloud.tech/cc-ci/internal/recipe"
	"coopcloud.tech/cc-ci/internal/results"
)

// noBase is what the base chain answers for a recipe without a release.
var noBase = recipe.Base{Reason: "no release of gitea is an ancestor of the PR head, and the default branch's tip is the head"}

// TestGapsAndDeclaredSkips: a skip the ladder decides by itself (no upgrade base, no backup
// labels, nothing to prove the restore with) is a gap: it does not hold its rung, and it says
// what would lift it. Only a skip the recipe's overlay declares (expected_na, with a reason)
// holds the rung. An overlay never skips a tier that can run.
func TestGapsAndDeclaredSkips(t *testing.T) {
	t.Parallel()
	noBackupLabels := func(w *world) {
		for _, stack := range []string{freshStack, upgradeStack} {
			w.Swarm.Labels[stack]["app"] = map[string]string{"traefik.enable": "true"}
		}
	}
	nothingProvesRestore := func(w *world) {
		w.Data = nil
		for _, f := range w.Floors {
			f.Paths = 0
		}
	}
	const (
		upgradeNA = "expected_na:\n  - tier: upgrade\n    reason: the recipe has never been released\n"
		backupNA  = "expected_na:\n  - tier: backup\n    reason: a stateless proxy\n"
		bothNA    = backupNA + "  - tier: restore\n    reason: a stateless proxy\n"
		restoreNA = "expected_na:\n  - tier: restore\n    reason: the data is a cache, rebuilt on start\n"
	)
	tests := []struct {
		name      string
		world     func(w *world)
		overlay   string          // the recipe's cc-ci.yml; "" for none
		wantSkips map[string]bool // skipped tier -> declared
		// wantReason is in every skipped tier's reason; wantLift in every gap's Lift.
		wantReason string
		wantLift   string
		wantLevel  int
		wantLog    []string
	}{
		{name: "no upgrade base is a gap that stops the level at install, saying what would lift it",
			world:      func(w *world) { w.Git.Base, w.Git.BaseOK = noBase, false },
			wantSkips:  map[string]bool{results.TierUpgrade: false},
			wantReason: "no upgrade base: " + noBase.Reason, wantLift: "publish a release (an annotated tag X.Y.Z+upstream)",
			wantLevel: 1,
			wantLog:   []string{"fresh: app new --chaos", "fresh: deploy --chaos", "fresh: backup create", "fresh: restore 5a7e0001"}},
		{name: "no upgrade base declared not applicable in the overlay holds the rung",
			world:      func(w *world) { w.Git.Base, w.Git.BaseOK = noBase, false },
			overlay:    upgradeNA,
			wantSkips:  map[string]bool{results.TierUpgrade: true},
			wantReason: "declared not applicable in recipes/gitea/cc-ci.yml: the recipe has never been released (the ladder found: no upgrade base: ",
			wantLevel:  3,
			wantLog:    []string{"fresh: app new --chaos", "fresh: deploy --chaos", "fresh: backup create", "fresh: restore 5a7e0001"}},
		{name: "an overlay declaring the upgrade not applicable does not skip an upgrade that can run",
			world: func(*world) {}, overlay: upgradeNA,
			wantLevel: 3, wantLog: goodLog},
		{name: "no backup labels are a gap at backup and restore, saying what would lift it",
			world:      noBackupLabels,
			wantSkips:  map[string]bool{results.TierBackup: false, results.TierRestore: false},
			wantReason: "the recipe declares no backups (no service has the label backupbot.backup=true)",
			wantLift:   "backupbot.backup.volumes.<volume>.path",
			wantLevel:  2, wantLog: goodLog[:5]},
		{name: "no backup labels with backup and restore declared not applicable hold level 3",
			world: noBackupLabels, overlay: bothNA,
			wantSkips:  map[string]bool{results.TierBackup: true, results.TierRestore: true},
			wantReason: "declared not applicable in recipes/gitea/cc-ci.yml: a stateless proxy",
			wantLevel:  3, wantLog: goodLog[:5]},
		{name: "declaring only backup not applicable leaves restore a gap",
			world: noBackupLabels, overlay: backupNA,
			wantSkips:  map[string]bool{results.TierBackup: true, results.TierRestore: false},
			wantReason: "the recipe declares no backups", wantLift: "backupbot.backup=true",
			wantLevel: 2, wantLog: goodLog[:5]},
		{name: "nothing to prove the restore with (no backed-up path, no data probe) is a gap at restore, and nothing is restored",
			world:      nothingProvesRestore,
			wantSkips:  map[string]bool{results.TierRestore: false},
			wantReason: "nothing can prove the restore brought data back",
			wantLift:   "hooks/data-write and hooks/data-read in recipes/gitea/",
			wantLevel:  2, wantLog: goodLog[:6]},
		{name: "nothing to prove the restore with, declared not applicable, holds level 3",
			world: nothingProvesRestore, overlay: restoreNA,
			wantSkips:  map[string]bool{results.TierRestore: true},
			wantReason: "the data is a cache, rebuilt on start (the ladder found: nothing can prove the restore",
			wantLevel:  3, wantLog: goodLog[:6]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tt.world(w)
			if tt.overlay != "" {
				w.Overlay = overlayOf(t, tt.overlay)
			}
			out := w.run(t.Context())

			tiers := climb(t, out)
			// No case declares functional checks: FUNCTIONAL is always a gap above restore.
			assertGenericTop(t, tiers)
			for _, name := range genericTiers {
				tr := tiers[name]
				declared, skipped := tt.wantSkips[name]
				if !skipped {
					assert.Equal(t, results.Pass, tr.Status, "%s: %s", name, tr.Reason)
					assert.False(t, tr.Declared, name)
					continue
				}
				assert.Equal(t, results.Skip, tr.Status, name)
				assert.Equal(t, declared, tr.Declared, "%s declared", name)
				if declared {
					assert.Empty(t, tr.Lift, "%s: a declared skip has nothing to lift", name)
					assert.Contains(t, tr.Reason, "declared not applicable in recipes/gitea/cc-ci.yml: ", name)
				} else {
					assert.Contains(t, tr.Lift, tt.wantLift, name)
				}
				assert.Contains(t, tr.Reason, tt.wantReason, name)
			}
			assert.Equal(t, tt.wantLevel, results.Level(out.Tiers))
			assert.Equal(t, results.VerdictPass, results.Verdict(out.Tiers), "a gap is no failure")
			// Every case is capped by a gap: below 3 by one the ladder found, at 3 by FUNCTIONAL.
			capped := results.CappedBy(out.Tiers)
			if assert.NotNil(t, capped, "the level is capped by a gap") {
				assert.True(t, capped.Gap())
				if tt.wantLevel < 3 {
					declared, skipped := tt.wantSkips[capped.Name]
					assert.True(t, skipped && !declared, "capped by %s, which is not one of the gaps found", capped.Name)
				} else {
					assert.Equal(t, results.TierFunctional, capped.Name)
				}
			}
			assert.Equal(t, tt.wantLog, w.Abra.Log())
		})
	}
}
