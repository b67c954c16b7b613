package testkit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// E2E is what an end-to-end suite prepares once per test binary: the cc-ci binaries under test,
// the FAKE abra in BinDir (put it first on PATH), the sample images, and the front door.
type E2E struct {
	// Bins maps a command name (cc-ci-plugin, cc-ci-janitor) to its built binary.
	Bins      map[string]string
	BinDir    string
	FrontDoor string
	// Overlays is the repo's recipes/ dir (the sample recipe's data probe lives there).
	Overlays string
}

// PrepareE2E builds each command, named by its module and binary ("plugin/cc-ci-plugin"), into
// tmp, then the FAKE abra, the sample images and the front door on DefaultFrontDoorPort.
func PrepareE2E(ctx context.Context, tmp string, commands ...string) (E2E, error) {
	src, err := sourceDir(ctx)
	if err != nil {
		return E2E{}, err
	}
	root := filepath.Join(src, "..", "..") // internal/testkit -> repo root
	e := E2E{Bins: map[string]string{}, BinDir: filepath.Join(tmp, "bin"), Overlays: filepath.Join(root, "recipes")}
	for _, c := range commands {
		module, name := filepath.Split(c)
		out := filepath.Join(tmp, name)
		if err := goBuild(ctx, filepath.Join(root, module, "cmd", name), out); err != nil {
			return E2E{}, err
		}
		e.Bins[name] = out
	}
	if err := BuildImages(ctx); err != nil {
		return E2E{}, err
	}
	if _, err := BuildFakeAbra(ctx, e.BinDir); err != nil {
		return E2E{}, err
	}
	if e.FrontDoor, err = EnsureFrontDoor(ctx, DefaultFrontDoorPort); err != nil {
		return E2E{}, err
	}
	return e, nil
}

// Host is where one plugin run keeps its state, shared with the janitor: lock dir, runs dir,
// canonical abra dir, and the domain suffix of its apps.
type Host struct {
	LockDir, RunsDir, AbraDir, Suffix string
}

// NewHost lays a Host out under dir.
func NewHost(dir, suffix string) Host {
	return Host{LockDir: filepath.Join(dir, "lock"), RunsDir: filepath.Join(dir, "runs"),
		AbraDir: filepath.Join(dir, "abra"), Suffix: suffix}
}

// EnvPath is where the app's .env of domain lives under this host.
func (h Host) EnvPath(domain string) string {
	return filepath.Join(h.AbraDir, "servers", "default", domain+".env")
}

// The plugin's step timeout and deadline in the e2e suites. A run takes a minute or two on a
// quiet box, but several at once on a loaded 2-CPU CI box have each taken ten: these bounds only
// end a run that hangs, so they are far above that. A test waits E2EDeadline plus the teardown.
const (
	E2EStepTimeout = 8 * time.Minute
	E2EDeadline    = 15 * time.Minute
	E2ERunWait     = E2EDeadline + 2*time.Minute
)

// PluginEnv is the plugin's environment as Drone would pass it for the recipe repo at src, ref
// and pr on host h, with the FAKE abra first on PATH; extra entries come last and win. The recipe
// is named by its repo's directory, as abra names a recipe (MakeRecipe into .../sample,
// MakeNotesRecipe into .../notes); a src that does not exist runs as the sample recipe.
func (e E2E) PluginEnv(h Host, src, ref, pr string, extra ...string) []string {
	env := append(os.Environ(),
		"PATH="+e.BinDir+":"+os.Getenv("PATH"),
		"PLUGIN_RECIPE="+RepoRecipe(src), "PLUGIN_SRC="+src, "PLUGIN_REF="+ref, "PLUGIN_PR="+pr,
		"CCCI_APP_LOCK_DIR="+h.LockDir, "CCCI_RUNS_DIR="+h.RunsDir, "CCCI_ABRA_DIR="+h.AbraDir,
		"CCCI_OVERLAYS_DIR="+e.Overlays, "CCCI_DOMAIN_SUFFIX="+h.Suffix, "CCCI_FRONTDOOR_URL="+e.FrontDoor,
		"CCCI_STEP_TIMEOUT="+E2EStepTimeout.String(), "CCCI_READY_TIMEOUT=20s",
		"CCCI_DEADLINE="+E2EDeadline.String(), "DRONE_BUILD_NUMBER=",
	)
	return append(env, extra...)
}

// RepoRecipe is the name of the recipe whose repo is at src: the directory's name, or RecipeName
// when src does not exist.
func RepoRecipe(src string) string {
	if _, err := os.Stat(src); err != nil {
		return RecipeName
	}
	return filepath.Base(src)
}

// String describes the prepared environment for a failing setup's message.
func (e E2E) String() string {
	return fmt.Sprintf("bins %v, fake abra in %s, front door %s", e.Bins, e.BinDir, e.FrontDoor)
}
