// Package floor is the generic data check that needs nothing from a recipe's maintainer (DESIGN.md
// 4.4, issue 7 case 4): it proves that data survives an upgrade and comes back after a restore,
// for any recipe, with no overlay, by writing random markers into the app's storage and reading
// them back.
//
//   - Upgrade: before it, MarkVolumes writes a marker file into every named volume of the stack;
//     after it, CheckVolumes proves each is still there with the same content. A volume that was
//     renamed or re-created, or wiped on start (see Markers for the one wipe it misses), loses its
//     marker; a volume that no running service mounts any more is lost too.
//   - Backup and restore: before the backup, MarkBackupPaths writes a marker inside every
//     directory the recipe's backupbot labels cover (internal/backupbot, as backup-bot-two reads
//     them) and remembers the content of every covered regular file; a covered path that is
//     absent then is one the backup's pre-hook writes (a database dump), and what the backup
//     wrote there is adopted as its mark right after the backup. After the backup,
//     MutateBackupPaths changes every mark (new marker values, other content in the files);
//     after the restore, CheckBackupPaths proves each is back to its value at backup time. A
//     mark the backup itself changed (a hook rewrote or removed it) proves nothing and is
//     dropped as uncovered, never reported as lost.
//
// Everything goes through the Docker API's archive endpoint (docker cp) on a running task
// container of a service that mounts the place, so it works for any image, shell or not.
//
// Markers. A marker is a file named MarkerVolume or MarkerBackup (a dot-file in cc-ci's own
// namespace, which no app uses) holding a fresh random value on every run, so a marker left by an
// earlier run never counts as proof, and the name never accumulates: each run overwrites the last
// run's file. Markers are not removed afterwards (the archive API cannot delete a file): a CI
// app's volumes are removed with the app at teardown, and a long-lived app keeps one small
// dot-file per marked directory. New marker files are owned by root with mode 0644; a file that is
// overwritten keeps its own mode and owner. A dot-file is what an app's own globs and loaders
// skip (an nginx `include dir/*`, say), so the marker cannot break the app; the price is that a
// wipe which spares dot-files (`rm -rf /data/*`) leaves the marker in place: the overlay's data
// hooks are the check that sees the app's own data.
//
// Limits. A covered file that the app itself rewrites between the backup and the check (a live
// SQLite database with background writes) reads as other content. Only what lies in the covered
// paths is proven, not that the app loads it: a restore post-hook that does not load the dump is
// the overlay's data hooks' to catch.
//
// Errors. A *LostError (DataLost() is true) is the recipe losing data: it lists every volume or
// path, what was expected and what was found; the ladder fails the tier on it. Any other error is
// the infrastructure's (the Docker API failing, no running container to reach a volume through):
// the ladder reports it as unverified. When both happen, the error joins them and errors.As still
// finds the *LostError: a proven loss is a loss whatever else could not be checked. A mark that
// finds nothing to mark returns 0 and no error (a gap for the ladder, never a pass); Uncovered
// then says why. A mutation or check with nothing (left) to prove returns an error wrapping
// ErrNothingMarked: also a gap, which a caller must never count as a pass.
package floor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"coopcloud.tech/cc-ci/internal/swarm"
)

// Marker file names. The volume marker sits at each volume's root; the backup marker inside each
// directory a backup covers. They differ so the two checks never read each other's marker.
const (
	MarkerVolume = ".ccci-floor-volume"
	MarkerBackup = ".ccci-floor-backup"
)

// ErrNothingMarked means a check or mutation was asked for while nothing was marked: there is
// nothing it could prove.
var ErrNothingMarked = errors.New("the data floor marked nothing")

// docker is what the floor needs of the Docker engine (implemented by *swarm.Client).
type docker interface {
	StackServices(ctx context.Context, stack string) ([]swarm.StackService, error)
	RunningContainer(ctx context.Context, service string) (string, error)
	StatPath(ctx context.Context, containerID, path string) (fs.FileMode, error)
	ReadFile(ctx context.Context, containerID, path string, w io.Writer) (swarm.FileMeta, error)
	WriteFile(ctx context.Context, containerID, path string, content []byte, meta swarm.FileMeta) error
	ReadTree(ctx context.Context, containerID, dir string, fn func(rel string, meta swarm.FileMeta, content io.Reader) error) error
}

// Floor is the data floor of one stack. Use one Floor per app, in order: MarkVolumes, (upgrade),
// CheckVolumes; MarkBackupPaths, (backup), MutateBackupPaths, (restore), CheckBackupPaths. It
// remembers what it marked between the calls; it is not safe for concurrent use.
type Floor struct {
	Docker docker
	Stack  string
	Out    io.Writer // progress lines for the run's log; nil: none

	volumes   []*mark
	backups   []*mark
	uncovered []string
}

// Uncovered returns one line per place the last Mark or Mutate call could not cover, with the
// reason (e.g. a volume only a service scaled to zero mounts; a labelled file absent before the
// backup). They are gaps of the floor, never losses.
func (f *Floor) Uncovered() []string { return append([]string(nil), f.uncovered...) }

// Loss is one place whose data did not survive.
type Loss struct {
	Volume  string // compose volume name (without the stack prefix); "" for a path outside every volume
	Service string // service (without the stack prefix) that mounted or declared it
	Path    string // path in that service's containers
	Want    string // what should have been there
	Got     string // what was found
}

func (l Loss) String() string {
	where := l.Path
	switch {
	case l.Volume != "" && l.Service != "":
		where = fmt.Sprintf("volume %s (service %s, %s)", l.Volume, l.Service, l.Path)
	case l.Volume != "":
		where = "volume " + l.Volume
	case l.Service != "":
		where = fmt.Sprintf("%s in service %s", l.Path, l.Service)
	}
	return fmt.Sprintf("%s: want %s, found %s", where, l.Want, l.Got)
}

// LostError means the recipe lost data: each Loss names the place, what was expected and what was
// found.
type LostError struct {
	Step   string // what lost it: "the upgrade" or "the restore"
	Losses []Loss
}

func (e *LostError) Error() string {
	parts := make([]string, 0, len(e.Losses))
	for _, l := range e.Losses {
		parts = append(parts, l.String())
	}
	return fmt.Sprintf("data lost across %s: %s", e.Step, strings.Join(parts, "; "))
}

// DataLost reports that this error is the recipe losing data (not an infrastructure fault).
func (e *LostError) DataLost() bool { return true }

// result gathers a step's losses and infrastructure errors into the one error it returns.
func result(step string, losses []Loss, errs []error) error {
	var lost error
	if len(losses) > 0 {
		lost = &LostError{Step: step, Losses: losses}
	}
	return errors.Join(append([]error{lost}, errs...)...)
}

func (f *Floor) logf(format string, args ...any) {
	if f.Out != nil {
		fmt.Fprintf(f.Out, "    data floor: "+format+"\n", args...)
	}
}

func (f *Floor) skip(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	f.uncovered = append(f.uncovered, line)
	f.logf("not covered: %s", line)
}

// newValue is a fresh marker value: random, recognisable, and saying what it is to whoever finds
// it in a volume.
func newValue(what string) []byte {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the kernel's RNG failing is not recoverable
	}
	return []byte("cc-ci data floor " + what + " " + hex.EncodeToString(b) + " (safe to delete)\n")
}

// short strips the stack prefix from a service or volume name for messages.
func (f *Floor) short(name string) string {
	if s, ok := strings.CutPrefix(name, f.Stack+"_"); ok && s != "" {
		return s
	}
	return name
}
