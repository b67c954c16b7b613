package e2e_test

// Issue 12 on the real swarm: a recipe PR that asks for a construct the policy refuses ends
// `fail` at INSTALL before any `abra app deploy`, leaving nothing; with an operator allowance
// for exactly that construct it deploys, and the summary names the allowance.

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/testkit"
	"coopcloud.tech/cc-ci/plugin/policy"
)

func TestThePolicyRefusesEachConstructUnlessTheOperatorAllowsIt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		variant   testkit.Variant
		construct string
		key       string // words of the reason naming the key
		// installs: with the allowance the fresh app deploys and serves its page (swarm cannot run
		// a service on the host network next to overlay networks, so that one only has to
		// reach the deploy).
		installs bool
	}{
		{testkit.CanarySocket, policy.DockerSocket, "volumes", true},
		{testkit.CanaryHostPath, policy.HostPath, "volumes", true},
		{testkit.CanaryPrivileged, policy.Privileged, "privileged", true},
		{testkit.CanaryHostNetwork, policy.HostNetwork, "networks", false},
		{testkit.CanaryCapAdd, policy.CapAdd, "cap_add", true},
		{testkit.CanaryHostPort, policy.HostPort, "ports", true},
	}
	for i, tt := range tests {
		t.Run(string(tt.variant), func(t *testing.T) {
			t.Parallel()
			t.Run("refused", func(t *testing.T) {
				t.Parallel()
				r := runCase(t, makeRecipe(t, tt.variant), fmt.Sprint(60+i), caseOpts{overlays: sampleOverlays(t, "")})
				requireVerdict(t, r, 1, results.VerdictFail, 0)
				assertFailedAt(t, r, results.TierInstall, "refused before deploying")
				install := tier(t, r.run, results.TierInstall)
				assert.Contains(t, install.Reason, "service app")
				assert.Contains(t, install.Reason, tt.key)
				assert.Contains(t, install.Reason, "compose.yml", "the reason names the file")
				assert.Contains(t, install.Reason, policy.AllowFile, "the reason says how an operator allows it")
				assert.NotContains(t, r.output, "abra app deploy", "nothing is deployed")
			})
			t.Run("allowed", func(t *testing.T) {
				t.Parallel()
				overlays := sampleOverlays(t, "")
				allow := fmt.Sprintf("sample:\n  - construct: %s\n    reason: the canary needs it (test)\n", tt.construct)
				require.NoError(t, os.WriteFile(filepath.Join(overlays, policy.AllowFile), []byte(allow), 0o644))
				r := runCase(t, makeRecipe(t, tt.variant), fmt.Sprint(70+i), caseOpts{overlays: overlays})
				require.NotNil(t, r.results, r.output)
				assert.Contains(t, r.output, "abra app deploy", "the allowed construct is deployed")
				require.NotEmpty(t, r.results.Allowances, "the run lists the allowance it used")
				assert.Contains(t, r.results.Allowances[0], tt.construct)
				assert.Contains(t, r.summary, "allowed by the operator's policy")
				if tt.installs {
					assertPassed(t, r, results.TierInstall)
				}
			})
		})
	}
}

func TestAServiceThatAllocatesPastItsLimitIsReportedOOMKilled(t *testing.T) {
	t.Parallel()
	r := runCase(t, makeRecipe(t, testkit.AllocatesPastLimit), "80", caseOpts{overlays: sampleOverlays(t, ""), extra: []string{"CCCI_LIMIT_MEMORY=64"}})
	requireVerdict(t, r, 1, results.VerdictFail, 0)
	assertFailedAt(t, r, results.TierInstall, `OOM-killed at 64 MiB`)
	assert.Contains(t, r.output, "resource limits: app: memory 64 MiB", "the limits are in the log")
}
