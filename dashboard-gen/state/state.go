// Package state is what the dashboard remembers between runs: how far into Drone's build history
// it has read, the runs it saw unfinished, and for each recipe the little the index and the feed
// need. A finished build never changes, so a run of the generator asks Drone only for builds
// newer than Newest and for those it saw unfinished, and re-renders only the pages they touch.
//
// Every run's summary lives in api/results.json (one run per line, see API): an incremental run
// reads back only the lines of the recipes it touches, so its cost does not grow with the whole
// history's.
package state

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"coopcloud.tech/cc-ci/internal/atomicfile"
)

// Schema is the version of the state file and of the run objects in api/results.json.
const Schema = 1

// Where a run's results came from, or why it has none (Run.Results).
const (
	// FromRunsDir: results.json read from the runs dir, the plugin's own file.
	FromRunsDir = "runs-dir"
	// FromLog: recovered from the results line of the build's step log (the runs dir had none).
	FromLog = "step-log"
	// NotYet: the build has not finished, or its results could not be read yet (Drone did not
	// answer for its log): it is read again on the next run.
	NotYet = "not-yet"
	// Missing: the build finished and left no results anywhere (killed or errored before the
	// plugin wrote them).
	Missing = "missing"
	// Invalid: results were found but cannot stand for this build (unreadable, a verdict its
	// tiers do not support, another run's file, or a verdict that disagrees with how the build
	// ended). Problem says which.
	Invalid = "invalid"
)

// Note names one tier and what it says: the first that failed or went unverified, or the gap
// that caps the level with what would lift it.
type Note struct {
	Tier   string `json:"tier"`
	Status string `json:"status,omitempty"`
	Reason string `json:"reason,omitempty"`
	Lift   string `json:"lift,omitempty"`
}

// Run is one recipe run as the dashboard shows it: a Drone build and what its results say. It is
// also the element of api/results.json, so its JSON names are a stable schema (docs/dashboard.md):
// fields may be added, never renamed or removed without a new Schema.
type Run struct {
	Build  int64  `json:"build"`
	RunID  string `json:"run_id"`
	Recipe string `json:"recipe"`
	// Status is Drone's build status: pending, running, success, failure, killed, error, ...
	Status string `json:"status"`
	// Results is where the results came from (FromRunsDir, FromLog) or why there are none
	// (NotYet, Missing, Invalid); Problem says more for Missing and Invalid.
	Results string `json:"results"`
	Problem string `json:"problem,omitempty"`
	// Verdict and Level are the run's results (empty and 0 without usable results).
	Verdict string `json:"verdict,omitempty"`
	Level   int    `json:"level"`
	Mode    string `json:"mode,omitempty"`
	Repo    string `json:"repo,omitempty"`
	PR      string `json:"pr,omitempty"`
	Ref     string `json:"ref,omitempty"`
	Version string `json:"version,omitempty"`
	Forge   string `json:"forge,omitempty"`
	Src     string `json:"src,omitempty"`

	Created   time.Time `json:"created"`
	Started   time.Time `json:"started,omitzero"`
	Finished  time.Time `json:"finished,omitzero"`
	DurationS float64   `json:"duration_s"`

	Failed *Note `json:"failed,omitempty"`
	Capped *Note `json:"capped,omitempty"`
	// Screenshot: the run left a screenshot, shown on its page.
	Screenshot bool `json:"screenshot,omitempty"`
	// Link is the build's page in Drone (its live log).
	Link string `json:"link,omitempty"`
}

// Final reports whether the build has ended: only then do its results and status stay put.
func (r *Run) Final() bool {
	switch r.Status {
	case "pending", "running", "waiting_on_dependencies", "blocked":
		return false
	}
	return true
}

// Settled reports whether the run will not change any more: its build has ended and its results
// were read (a build whose log could not be fetched is read again on the next run).
func (r *Run) Settled() bool { return r.Final() && r.Results != NotYet }

// HasVerdict reports whether the run has usable results.
func (r *Run) HasVerdict() bool { return r.Results == FromRunsDir || r.Results == FromLog }

// Summary is what the index and the feed show of one recipe, kept so that a run which touches
// other recipes reads none of this one's runs.
type Summary struct {
	// Tail is the recipe's latest runs, oldest first (its trend, and its newest run).
	Tail []Run
	// Current is the newest run that sets the recipe's level; Since is when its verdict began.
	Current *Run
	Since   time.Time
	// Changes are the recipe's latest verdict changes, oldest first; From[i] is the verdict
	// Changes[i] changed from ("" for the recipe's first).
	Changes []Run
	From    []string
}

// State is what the generator remembers between runs.
type State struct {
	Schema int
	// Fingerprint names what the pages were rendered with (templates and the settings that shape
	// a page); a state with another fingerprint is dropped and every page rendered anew.
	Fingerprint string
	// Newest is the highest build number read from Drone.
	Newest int64
	// Recipes are the recipes listed on the index beside those with runs (--recipes).
	Recipes []string
	// Summaries are every recipe's, by name.
	Summaries map[string]*Summary
	// Unsettled are the runs that may still change (see Run.Settled), by build number: each is
	// asked for again until it settles.
	Unsettled map[int64]Run
}

// New is an empty state for pages rendered under fingerprint.
func New(fingerprint string) *State {
	return &State{Schema: Schema, Fingerprint: fingerprint, Summaries: map[string]*Summary{}, Unsettled: map[int64]Run{}}
}

// Load reads the state file; a missing file is an empty state with no fingerprint. An
// unreadable file or another schema is an error: the operator removes it to start over. The file
// is gob: it is read and written on every run.
func Load(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return New(""), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	s := New("")
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(s); err != nil {
		return nil, fmt.Errorf("parse state %s (remove it to render everything anew): %w", path, err)
	}
	if s.Schema != Schema {
		return nil, fmt.Errorf("state %s: schema %d, want %d (remove it to render everything anew)", path, s.Schema, Schema)
	}
	if s.Summaries == nil {
		s.Summaries = map[string]*Summary{}
	}
	if s.Unsettled == nil {
		s.Unsettled = map[int64]Run{}
	}
	return s, nil
}

// Encode returns the state file's bytes.
func (s *State) Encode() ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(s); err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return b.Bytes(), nil
}

// Save writes state bytes (from Encode) atomically and durably: it is written last, after every
// page it describes, so a crash never leaves a state that claims pages that are not there.
func Save(path string, data []byte) error {
	return atomicfile.Write(path, data, 0o644)
}

// Settle records runs that may still change in Unsettled and drops those that have settled.
func (s *State) Settle(runs []Run) {
	for _, r := range runs {
		if r.Settled() {
			delete(s.Unsettled, r.Build)
		} else {
			s.Unsettled[r.Build] = r
		}
	}
}
