package ladder

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
)

const goodCompose = "services:\n  app:\n    image: gitea/gitea:1.21\n"

// secretOf returns a secret name of n characters (lower case, as the recipe's compose.yml has it).
func secretOf(n int) string { return "s_" + strings.Repeat("x", n-2) }

// sample is the smallest .env.sample abra app new can use for the test recipe.
const sample = "TYPE=gitea\nDOMAIN=gitea.example.com\n"

// envWithSecret is a .env.sample declaring the secret at version v1.
func envWithSecret(name string) string {
	return sample + "SECRET_" + strings.ToUpper(name) + "_VERSION=v1 # length=32\n"
}

func TestPreflight(t *testing.T) {
	t.Parallel()
	// <stack>_<name>_v1 is len(testStack)+len(name)+4 characters; Docker allows 64.
	fits := secretOf(64 - len(testStack) - 4)
	tooLong := secretOf(65 - len(testStack) - 4)
	tests := []struct {
		name  string
		files map[string]string
		want  []string // one substring per expected problem, in order; nil: no problems
		also  string   // a further substring of the problems, e.g. the line
	}{
		{name: "a good recipe has no problems", files: map[string]string{"compose.yml": goodCompose, ".env.sample": sample}},
		{name: "a missing .env.sample is named with its fix",
			files: map[string]string{"compose.yml": goodCompose},
			want:  []string{".env.sample is missing: every recipe needs one"}},
		{name: "an .env.sample line that is not an assignment is named",
			files: map[string]string{"compose.yml": goodCompose, ".env.sample": sample + "this is not an assignment\n"},
			want:  []string{".env.sample does not parse"}, also: "line 3: no '='"},
		{name: "a compose.yml that is not YAML is named with the line",
			files: map[string]string{"compose.yml": "services:\n  app:\n    image: [unclosed\n", ".env.sample": sample},
			want:  []string{"compose.yml does not parse as YAML"}, also: "yaml: line 2"},
		{name: "a compose.yml that docker would refuse is named with the problem",
			files: map[string]string{"compose.yml": "services:\n  app:\n    image: x\n    deploy:\n      replicas: lots\n", ".env.sample": sample},
			want:  []string{"compose.yml does not load"}, also: "replicas"},
		{name: "a missing compose.yml is named",
			files: map[string]string{".env.sample": sample},
			want:  []string{"compose.yml is missing"}},
		{name: "a compose.yml without services is named",
			files: map[string]string{"compose.yml": "version: \"3.8\"\nvolumes:\n  data:\n", ".env.sample": sample},
			want:  []string{"compose.yml declares no services"}},
		{name: "a file named by COMPOSE_FILE that is missing is named",
			files: map[string]string{"compose.yml": goodCompose, ".env.sample": sample + "COMPOSE_FILE=compose.yml:compose.smtp.yml\n"},
			want:  []string{"compose.smtp.yml is missing (named by COMPOSE_FILE in .env.sample)"}},
		{name: "COMPOSE_FILE chained across lines as recipes write it is read as abra reads it",
			files: map[string]string{"compose.yml": goodCompose, "compose.pg.yml": "services:\n  db:\n    image: postgres:15\n",
				".env.sample": sample + "COMPOSE_FILE=\"compose.yml\"\nCOMPOSE_FILE=\"$COMPOSE_FILE:compose.pg.yml\"\n#COMPOSE_FILE=\"$COMPOSE_FILE:compose.smtp.yml\"\n"}},
		{name: "a chained COMPOSE_FILE naming a missing file names that file",
			files: map[string]string{"compose.yml": goodCompose,
				".env.sample": sample + "COMPOSE_FILE=\"compose.yml\"\nCOMPOSE_FILE=\"${COMPOSE_FILE}:compose.pg.yml\"\n"},
			want: []string{"compose.pg.yml is missing (named by COMPOSE_FILE in .env.sample)"}},
		{name: "a config versioned in abra.sh loads",
			files: map[string]string{"compose.yml": goodCompose + "    configs: [conf]\nconfigs:\n  conf:\n    name: ${STACK_NAME}_conf_${CONF_VERSION}\n    file: app.conf\n",
				"app.conf": "x\n", "abra.sh": "export CONF_VERSION=v2\n", ".env.sample": sample}},
		{name: "an override file named by COMPOSE_FILE may declare no services",
			files: map[string]string{"compose.yml": goodCompose, "compose.volumes.yml": "volumes:\n  data:\n",
				".env.sample": sample + "COMPOSE_FILE=\"compose.yml:compose.volumes.yml\"\n"}},
		{name: "a broken override file is named, not compose.yml",
			files: map[string]string{"compose.yml": goodCompose, "compose.smtp.yml": "services: [\n",
				".env.sample": sample + "COMPOSE_FILE=compose.yml:compose.smtp.yml\n"},
			want: []string{"compose.smtp.yml does not parse as YAML"}},
		{name: "a .env.sample without DOMAIN is named with the key abra app new needs",
			files: map[string]string{"compose.yml": goodCompose, ".env.sample": "TYPE=gitea\nLETS_ENCRYPT_ENV=production\n"},
			want:  []string{".env.sample has no DOMAIN=...: abra app new writes the app's domain there (it replaces gitea.example.com); add DOMAIN=gitea.example.com"}},
		{name: "a commented-out DOMAIN is no DOMAIN",
			files: map[string]string{"compose.yml": goodCompose, ".env.sample": "TYPE=gitea\n#DOMAIN=gitea.example.com\n"},
			want:  []string{".env.sample has no DOMAIN="}},
		{name: "a DOMAIN without the recipe's placeholder would never be wired",
			files: map[string]string{"compose.yml": goodCompose, ".env.sample": "TYPE=gitea\nDOMAIN=git.example.org\n"},
			want:  []string{".env.sample has DOMAIN=git.example.org, which does not contain gitea.example.com: abra app new replaces only gitea.example.com"}},
		{name: "a DOMAIN holding the placeholder in a longer name is wired",
			files: map[string]string{"compose.yml": goodCompose, ".env.sample": "TYPE=gitea\nDOMAIN=\"gitea.example.com\" # your domain\n"}},
		{name: "RECIPE instead of TYPE names the recipe too",
			files: map[string]string{"compose.yml": goodCompose, ".env.sample": "RECIPE=gitea\nDOMAIN=gitea.example.com\n"}},
		{name: "a .env.sample without TYPE or RECIPE is named",
			files: map[string]string{"compose.yml": goodCompose, ".env.sample": "DOMAIN=gitea.example.com\n"},
			want:  []string{".env.sample has no TYPE=...: abra finds an app's recipe from the TYPE line"}},
		{name: "a secret whose swarm name is exactly 64 characters fits",
			files: map[string]string{"compose.yml": goodCompose, ".env.sample": envWithSecret(fits)}},
		{name: "a secret whose swarm name is 65 characters is named with its length",
			files: map[string]string{"compose.yml": goodCompose, ".env.sample": envWithSecret(tooLong)},
			want:  []string{"secret " + tooLong + " would be named \"" + testStack + "_" + tooLong + "_v1\" (65 chars), over Docker's 64"}},
		{name: "a commented-out long secret is not declared",
			files: map[string]string{"compose.yml": goodCompose, ".env.sample": sample + "#SECRET_" + strings.ToUpper(tooLong) + "_VERSION=v1\n"}},
		{name: "every problem is reported, not only the first",
			files: map[string]string{"compose.yml": "services: [\n", ".env.sample": envWithSecret(tooLong)},
			want:  []string{"compose.yml does not parse as YAML", "secret " + tooLong}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Preflight(writeRecipe(t, tt.files), testRecipe, testStack)
			require.Len(t, got, len(tt.want), "problems: %q", got)
			for i, want := range tt.want {
				assert.Contains(t, got[i], want)
			}
			assert.Contains(t, strings.Join(got, "\n"), tt.also)
		})
	}
}

func TestPreflightStopsTheLadder(t *testing.T) {
	t.Parallel()
	long := secretOf(50)
	tests := []struct {
		name       string
		files      map[string]string
		wantReason string
	}{
		{name: "a broken compose.yml fails install naming compose.yml without calling abra",
			files:      map[string]string{"compose.yml": "services:\n  app:\n\timage: tabs-are-not-yaml\n", ".env.sample": sample},
			wantReason: "compose.yml does not parse as YAML"},
		{name: "a missing .env.sample fails install naming .env.sample without calling abra",
			files:      map[string]string{"compose.yml": goodCompose},
			wantReason: ".env.sample is missing"},
		{name: "a .env.sample without DOMAIN fails install naming the file and key without calling abra",
			files:      map[string]string{"compose.yml": goodCompose, ".env.sample": "TYPE=gitea\n"},
			wantReason: ".env.sample has no DOMAIN="},
		{name: "a secret name over 64 characters fails install naming the secret without calling abra",
			files:      map[string]string{"compose.yml": goodCompose, ".env.sample": envWithSecret(long)},
			wantReason: "secret " + long + " would be named"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.RecipeDir = writeRecipe(t, tt.files)
			out := w.run(t.Context())

			tiers := climb(t, out)
			install := tiers[results.TierInstall]
			assert.Equal(t, results.Fail, install.Status)
			assert.Contains(t, install.Reason, tt.wantReason)
			assert.Equal(t, results.Fail, checkOf(t, install, "preflight").Status)
			assertNotReached(t, tiers, results.TierInstall, tiersAfter(results.TierInstall)...)
			assert.Empty(t, w.Abra.Got, "no abra call at all")
			assert.Equal(t, 0, out.Deploys)
			assert.Empty(t, w.Git.Checkouts)
			assert.Empty(t, w.Swarm.Waits)
			assert.Empty(t, w.Door.Hosts())
			assert.Empty(t, w.Data.Calls)
			assert.Equal(t, results.VerdictFail, results.Verdict(out.Tiers))
		})
	}
}
