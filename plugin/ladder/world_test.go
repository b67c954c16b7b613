package ladder

import (
	"context"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/recipe"
)

// The one app every test deploys.
const (
	testRecipe = "gitea"
	testServer = "ci.example"
	testDomain = "gite-a1b2c3.ci.example"
	testStack  = "gite-a1b2c3_ci_example"
	testHead   = "0123456789abcdef0123456789abcdef01234567"
	testBase   = "1.1.0+1.21.0"
	appPage    = "<!DOCTYPE html><html><head><title>Gitea: Git with a cup of tea</title></head><body><h1>Gitea</h1></body></html>"
)

var (
	versionLabel = "coop-cloud." + testStack + ".version"
	chaosLabel   = "coop-cloud." + testStack + ".chaos-version"
)

// world is one deployment's surroundings: a good recipe by default (a release to upgrade from,
// backups declared, a data probe, the app serving its page). Tests change fields, then run.
type world struct {
	Abra       *fakeAbra
	Swarm      *fakeSwarm
	Git        *fakeGit
	Data       *fakeData // nil: no data probe declared
	Door       *frontDoor
	DoorURL    string // where the ladder finds the front door; Door's URL when empty
	Journal    *journal
	Backup     map[string]string // what the last backup holds
	ChaosLabel string            // what abra labels a chaos deploy with
	RecipeDir  string
	Ready      time.Duration
	Step       time.Duration
	Out        strings.Builder
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{
		Journal:    &journal{},
		Data:       &fakeData{Values: map[string]string{}},
		Door:       newFrontDoor(t),
		ChaosLabel: testHead[:8],
		RecipeDir:  goodRecipe(t),
		Ready:      5 * time.Second,
		Step:       10 * time.Second,
	}
	w.Abra = &fakeAbra{Journal: w.Journal, Errs: map[string][]error{}}
	w.Git = &fakeGit{Journal: w.Journal, Base: recipe.Release{Tag: testBase}, BaseOK: true,
		BaseReason: "newest release " + testBase + " is older than the PR head"}
	w.Swarm = &fakeSwarm{Labels: map[string]map[string]string{
		"app": {"backupbot.backup": "true", "traefik.enable": "true"},
		"db":  {},
	}}
	// abra's effects: a deploy relabels the app service; backup snapshots the data, restore puts
	// the snapshot back in place of the live data.
	w.Abra.OnDeploy = func(version string, chaos bool) {
		app := w.Swarm.Labels["app"]
		if chaos {
			app[chaosLabel] = w.ChaosLabel
			return
		}
		app[versionLabel] = version
		delete(app, chaosLabel)
	}
	w.Abra.OnBackup = func() {
		if w.Data != nil {
			w.Backup = maps.Clone(w.Data.Values)
		}
	}
	w.Abra.OnRestore = func() {
		if w.Data != nil {
			w.Data.Values = maps.Clone(w.Backup)
		}
	}
	return w
}

// ladder builds the Ladder under test from the world's current fields.
func (w *world) ladder() *Ladder {
	l := &Ladder{
		Config: Config{
			Recipe: testRecipe, Domain: testDomain, Stack: testStack, Server: testServer,
			RecipeDir: w.RecipeDir, Head: testHead, FrontDoor: w.Door.URL(),
			StepTimeout: w.Step, ReadyTimeout: w.Ready,
		},
		Abra:  w.Abra,
		Swarm: w.Swarm,
		Git:   w.Git,
		HTTP:  &http.Client{Timeout: 5 * time.Second, CheckRedirect: NoRedirects},
		Out:   &w.Out,
	}
	if w.DoorURL != "" {
		l.FrontDoor = w.DoorURL
	}
	if w.Data != nil { // a nil *fakeData in the interface would not be "no probe"
		l.Data = w.Data
	}
	return l
}

func (w *world) run(ctx context.Context) Outcome { return w.ladder().Run(ctx) }

// goodRecipe writes a recipe checkout that passes preflight.
func goodRecipe(t *testing.T) string {
	t.Helper()
	return writeRecipe(t, map[string]string{
		"compose.yml": `version: "3.8"
services:
  app:
    image: gitea/gitea:1.21
    secrets: [db_password]
    deploy:
      labels:
        - "traefik.enable=true"
        - "backupbot.backup=true"
  db:
    image: postgres:15
secrets:
  db_password:
    external: true
    name: ${STACK_NAME}_db_password_${SECRET_DB_PASSWORD_VERSION}
`,
		".env.sample": `TYPE=gitea
DOMAIN=gitea.example.com
LETS_ENCRYPT_ENV=production
SECRET_DB_PASSWORD_VERSION=v1 # length=32
`,
	})
}

// writeRecipe writes files (name -> content) into a fresh directory.
func writeRecipe(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	return dir
}
