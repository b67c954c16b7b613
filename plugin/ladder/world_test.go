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
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/plugin/overlay"
)

// The run's two apps: the fresh install of the PR head, and the app installed at the upgrade
// base and upgraded to the head. Both names have the same length, so preflight's secret-name
// check reads the same for either.
const (
	testRecipe    = "gitea"
	testServer    = "ci.example"
	freshDomain   = "gite-a1b2c3.ci.example"
	freshStack    = "gite-a1b2c3_ci_example"
	upgradeDomain = "gite-d4e5f6.ci.example"
	upgradeStack  = "gite-d4e5f6_ci_example"
	testStack     = freshStack // the stack preflight is asked about in preflight_test.go
	testHead      = "0123456789abcdef0123456789abcdef01234567"
	testBase      = "1.1.0+1.21.0"
	baseReason    = "newest release " + testBase + " is an ancestor of the PR head"
	appPage       = "<!DOCTYPE html><html><head><title>Gitea: Git with a cup of tea</title></head><body><h1>Gitea</h1></body></html>"
)

// roleOf names an app by its role in the call logs: "fresh" or "upgrade".
func roleOf(domainOrStack string) string {
	switch domainOrStack {
	case freshDomain, freshStack:
		return results.RoleFresh
	case upgradeDomain, upgradeStack:
		return results.RoleUpgrade
	}
	return domainOrStack
}

// stackOf is abra's stack name for one of the two apps.
func stackOf(domain string) string {
	return map[string]string{freshDomain: freshStack, upgradeDomain: upgradeStack}[domain]
}

func versionLabel(stack string) string { return "coop-cloud." + stack + ".version" }
func chaosLabel(stack string) string   { return "coop-cloud." + stack + ".chaos-version" }

// world is one run's surroundings: a good recipe by default (a release to upgrade from, backups
// declared, named volumes and backed-up paths for the data floor, a data probe, both apps serving
// their page, no overlay). Tests change fields, then run.
type world struct {
	Abra    *fakeAbra
	Swarm   *fakeSwarm
	Git     *fakeGit
	Tree    *recipeTree
	Data    *fakeData             // nil: no data probe declared
	Floors  map[string]*fakeFloor // by stack; nil: no generic data floor
	Door    *frontDoor
	DoorURL string // where the ladder finds the front door; Door's URL when empty
	Overlay overlay.Overlay
	// Check runs the overlay's checks and the landing screenshot; nil: no checker is wired.
	Check   *fakeChecker
	Journal *journal
	// Snapshots are the backups abra made: snapshot id -> the app's data at that moment.
	Snapshots map[string]map[string]string
	// ChaosLabels overrides what abra labels one app's chaos deploys with (by domain); without
	// an entry it is the checked-out commit's short SHA, as abra does.
	ChaosLabels map[string]string
	RecipeDir   string
	ServerDir   string
	// ArtifactsDir is the run dir lint.txt and screenshots go to.
	ArtifactsDir string
	Ready        time.Duration
	Step         time.Duration
	Out          strings.Builder
	Decided      []results.Tier // what OnTier was told, in order
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{
		Journal:      &journal{},
		Door:         newFrontDoor(t),
		Snapshots:    map[string]map[string]string{},
		ChaosLabels:  map[string]string{},
		RecipeDir:    goodRecipe(t),
		ServerDir:    t.TempDir(),
		ArtifactsDir: t.TempDir(),
		Ready:        5 * time.Second,
		Step:         10 * time.Second,
	}
	w.Tree = &recipeTree{Ref: testHead}
	w.Data = &fakeData{Values: map[string]map[string]string{}, Journal: w.Journal}
	w.Floors = map[string]*fakeFloor{
		freshStack:   {Stack: freshStack, Volumes: 2, Paths: 1, Errs: map[string]error{}, Journal: w.Journal},
		upgradeStack: {Stack: upgradeStack, Volumes: 2, Paths: 1, Errs: map[string]error{}, Journal: w.Journal},
	}
	w.Abra = &fakeAbra{Journal: w.Journal, Tree: w.Tree, ServerDir: func() string { return w.ServerDir }, LintOutput: lintClean}
	w.Git = &fakeGit{Journal: w.Journal, Tree: w.Tree, Base: recipe.Base{Tag: testBase, Reason: baseReason}, BaseOK: true}
	w.Swarm = &fakeSwarm{Labels: map[string]map[string]map[string]string{}}
	for _, stack := range []string{freshStack, upgradeStack} {
		w.Swarm.Labels[stack] = map[string]map[string]string{
			"app": {"backupbot.backup": "true", "traefik.enable": "true"},
			"db":  {},
		}
	}
	// abra's effects: a deploy labels the app service with the version, or with the commit it
	// deployed for a chaos deploy; backup snapshots the app's data, restore puts a snapshot back
	// in place of the live data.
	w.Abra.OnDeploy = func(domain, version string, chaos bool) {
		app := w.Swarm.Labels[stackOf(domain)]["app"]
		if chaos {
			label, ok := w.ChaosLabels[domain]
			if !ok {
				label = shortSHA(w.Tree.Ref)
			}
			app[chaosLabel(stackOf(domain))] = label
			return
		}
		app[versionLabel(stackOf(domain))] = version
		delete(app, chaosLabel(stackOf(domain)))
	}
	w.Abra.OnBackup = func(domain, snapshot string) {
		if w.Data != nil {
			w.Snapshots[snapshot] = maps.Clone(w.Data.Values[domain])
		}
	}
	w.Abra.OnRestore = func(domain, snapshot string) {
		if w.Data != nil {
			w.Data.Values[domain] = maps.Clone(w.Snapshots[snapshot])
		}
	}
	return w
}

// ladder builds the Ladder under test from the world's current fields.
func (w *world) ladder() *Ladder {
	w.Tree.Dir = w.RecipeDir
	l := &Ladder{
		Config: Config{
			Recipe: testRecipe, FreshDomain: freshDomain, UpgradeDomain: upgradeDomain, Server: testServer,
			ServerDir: w.ServerDir, RecipeDir: w.RecipeDir, Head: testHead, FrontDoor: w.Door.URL(),
			StepTimeout: w.Step, ReadyTimeout: w.Ready, Overlay: w.Overlay, ArtifactsDir: w.ArtifactsDir,
		},
		Abra:   w.Abra,
		Swarm:  w.Swarm,
		Git:    w.Git,
		HTTP:   &http.Client{Timeout: 5 * time.Second, CheckRedirect: NoRedirects},
		Out:    &w.Out,
		OnTier: func(t results.Tier) { w.Decided = append(w.Decided, t) },
	}
	if w.DoorURL != "" {
		l.FrontDoor = w.DoorURL
	}
	if w.Data != nil { // a nil *fakeData in the interface would not be "no probe"
		l.Data = w.Data
	}
	if w.Check != nil { // likewise for the checker
		l.Check = w.Check
	}
	if w.Floors != nil {
		l.Floor = func(stack string) DataFloor {
			if f := w.Floors[stack]; f != nil {
				return f
			}
			return nil
		}
	}
	return l
}

func (w *world) run(ctx context.Context) Outcome { return w.ladder().Run(ctx) }

// lintClean is `abra recipe lint` output (the table format of docs/abra-contract.md, written
// here) in which every rule holds.
const lintClean = `+------+------------------------------------+----------+-----------+---------+
| REF  | RULE                               | SEVERITY | SATISFIED | SKIPPED |
+------+------------------------------------+----------+-----------+---------+
| R001 | compose config has expected version | warn     | ✅        | -       |
| R009 | one service named 'app'            | error    | ✅        | -       |
| R014 | only annotated tags used for recipe version | error | ✅ | - |
+------+------------------------------------+----------+-----------+---------+
`

// withChecker wires a fake checker in which every check passes, writing into the run dir.
func (w *world) withChecker() *fakeChecker {
	w.Check = newFakeChecker(w.ArtifactsDir, w.Journal)
	return w.Check
}

// appEnv is the app's .env as abra keeps it.
func (w *world) appEnv(t *testing.T, domain string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(w.ServerDir, domain+".env"))
	require.NoError(t, err)
	return string(data)
}

// overlayOf parses an overlay config the way the plugin loads recipes/<recipe>/cc-ci.yml.
func overlayOf(t *testing.T, yaml string) overlay.Overlay {
	t.Helper()
	cfg, err := overlay.Parse([]byte(yaml))
	require.NoError(t, err)
	dir := filepath.Join("recipes", testRecipe)
	return overlay.Overlay{Dir: dir, File: filepath.Join(dir, overlay.FileName), Config: cfg}
}

// overlayIn writes an overlay directory, its cc-ci.yml (yaml) and files (name -> content; a .sh
// is executable), and returns it as the loader would: Dir is where install_steps.sh and tests
// are found.
func overlayIn(t *testing.T, yaml string, files map[string]string) overlay.Overlay {
	t.Helper()
	ov := overlayOf(t, yaml)
	ov.Dir = t.TempDir()
	ov.File = filepath.Join(ov.Dir, overlay.FileName)
	ov.Source = overlay.SourceLocal
	all := map[string]string{overlay.FileName: yaml}
	maps.Copy(all, files)
	for name, content := range all {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		path := filepath.Join(ov.Dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), mode))
	}
	return ov
}

const recipeCompose = `version: "3.8"
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
`

const recipeEnvSample = `TYPE=gitea
DOMAIN=gitea.example.com
LETS_ENCRYPT_ENV=production
SECRET_DB_PASSWORD_VERSION=v1 # length=32
`

// goodRecipe writes a recipe checkout that passes preflight.
func goodRecipe(t *testing.T) string {
	t.Helper()
	return writeRecipe(t, map[string]string{"compose.yml": recipeCompose, ".env.sample": recipeEnvSample})
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
