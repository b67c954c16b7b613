// Package rundir lays out one run's private directory: its ABRA_DIR, its result files and its
// state files (DESIGN.md sections 3 and 4.2).
//
// A run's ABRA_DIR shares servers/ and catalogue/ with the canonical abra dir through symlinks, so
// an app's .env written by abra lands where the janitor and later runs expect it, while recipes/
// is a real directory private to the run: two runs of the same recipe never share a checkout.
package rundir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Directory modes: results.json and the log are read by the dashboard, which may run as another
// user, so run directories stay world-readable; secrets never live here (they are swarm secrets).
const dirMode = 0o755

// RunID names a run: "drone-<DRONE_BUILD_NUMBER>" inside a Drone build, else "manual-<pid>".
// Only a positive decimal build number counts; anything else is treated as a run by hand, so a
// garbage value can never produce a path like "drone-../x".
func RunID(getenv func(string) string, pid int) string {
	if n, err := strconv.ParseUint(getenv("DRONE_BUILD_NUMBER"), 10, 63); err == nil && n > 0 {
		return DroneRunID(n)
	}
	return "manual-" + strconv.Itoa(pid)
}

// Dir is one run's directory. All paths are absolute.
type Dir struct {
	// ID is the run id, the last element of Root.
	ID string
	// Root is <runs dir>/<id>.
	Root string
	// AbraDir is Root/abra, exported as ABRA_DIR to every abra call of the run.
	AbraDir string
	// Canonical is the shared abra dir that servers/ and catalogue/ point into.
	Canonical string
}

// Create builds <runsDir>/<runID>/abra with servers/ and catalogue/ as symlinks into
// canonicalAbraDir (creating canonical servers/ and catalogue/ when missing) and a private, real
// recipes/ directory, plus Root/state/. Calling it again for the same id keeps working; it refuses
// to continue when servers/ or catalogue/ is a real directory or a symlink pointing elsewhere,
// because then an app's .env would not land in the canonical dir.
func Create(runsDir, canonicalAbraDir, runID string) (*Dir, error) {
	if err := validateRunID(runID); err != nil {
		return nil, err
	}
	runs, err := filepath.Abs(runsDir)
	if err != nil {
		return nil, fmt.Errorf("runs dir %q: %w", runsDir, err)
	}
	canonical, err := filepath.Abs(canonicalAbraDir)
	if err != nil {
		return nil, fmt.Errorf("canonical abra dir %q: %w", canonicalAbraDir, err)
	}
	root := filepath.Join(runs, runID)
	d := &Dir{ID: runID, Root: root, AbraDir: filepath.Join(root, "abra"), Canonical: canonical}

	for _, shared := range []string{"servers", "catalogue"} {
		target := filepath.Join(canonical, shared)
		if err := os.MkdirAll(target, dirMode); err != nil {
			return nil, fmt.Errorf("create canonical %s dir: %w", shared, err)
		}
	}
	if err := os.MkdirAll(d.AbraDir, dirMode); err != nil {
		return nil, fmt.Errorf("create run abra dir: %w", err)
	}
	for _, shared := range []string{"servers", "catalogue"} {
		if err := ensureSymlink(filepath.Join(d.AbraDir, shared), filepath.Join(canonical, shared)); err != nil {
			return nil, err
		}
	}
	if err := ensureRealDir(filepath.Join(d.AbraDir, "recipes")); err != nil {
		return nil, err
	}
	if err := ensureRealDir(filepath.Join(root, "state")); err != nil {
		return nil, err
	}
	return d, nil
}

// validateRunID keeps the id a single, harmless path element.
func validateRunID(id string) error {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, `/\`) {
		return fmt.Errorf("run id %q: must be a single path element", id)
	}
	return nil
}

// ensureSymlink makes link a symlink to target, accepting one that already points there.
func ensureSymlink(link, target string) error {
	err := os.Symlink(target, link)
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("link %s -> %s: %w", link, target, err)
	}
	fi, err := os.Lstat(link)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", link, err)
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return fmt.Errorf("%s is a real %s, not a symlink to %s: remove it so app .env files land in the canonical abra dir",
			link, kind(fi), target)
	}
	got, err := os.Readlink(link)
	if err != nil {
		return fmt.Errorf("read link %s: %w", link, err)
	}
	if !filepath.IsAbs(got) {
		got = filepath.Join(filepath.Dir(link), got)
	}
	if filepath.Clean(got) != target {
		return fmt.Errorf("%s points to %s, want %s: remove the link (the canonical abra dir changed?)", link, got, target)
	}
	return nil
}

// ensureRealDir creates dir, refusing a symlink there: recipes/ must be private to the run.
func ensureRealDir(dir string) error {
	if fi, err := os.Lstat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("%s is a %s, want a private directory: remove it", dir, kind(fi))
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return nil
}

func kind(fi fs.FileInfo) string {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return "symlink"
	case fi.IsDir():
		return "directory"
	default:
		return "file"
	}
}

// RecipeDir is the run's private checkout of recipe: AbraDir/recipes/<recipe>.
func (d *Dir) RecipeDir(recipe string) string {
	return filepath.Join(d.AbraDir, "recipes", recipe)
}

// AppEnvPath is the app's .env as abra sees it during the run, through the servers/ symlink.
func (d *Dir) AppEnvPath(server, domain string) string {
	return filepath.Join(d.AbraDir, "servers", server, domain+".env")
}

// CanonicalAppEnvPath is the same .env addressed in the canonical abra dir, as the janitor sees it.
func (d *Dir) CanonicalAppEnvPath(server, domain string) string {
	return filepath.Join(d.Canonical, "servers", server, domain+".env")
}

// DroneRunID is the run id of Drone build n (DESIGN 3): what the bridge and the dashboard look
// a build's run dir up by.
func DroneRunID(n uint64) string { return "drone-" + strconv.FormatUint(n, 10) }

// ResultsName is the file name of a run's results.
const ResultsName = "results.json"

// ResultsFile is where run runID's results.json lives under runsDir, for readers that are not
// the run itself (the bridge, the dashboard).
func ResultsFile(runsDir, runID string) string { return filepath.Join(runsDir, runID, ResultsName) }

// ResultsPath is Root/results.json.
func (d *Dir) ResultsPath() string { return filepath.Join(d.Root, ResultsName) }

// SummaryPath is Root/summary.md.
func (d *Dir) SummaryPath() string { return filepath.Join(d.Root, "summary.md") }

// LogPath is Root/log.txt.
func (d *Dir) LogPath() string { return filepath.Join(d.Root, "log.txt") }

// ScreenshotPath is Root/screenshot.png.
func (d *Dir) ScreenshotPath() string { return filepath.Join(d.Root, "screenshot.png") }

// StatePath is Root/state/<name>, for per-run state that must never be keyed by domain in /tmp.
// name is a plain file name.
func (d *Dir) StatePath(name string) string { return filepath.Join(d.Root, "state", name) }

// Environ returns a copy of base with ABRA_DIR=<AbraDir>, replacing every existing ABRA_DIR so an
// operator's own setting can never leak into a run.
func (d *Dir) Environ(base []string) []string {
	env := make([]string, 0, len(base)+1)
	for _, kv := range base {
		if !strings.HasPrefix(kv, "ABRA_DIR=") {
			env = append(env, kv)
		}
	}
	return append(env, "ABRA_DIR="+d.AbraDir)
}
