package e2e_test

import (
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/naming"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/testkit"
	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
	"coopcloud.tech/cc-ci/internal/testkit/fakeforge"
	"coopcloud.tech/cc-ci/internal/testkit/forgehook"
)

// suffix is the domain suffix of the apps the real plugin deploys.
const suffix = "ci.local"

// pluginWait bounds one real run seen from the PR: the ladder on the sample recipe takes about a
// minute, a crash loop is detected in seconds; the bound is the plugin's own e2e deadline.
const pluginWait = testkit.E2ERunWait

// pluginRunner is the fake Drone's runner for w: the REAL cc-ci-plugin as the build's step, the
// way cc-ci's .drone.yml runs it on the exec runner. The CI box's host paths are the runner's
// environment; the recipe, ref, PR and the rest come only from the build params the bridge sent
// (CCCI_*), so a wrong param shows as a wrong run. The FAKE abra goes first on PATH through the
// step's environment, since a PATH in the runner's loses to the process's, as in Drone.
func (w *world) pluginRunner() fakedrone.Runner {
	h := testkit.NewHost(w.dir, suffix)
	return fakedrone.ExecConfig{
		Bin: env.Bins["cc-ci-plugin"],
		Env: []string{
			"CCCI_APP_LOCK_DIR=" + h.LockDir,
			"CCCI_RUNS_DIR=" + w.runsDir(), // where the bridge reads results.json
			"CCCI_ABRA_DIR=" + h.AbraDir,
			"CCCI_OVERLAYS_DIR=" + env.Overlays,
			"CCCI_DOMAIN_SUFFIX=" + suffix,
			"CCCI_FRONTDOOR_URL=" + env.FrontDoor,
			// As testkit.E2E.PluginEnv: short enough that a hang fails the test, not the suite.
			"CCCI_STEP_TIMEOUT=" + testkit.E2EStepTimeout.String(), "CCCI_READY_TIMEOUT=20s",
			"CCCI_DEADLINE=" + testkit.E2EDeadline.String(),
		},
		StepEnv: []string{"PATH=" + env.BinDir + ":" + os.Getenv("PATH")},
	}.Runner()
}

// TestAPluginRunReachesThePR is issue 8's end-to-end test: a signed !testme from GitHub or
// Forgejo goes through the bridge to the fake Drone, which runs the real plugin on the sample
// recipe on the real swarm, and the PR ends up with what a maintainer must see.
func TestAPluginRunReachesThePR(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		forge   string
		variant testkit.Variant
		// pr keeps each case's apps apart on the swarm: the recipe's commits are reproducible,
		// so only the PR number tells two runs of the same head apart (naming.Domain).
		pr      int
		state   string // the final commit status
		desc    string // in the final status's description
		heading string // the sticky comment's heading
		tier    string // the tier the comment must name
		reason  string // a regexp the failing tier's reason matches in the status; "" for a pass
	}{
		// One green and one red run: each forge's whole path (eyes, pending with the link,
		// verdict, sticky) is proven by one of them; a run costs the box half a CPU-minute.
		{"a GitHub !testme on the good recipe ends in success at level 3", forgehook.GitHub, testkit.Good, 801,
			"success", "level 3/5", "level 3/5 · pass", results.TierRestore, ""},
		{"a Forgejo !testme on a crash-looping head ends in failure at INSTALL", forgehook.Gitea, testkit.CrashLoop, 803,
			"failure", "fail at INSTALL", "fail at install", results.TierInstall, `crash|non-zero exit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, err := testkit.MakeRecipe(filepath.Join(t.TempDir(), testkit.RecipeName), tt.variant)
			require.NoError(t, err)
			w := newWorld(t, tt.forge, nil)
			w.drone.SetRunner(w.pluginRunner())
			// A local path is a clone URL the plugin accepts: the PR's head repo is the recipe.
			w.forge.AddPR(fakeforge.PR{Repo: repo, Number: tt.pr, Open: true, HeadSHA: rec.Head, HeadRef: "feature",
				Author: "contributor", CloneURL: rec.Src})
			w.start()

			c := w.forge.AddComment(repo, tt.pr, maintainer, "!testme")
			p := forgehook.CommentParams{Repo: repo, PR: tt.pr, CommentID: c.ID, Body: c.Body, Author: maintainer,
				CloneURL: rec.Src, Time: c.Created}
			d := forgehook.GitHubComment(p)
			if tt.forge == forgehook.Gitea {
				p.BaseURL, p.Forgejo = w.gitea.URL, true
				d = forgehook.GiteaComment(p)
				require.NotEmpty(t, d.Headers.Get("X-Forgejo-Event"), "a Forgejo delivery")
			}
			begin := time.Now()
			require.Equal(t, http.StatusAccepted, w.deliver(d))
			t.Logf("webhook answered in %s", time.Since(begin))

			var sts []fakeforge.Status
			w.waitFor(pluginWait, "a final status on "+rec.Head, func() bool {
				sts = w.forge.Statuses(repo, rec.Head)
				return len(sts) > 0 && sts[len(sts)-1].State != "pending"
			})
			t.Logf("verdict on the PR %s after the webhook", time.Since(begin))
			w.checkPluginRun(t, rec, tt.pr, tt.forge)

			last := sts[len(sts)-1]
			assert.Equal(t, tt.state, last.State, "final status: %+v", last)
			assert.Contains(t, last.Description, tt.desc)
			if tt.reason != "" {
				assert.Regexp(t, tt.reason, last.Description, "the status says why")
			}
			assert.Equal(t, "pending", sts[0].State, "the PR got a live link before the verdict")
			assert.Equal(t, w.drone.BuildLink(droneRepoOwner, droneRepoName, 1), sts[0].TargetURL)
			for _, st := range sts {
				assert.Equal(t, "cc-ci/testme", st.Context)
			}
			for _, st := range sts[:len(sts)-1] {
				assert.Equal(t, "pending", st.State, "only the last status is a verdict: %+v", sts)
			}

			reactions := w.forge.Reactions(repo, c.ID)
			require.Len(t, reactions, 1)
			assert.Equal(t, "eyes", reactions[0].Content)
			assert.Equal(t, bot, reactions[0].User)

			w.waitFor(10*time.Second, "the verdict in the sticky comment", func() bool {
				s := w.stickies(tt.pr)
				return len(s) == 1 && strings.Contains(s[0].Body, tt.heading)
			})
			stickies := w.stickies(tt.pr)
			require.Len(t, stickies, 1, "one sticky comment, edited in place")
			assert.Len(t, w.forge.CommentsBy(repo, tt.pr, bot), 1, "and no other comment")
			body := stickies[0].Body
			assert.Contains(t, body, "| "+tt.tier+" |", "the tier table names the tier")
			assert.Contains(t, body, rec.Head[:7], "the comment names the commit tested")
			assert.Contains(t, body, w.drone.BuildLink(droneRepoOwner, droneRepoName, 1), "and links the live log")
		})
	}
}

// checkPluginRun checks that the real plugin ran the build the bridge asked for, and that it
// left nothing on the swarm.
func (w *world) checkPluginRun(t *testing.T, rec testkit.Recipe, pr int, forge string) {
	t.Helper()
	builds := w.drone.Builds(droneRepoOwner, droneRepoName)
	require.Len(t, builds, 1, "exactly one build")
	prs := strconv.Itoa(pr)
	for k, want := range map[string]string{"CCCI_RECIPE": testkit.RecipeName, "CCCI_SRC": rec.Src,
		"CCCI_REF": rec.Head, "CCCI_PR": prs, "CCCI_FORGE": forge, "CCCI_MODE": "cold"} {
		assert.Equal(t, want, builds[0].Params[k], k)
	}
	log := w.drone.Log(droneRepoOwner, droneRepoName, 1)
	assert.Contains(t, log, "==> [", "the plugin's stage banners are in the build log")
	res, err := results.ReadFile(filepath.Join(w.runsDir(), "drone-1", "results.json"))
	require.NoError(t, err, "the plugin wrote results.json where the bridge reads it; build log:\n%s", log)
	assert.Equal(t, rec.Head, res.Ref)
	assert.Equal(t, prs, res.PR)
	assert.True(t, res.Teardown.Clean, "teardown: %+v", res.Teardown)
	h := testkit.NewHost(w.dir, suffix)
	for _, d := range []string{naming.Domain(testkit.RecipeName, prs, rec.Head, suffix),
		naming.UpgradeDomain(testkit.RecipeName, prs, rec.Head, suffix)} {
		assert.Empty(t, swarmResidue(t, naming.Stack(d)), "run left behind on the swarm")
		assert.NoFileExists(t, h.EnvPath(d), "the app's .env must be removed")
	}
}

// swarmResidue lists what of stack is still on the swarm, by the docker CLI: the bridge module
// does not depend on the Docker SDK, so internal/swarm's Residue is out of reach. Like it, an
// object belongs to the stack by its namespace label or by its "<stack>_" name.
func swarmResidue(t *testing.T, stack string) []string {
	t.Helper()
	names := func(args ...string) []string {
		out, err := exec.CommandContext(t.Context(), "docker", args...).CombinedOutput()
		require.NoError(t, err, "docker %v: %s", args, out)
		return strings.Fields(string(out))
	}
	label := "label=com.docker.stack.namespace=" + stack
	left := map[string]bool{}
	for _, kind := range []string{"service", "volume", "secret", "config", "network"} {
		for _, name := range names(kind, "ls", "--filter", label, "--format", "{{.Name}}") {
			left[kind+" "+name] = true
		}
		for _, name := range names(kind, "ls", "--format", "{{.Name}}") {
			if strings.HasPrefix(name, stack+"_") {
				left[kind+" "+name] = true
			}
		}
	}
	for _, name := range names("ps", "--all", "--filter", label, "--format", "{{.Names}}") {
		left["container "+name] = true
	}
	if slices.Contains(names("stack", "ls", "--format", "{{.Name}}"), stack) {
		left["stack "+stack] = true
	}
	return slices.Sorted(maps.Keys(left))
}
