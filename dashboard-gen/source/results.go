package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/drone/drone-go/drone"

	"coopcloud.tech/cc-ci/dashboard-gen/state"
	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/rundir"
)

// The build params the bridge sets on a recipe run (DESIGN.md 3, bridge/trigger/start.go).
const (
	ParamRecipe = "CCCI_RECIPE"
	ParamRepo   = "CCCI_REPO"
	ParamSrc    = "CCCI_SRC"
	ParamRef    = "CCCI_REF"
	ParamPR     = "CCCI_PR"
	ParamMode   = "CCCI_MODE"
	ParamForge  = "CCCI_FORGE"
)

// ScreenshotName is the file a run's browser checks leave in its run dir (DESIGN.md 3).
const ScreenshotName = "screenshot.png"

// maxScreenshot caps the screenshot copied into the site.
const maxScreenshot = 10 << 20

// maxNote caps a reason kept in the state and api/results.json; the run page shows it whole.
const maxNote = 300

// versionKey is the results.json manifest key naming the released version tested.
const versionKey = "version"

// Read is one build as read: its summary and, for a finished run with usable results, the
// whole document and its JSON as the site serves it.
type Read struct {
	Run     state.Run
	Results *results.Results
	JSON    []byte
	// Screenshot is the path of the run's screenshot.png, "" when it left none.
	Screenshot string
}

// IsRecipeRun reports whether b is a recipe run started by the bridge, not one of the cc-ci
// repo's own CI builds (those carry no recipe param).
func IsRecipeRun(b *drone.Build) bool { return b.Params[ParamRecipe] != "" }

// Read summarises b and, once it has finished, finds its results.
func (s *Source) Read(ctx context.Context, b *drone.Build) Read {
	p := b.Params
	run := state.Run{
		Build: b.Number, RunID: rundir.DroneRunID(uint64(b.Number)), Recipe: p[ParamRecipe], Status: b.Status,
		Mode: p[ParamMode], Repo: p[ParamRepo], PR: p[ParamPR], Ref: p[ParamRef], Forge: p[ParamForge], Src: p[ParamSrc],
		Created: unix(b.Created), Started: unix(b.Started), Finished: unix(b.Finished), Link: s.Link(b.Number),
	}
	if run.Mode == "" {
		run.Mode = "cold" // the plugin's default (DESIGN.md 3)
	}
	if run.Ref == "" {
		run.Ref = b.After
	}
	if !run.Started.IsZero() && !run.Finished.IsZero() {
		run.DurationS = run.Finished.Sub(run.Started).Seconds()
	}
	if !run.Final() {
		run.Results = state.NotYet
		return Read{Run: run}
	}
	res, data, origin, problem := s.results(ctx, b)
	if res != nil {
		if why := ours(b, res); why != "" {
			origin, problem = state.Invalid, why
		}
	}
	if problem != "" {
		run.Results, run.Problem = origin, problem
		return Read{Run: run}
	}
	summarise(&run, res)
	run.Results = origin
	read := Read{Run: run, Results: res, JSON: data}
	if shot := s.screenshot(run.RunID); shot != "" {
		read.Run.Screenshot, read.Screenshot = true, shot
	}
	return read
}

// results reads the run's results.json from the runs dir, else its build's step log: the second
// source when the runs dir is on another host or was cleaned. It returns the document, its JSON,
// where it came from and, when there is no usable document, why (origin Missing or Invalid).
func (s *Source) results(ctx context.Context, b *drone.Build) (*results.Results, []byte, string, string) {
	path := rundir.ResultsFile(s.RunsDir, rundir.DroneRunID(uint64(b.Number)))
	data, err := readFile(path)
	var res *results.Results
	if err == nil {
		res, err = decode(data)
		if err == nil {
			return res, data, state.FromRunsDir, ""
		}
	}
	fileErr := err
	if !errors.Is(err, fs.ErrNotExist) {
		s.Log.Warn("results.json unusable, trying the step log", "build", b.Number, "path", path, "err", err)
	}
	if ctx.Err() != nil {
		return nil, nil, state.NotYet, "not read: " + context.Cause(ctx).Error()
	}
	begin := time.Now()
	lines, err := s.Drone.Logs(s.Owner, s.Name, int(b.Number), 1, 1)
	s.wait(begin)
	if err != nil && !isNotFound(err) {
		// Drone did not answer: a finished build's results must not be judged missing on a
		// passing fault, so the run is read again next time.
		return nil, nil, state.NotYet, fmt.Sprintf("its step log could not be read yet: %v", err)
	}
	if err == nil {
		msgs := make([]string, 0, len(lines))
		for _, l := range lines {
			msgs = append(msgs, l.Message)
		}
		res, err = results.FromLog(msgs)
		if err == nil {
			data, err = json.MarshalIndent(res, "", "  ")
			if err == nil {
				return res, append(data, '\n'), state.FromLog, ""
			}
		}
	}
	if errors.Is(fileErr, fs.ErrNotExist) && (errors.Is(err, results.ErrNoLogLine) || isNotFound(err)) {
		return nil, nil, state.Missing, fmt.Sprintf("the build ended %q without results.json (neither in the runs dir nor in its log)", b.Status)
	}
	if !errors.Is(fileErr, fs.ErrNotExist) {
		return nil, nil, state.Invalid, fmt.Sprintf("results.json: %v", fileErr)
	}
	return nil, nil, state.Invalid, fmt.Sprintf("results in the step log: %v", err)
}

// decode parses a results.json and checks that it is a complete schema-1 document whose level
// and verdict its own tiers support (results.Validate, as the bridge does).
func decode(data []byte) (*results.Results, error) {
	var r results.Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// isNotFound reports whether err is Drone's 404 (drone-go gives only the status in the text).
func isNotFound(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "client error 404")
}

// ours is why res cannot stand for build b, or "": it must be b's run, of the recipe, ref and
// PR the bridge asked for, and its verdict must agree with how the build ended (the plugin exits
// 0 exactly on a pass), as the bridge demands before it posts a verdict.
func ours(b *drone.Build, res *results.Results) string {
	p := b.Params
	want := rundir.DroneRunID(uint64(b.Number))
	switch {
	case res.RunID != want:
		return fmt.Sprintf("the results are run %s, not this build's run %s", res.RunID, want)
	case res.Recipe != p[ParamRecipe]:
		return fmt.Sprintf("the results are of recipe %s, not %s", res.Recipe, p[ParamRecipe])
	case p[ParamRef] != "" && res.Ref != p[ParamRef]:
		return fmt.Sprintf("the results tested %s, not the ref the build asked for (%s)", res.Ref, p[ParamRef])
	case p[ParamPR] != "" && res.PR != p[ParamPR]:
		return fmt.Sprintf("the results are of PR %s, not %s", res.PR, p[ParamPR])
	case (b.Status == drone.StatusPassing) != (res.Verdict == results.VerdictPass):
		return fmt.Sprintf("the build ended %q but its results say %q", b.Status, res.Verdict)
	}
	return ""
}

// summarise copies what the index and history pages show from the results into run.
func summarise(run *state.Run, res *results.Results) {
	run.Verdict, run.Level = res.Verdict, res.Level
	run.Mode, run.Repo, run.PR, run.Ref = res.Mode, res.Repo, res.PR, res.Ref
	run.Version = res.Manifest[versionKey]
	run.Started, run.Finished, run.DurationS = res.Started.UTC(), res.Finished.UTC(), res.DurationS
	for _, t := range res.Tiers {
		if t.Status == results.Fail {
			run.Failed = &state.Note{Tier: t.Name, Status: string(t.Status), Reason: clip(t.Reason)}
			break
		}
	}
	if run.Failed == nil {
		for _, t := range res.Tiers {
			if t.Status != results.Pass && t.Status != results.Skip {
				run.Failed = &state.Note{Tier: t.Name, Status: string(t.Status), Reason: clip(t.Reason)}
				break
			}
		}
	}
	if c := results.CappedBy(res.Tiers); c != nil {
		run.Capped = &state.Note{Tier: c.Name, Status: string(c.Status), Reason: clip(c.Reason), Lift: clip(c.Lift)}
	}
}

// screenshot is the path of the run's screenshot when it is a plain file of a sane size (the run
// dir is the plugin's, but a link or a huge file there is not copied into a public site).
func (s *Source) screenshot(runID string) string {
	path := filepath.Join(s.RunsDir, runID, ScreenshotName)
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 || fi.Size() > maxScreenshot {
		return ""
	}
	return path
}

// clip cuts s to maxNote runes.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxNote {
		return s
	}
	return string([]rune(s)[:maxNote-1]) + "…"
}

func unix(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}
