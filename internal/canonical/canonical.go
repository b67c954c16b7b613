// Package canonical keeps each recipe's last green canonical: the released version whose cold
// run last went green, with that run's results. The upgrade base chain tries it first (DESIGN.md
// 4.4), since a release cc-ci has proven is the best place an operator's upgrade starts from.
//
// The record lives in the runs dir, <runs>/canonical/<recipe>.json, beside a copy of the run's
// results.json, written atomically so a reader never sees half a record.
package canonical

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"coopcloud.tech/cc-ci/internal/atomicfile"
	"coopcloud.tech/cc-ci/internal/results"
)

// Record is one recipe's last green canonical.
type Record struct {
	Recipe   string    `json:"recipe"`
	Version  string    `json:"version"`
	Ref      string    `json:"ref"`
	RunID    string    `json:"run_id"`
	Level    int       `json:"level"`
	Finished time.Time `json:"finished"`
	// Results is the copy of the run's results.json kept beside the record.
	Results string `json:"results"`
}

// Dir is where the records live under the runs dir.
func Dir(runsDir string) string { return filepath.Join(runsDir, "canonical") }

// Path is recipe's record.
func Path(runsDir, recipe string) string { return filepath.Join(Dir(runsDir), recipe+".json") }

// Read returns recipe's record; ok is false when there is none.
func Read(runsDir, recipe string) (rec Record, ok bool, err error) {
	data, err := os.ReadFile(Path(runsDir, recipe))
	if errors.Is(err, fs.ErrNotExist) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("read canonical of %s: %w", recipe, err)
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return Record{}, false, fmt.Errorf("canonical record %s does not parse: %w (delete it; the next green run of a release writes it again)", Path(runsDir, recipe), err)
	}
	return rec, rec.Version != "", nil
}

// Eligible says why r can or cannot become its recipe's canonical: only a cold, green run of a
// released version (the manifest names the tag at the head) counts. A quick run never does.
func Eligible(r *results.Results) (bool, string) {
	switch {
	case r.Mode != results.ModeCold:
		return false, "only a cold run can promote the canonical"
	case r.Verdict != results.VerdictPass:
		return false, "the run is not green"
	case r.Manifest["version"] == "":
		return false, "the commit under test is not a released version"
	}
	return true, ""
}

// Promote records r as its recipe's canonical when it is Eligible, keeping a copy of its results.
func Promote(runsDir string, r *results.Results) (bool, error) {
	if ok, _ := Eligible(r); !ok {
		return false, nil
	}
	if err := os.MkdirAll(Dir(runsDir), 0o755); err != nil {
		return false, fmt.Errorf("canonical dir: %w", err)
	}
	copyPath := filepath.Join(Dir(runsDir), r.Recipe+".results.json")
	if err := results.WriteFile(copyPath, r); err != nil {
		return false, err
	}
	rec := Record{Recipe: r.Recipe, Version: r.Manifest["version"], Ref: r.Ref, RunID: r.RunID, Level: r.Level, Finished: r.Finished, Results: copyPath}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return false, err
	}
	if err := atomicfile.Write(Path(runsDir, r.Recipe), append(data, '\n'), 0o644); err != nil {
		return false, fmt.Errorf("write canonical of %s: %w", r.Recipe, err)
	}
	return true, nil
}
