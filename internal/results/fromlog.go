package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// LogPrefix starts the one line of the plugin's step log that carries the whole results.json, so
// a reader holding only the Drone log (the runs dir is on another host, or was cleaned) can still
// recover the verdict.
const LogPrefix = "cc-ci-results: "

// ErrNoLogLine is returned by FromLog when the log holds no results line (the run was killed
// before teardown, or the log was truncated).
var ErrNoLogLine = errors.New("no " + strings.TrimSpace(LogPrefix) + " line in the log")

// LogLine renders r as the results line of the step log: LogPrefix and compact JSON, no newline.
//
// json.Marshal already escapes every newline inside strings, so the document stays on one line.
// '#' is written as \u0023 (it can only occur inside JSON strings, so this decodes to the same
// document): runner-go's livelog.Copy drops any log line matching `#(.*?)#` as "card data"
// (https://github.com/drone/runner-go/blob/master/livelog/copy.go), and a reason or an excerpt
// with two '#' in it would otherwise make the whole line vanish from the Drone log.
func LogLine(r *Results) (string, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encode results line: %w", err)
	}
	return LogPrefix + string(bytes.ReplaceAll(data, []byte("#"), []byte(`\u0023`))), nil
}

// FromLog recovers the results from a step log. Each element of lines is one Drone log line's
// Message in order, as drone-go's Logs returns them: a line with its trailing newline, or, for a
// line longer than the container runtime's 16 KiB buffer, a fragment without one (docker logs
// such a line as several partial messages,
// https://github.com/moby/moby/blob/master/daemon/logger/copier.go, and the runner turns each
// into its own Drone line). FromLog therefore joins the messages and re-splits on newlines before
// it looks for LogPrefix at the start of a line.
//
// The LAST results line wins: the plugin prints its own after teardown, when no recipe code runs
// any more, so a fake line a hostile recipe printed earlier is overridden. Residual risk: a log
// cut short after the fake line and before the real one would yield the fake. The results.json in
// the runs dir, written by the plugin itself, is therefore the preferred source; this is the
// fallback when only the log is reachable.
func FromLog(lines []string) (*Results, error) {
	var last string
	found := false
	for line := range strings.SplitSeq(strings.Join(lines, ""), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if rest, ok := strings.CutPrefix(line, LogPrefix); ok {
			last, found = rest, true
		}
	}
	if !found {
		return nil, ErrNoLogLine
	}
	var r Results
	if err := json.Unmarshal([]byte(last), &r); err != nil {
		return nil, fmt.Errorf("parse results line: %w", err)
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("results line: %w", err)
	}
	return &r, nil
}

// Validate checks that r is a complete schema-1 document whose level and verdict are the ones
// the rules derive from its own tiers, so a reader never reports a verdict the file's tiers do
// not support (a truncated, hand-made or tampered document).
func (r *Results) Validate() error {
	if r.Schema != Schema {
		return fmt.Errorf("schema %d, want %d", r.Schema, Schema)
	}
	for _, f := range []struct{ name, value string }{
		{"run_id", r.RunID}, {"recipe", r.Recipe}, {"ref", r.Ref}, {"mode", r.Mode}, {"verdict", r.Verdict},
	} {
		if f.value == "" {
			return fmt.Errorf("run %q: missing %s", r.RunID, f.name)
		}
	}
	if r.Finished.IsZero() {
		return fmt.Errorf("run %q: missing finished", r.RunID)
	}
	derived := *r
	derived.Finalize(r.Finished)
	if derived.Level != r.Level || derived.Verdict != r.Verdict {
		return fmt.Errorf("run %q: says level %d %s, its tiers make level %d %s",
			r.RunID, r.Level, r.Verdict, derived.Level, derived.Verdict)
	}
	return nil
}
