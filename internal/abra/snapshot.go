package abra

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

var (
	// resticSaved is restic's report of a new snapshot, "snapshot 40dc1520 saved"
	// (https://restic.readthedocs.io/en/stable/040_backup.html).
	resticSaved = regexp.MustCompile(`^snapshot ([0-9a-f]{8,64}) saved$`)
	// snapshotRef is a restic snapshot id: the 8-digit short form up to the full 64 digits.
	snapshotRef = regexp.MustCompile(`^[0-9a-f]{8,64}$`)
)

// OutputError is an abra call that succeeded but printed something cc-ci cannot read for certain
// (e.g. no snapshot id after a backup). It is a fault of the tooling contract, not of the recipe.
type OutputError struct {
	Args   []string // the command line without the binary
	Output string   // the last lines abra printed, secrets masked
	Err    error
}

func (e *OutputError) Error() string {
	return fmt.Sprintf("abra %s: %v", strings.Join(e.Args, " "), e.Err)
}

// Unwrap returns the cause.
func (e *OutputError) Unwrap() error { return e.Err }

// ParseSnapshotID returns the id of the snapshot that `abra app backup create` made: from
// restic's "snapshot <id> saved" line, or from a JSON log record's "snapshot_id" (restic's
// --json summary, backupbot's machine logs). No id, or two different ones, is an error: a
// restore must name exactly the snapshot this backup made.
func ParseSnapshotID(output string) (string, error) {
	var ids []string
	for _, line := range strings.Split(ansiEscape.ReplaceAllString(output, ""), "\n") {
		line = strings.TrimSpace(line)
		if m := resticSaved.FindStringSubmatch(line); m != nil {
			ids = append(ids, m[1])
			continue
		}
		if id, ok := jsonSnapshotID(line); ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return "", errors.New(`no snapshot id in the output (expected restic's "snapshot <id> saved" or a JSON "snapshot_id")`)
	}
	best := ids[0]
	for _, id := range ids[1:] {
		switch {
		case strings.HasPrefix(id, best):
			best = id // the full id of the same snapshot
		case strings.HasPrefix(best, id):
		default:
			return "", fmt.Errorf("more than one snapshot id in the output: %s and %s", best, id)
		}
	}
	return best, nil
}

// jsonSnapshotID reads "snapshot_id" from a line holding one JSON object.
func jsonSnapshotID(line string) (string, bool) {
	if !strings.HasPrefix(line, "{") || !strings.Contains(line, `"snapshot_id"`) {
		return "", false
	}
	var rec struct {
		SnapshotID string `json:"snapshot_id"`
	}
	if err := json.Unmarshal([]byte(line), &rec); err != nil || !snapshotRef.MatchString(rec.SnapshotID) {
		return "", false
	}
	return rec.SnapshotID, true
}
