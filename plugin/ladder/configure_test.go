package ladder

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/appconfig"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/plugin/overlay"
)

// envAt reads one app's .env as abra would at this moment.
func envAt(t *testing.T, w *world, domain string) appconfig.Env {
	t.Helper()
	env, err := appconfig.ReadEnvFile(filepath.Join(w.ServerDir, domain+".env"))
	require.NoError(t, err)
	return env
}

// firstDeploys records each app's .env as it stood when the app was first deployed.
func firstDeploys(t *testing.T, w *world) map[string]appconfig.Env {
	t.Helper()
	seen := map[string]appconfig.Env{}
	deploy := w.Abra.OnDeploy
	w.Abra.OnDeploy = func(domain, version string, chaos bool) {
		if _, ok := seen[domain]; !ok {
			seen[domain] = envAt(t, w, domain)
		}
		deploy(domain, version, chaos)
	}
	return seen
}

// TestAppEnv: the overlay's app_env is what an operator edits by hand between `abra app new` and
// the first deploy: it is in each app's .env before that app is first deployed, replacing a
// key .env.sample has and adding one it has not, and it touches nothing else.
func TestAppEnv(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Overlay = overlayOf(t, "app_env:\n  LETS_ENCRYPT_ENV: staging\n  GITEA_ADMIN_EMAIL: ops@example.org\n")
	atDeploy := firstDeploys(t, w)
	out := w.run(t.Context())

	tiers := climb(t, out)
	for _, name := range genericTiers {
		require.Equal(t, results.Pass, tiers[name].Status, "%s: %s", name, tiers[name].Reason)
	}
	for _, domain := range []string{freshDomain, upgradeDomain} {
		env, ok := atDeploy[domain]
		require.True(t, ok, "%s was deployed", domain)
		for key, want := range map[string]string{
			"LETS_ENCRYPT_ENV": "staging", "GITEA_ADMIN_EMAIL": "ops@example.org",
			"DOMAIN": domain, "TYPE": testRecipe, "SECRET_DB_PASSWORD_VERSION": "v1",
		} {
			got, _ := env.Get(key)
			assert.Equal(t, want, got, "%s: %s at its first deploy", domain, key)
		}
		info, err := os.Stat(filepath.Join(w.ServerDir, domain+".env"))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "an app's .env may hold secrets")
	}
	for _, name := range []string{results.TierInstall, results.TierUpgrade} {
		assert.Equal(t, "set GITEA_ADMIN_EMAIL, LETS_ENCRYPT_ENV from the overlay's app_env", checkOf(t, tiers[name], "app env").Detail, name)
	}
	assert.Empty(t, out.Warnings, "no image changes: nothing is pinned")
	assert.Equal(t, goodLog, w.Abra.Log())
}

// TestInstallSteps: install_steps.sh runs once for each app, after `abra app new` and the env
// edits and before the app's first deploy; when it does not pass, nothing is deployed.
func TestInstallSteps(t *testing.T) {
	t.Parallel()
	const steps = "#!/bin/sh\nabra app config \"$CCCI_APP_DOMAIN\" >/dev/null\n"

	t.Run("it runs once per app, after app new and the env edits, before the deploy", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.Overlay = overlayIn(t, "app_env:\n  LETS_ENCRYPT_ENV: staging\n", map[string]string{overlay.InstallSteps: steps})
		c := w.withChecker()
		envSet := map[string]string{}
		c.Before = func(call checkerCall) {
			if call.Kind == checkExec {
				envSet[call.Domain], _ = envAt(t, w, call.Domain).Get("LETS_ENCRYPT_ENV")
			}
		}
		out := w.run(t.Context())

		tiers := climb(t, out)
		for _, name := range genericTiers {
			require.Equal(t, results.Pass, tiers[name].Status, "%s: %s", name, tiers[name].Reason)
		}
		script := filepath.Join(w.Overlay.Dir, overlay.InstallSteps)
		assert.Equal(t, []checkerCall{
			{Kind: checkExec, Domain: freshDomain, Name: overlay.InstallSteps, Path: script, Timeout: w.Step},
			{Kind: checkExec, Domain: upgradeDomain, Name: overlay.InstallSteps, Path: script, Timeout: w.Step},
		}, c.Of(checkExec))
		assert.Equal(t, map[string]string{freshDomain: "staging", upgradeDomain: "staging"}, envSet, "the env edits come first")
		j := w.Journal.Entries
		for _, order := range [][]string{
			{"abra fresh: app new --chaos", "check fresh: exec " + overlay.InstallSteps, "abra fresh: deploy --chaos"},
			{"abra upgrade: app new " + testBase, "check upgrade: exec " + overlay.InstallSteps, "abra upgrade: deploy " + testBase},
		} {
			a, s, d := slices.Index(j, order[0]), slices.Index(j, order[1]), slices.Index(j, order[2])
			assert.True(t, a >= 0 && a < s && s < d, "%q in order in %q", order, j)
		}
		assert.Equal(t, results.Pass, checkOf(t, tiers[results.TierInstall], overlay.InstallSteps).Status)
		assert.Equal(t, results.Pass, checkOf(t, tiers[results.TierUpgrade], overlay.InstallSteps).Status)
	})

	tests := []struct {
		name       string
		outcome    *CheckOutcome // nil: no checker wired
		want       results.Status
		wantReason string
		excerpt    string
	}{
		{name: "a script that fails fails install before any deploy, with its output as the excerpt",
			outcome: &CheckOutcome{Status: results.Fail, Reason: "exit status 3", Excerpt: "abra: app not found"},
			want:    results.Fail, wantReason: "install_steps.sh: exit status 3", excerpt: "abra: app not found"},
		{name: "a script that times out leaves install unverified before any deploy",
			outcome: &CheckOutcome{Status: results.Unverified, Reason: "timed out after 10s"},
			want:    results.Unverified, wantReason: "install_steps.sh: timed out after 10s"},
		{name: "a run that cannot execute the script leaves install unverified before any deploy",
			want: results.Unverified, wantReason: "the overlay has install_steps.sh but this run cannot execute it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.Overlay = overlayIn(t, "", map[string]string{overlay.InstallSteps: steps})
			if tt.outcome != nil {
				w.withChecker().Outcomes[overlay.InstallSteps] = *tt.outcome
			}
			out := w.run(t.Context())

			tiers := climb(t, out)
			install := tiers[results.TierInstall]
			assert.Equal(t, tt.want, install.Status)
			assert.Contains(t, install.Reason, tt.wantReason)
			assert.Equal(t, tt.excerpt, out.FailureExcerpt)
			assertNotReached(t, tiers, results.TierInstall, tiersAfter(results.TierInstall)...)
			assert.Equal(t, []string{"fresh: app new --chaos"}, w.Abra.Log(), "nothing deployed")
			if w.Check != nil {
				assert.Len(t, w.Check.Calls, 1, "the script once, and no screenshot of an app never deployed")
			}
		})
	}
}

// TestPinnedImage: an overlay that makes the deployed configuration run another image than the
// PR head's compose files say hides the change under test; the run says so, naming the service
// and both images, and still judges the app.
func TestPinnedImage(t *testing.T) {
	t.Parallel()
	const composeTagged = `version: "3.8"
services:
  app:
    image: gitea/gitea:${GITEA_VERSION}
    deploy:
      labels:
        - "traefik.enable=true"
        - "backupbot.backup=true"
  db:
    image: postgres:15
`
	tests := []struct {
		name    string
		files   map[string]string
		appEnv  string
		service string
		deploys string
		head    string
	}{
		{name: "an app_env value that selects another image tag",
			files: map[string]string{"compose.yml": composeTagged,
				".env.sample": "TYPE=gitea\nDOMAIN=gitea.example.com\nGITEA_VERSION=1.21\n"},
			appEnv:  "GITEA_VERSION: \"1.20\"",
			service: "app", deploys: "gitea/gitea:1.20", head: "gitea/gitea:1.21"},
		{name: "an app_env COMPOSE_FILE that adds an override pinning the database",
			files: map[string]string{"compose.yml": composeTagged, "compose.pin.yml": "version: \"3.8\"\nservices:\n  db:\n    image: postgres:14\n",
				".env.sample": "TYPE=gitea\nDOMAIN=gitea.example.com\nGITEA_VERSION=1.21\nCOMPOSE_FILE=compose.yml\n"},
			appEnv:  "COMPOSE_FILE: compose.yml:compose.pin.yml",
			service: "db", deploys: "postgres:14", head: "postgres:15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.RecipeDir = writeRecipe(t, tt.files)
			w.Overlay = overlayOf(t, "app_env:\n  "+tt.appEnv+"\n")
			out := w.run(t.Context())

			tiers := climb(t, out)
			for _, name := range genericTiers {
				require.Equal(t, results.Pass, tiers[name].Status, "%s: %s", name, tiers[name].Reason)
			}
			require.Len(t, out.Warnings, 1, "once, for the fresh app: %q", out.Warnings)
			warning := out.Warnings[0]
			assert.Contains(t, warning, "service "+tt.service+" runs image "+tt.deploys+", not the PR head's "+tt.head)
			assert.Contains(t, warning, "hides the change under test")
			assert.Equal(t, []string{warning}, tiers[results.TierInstall].Warnings, "and on the tier whose app it is")
		})
	}
}

// TestNoPinWithoutChange: an overlay whose env edits leave every image as the head says warns of
// nothing, even when the edited key is used by the compose files.
func TestNoPinWithoutChange(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.RecipeDir = writeRecipe(t, map[string]string{
		"compose.yml": "version: \"3.8\"\nservices:\n  app:\n    image: gitea/gitea:${GITEA_VERSION}\n    environment:\n      - LOG=${LOG_LEVEL}\n",
		".env.sample": "TYPE=gitea\nDOMAIN=gitea.example.com\nGITEA_VERSION=1.21\nLOG_LEVEL=info\n",
	})
	w.Overlay = overlayOf(t, "app_env:\n  GITEA_VERSION: \"1.21\"\n  LOG_LEVEL: debug\n")
	out := w.run(t.Context())

	require.Equal(t, results.Pass, climb(t, out)[results.TierInstall].Status)
	assert.Empty(t, out.Warnings)
	assert.Empty(t, climb(t, out)[results.TierInstall].Warnings)
}
