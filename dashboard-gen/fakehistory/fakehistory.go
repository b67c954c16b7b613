// Package fakehistory is TEST SUPPORT: it makes a FAKE history of recipe runs, the builds to
// seed into the FAKE Drone (internal/testkit/fakedrone) and the results.json files the plugin
// would have left in the runs dir, for the dashboard's tests and its benchmark. Every document is
// built with internal/results and finalized by its rules, so its level and verdict are the ones
// its tiers make, as the plugin's are.
package fakehistory

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/drone/drone-go/drone"

	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/rundir"
	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
)

// Kind is what happened to one run.
type Kind int

// The kinds of run a history holds.
const (
	Pass      Kind = iota // level 5, pass
	Capped                // pass, level 1: no upgrade base (a gap, with what would lift it)
	FailAt                // fail at backup, level 2
	CIError               // unverified: the docker daemon went away during the upgrade
	Quick                 // a quick run, level 3 pass
	InLogOnly             // level 5 pass whose results.json is not in the runs dir, only in the log
	Killed                // the build was killed before the plugin wrote results
	Errored               // the step could not run (Drone "error")
	Running               // still running
	NoResults             // the build failed and left no results anywhere
)

// cycle is the order Mixed gives runs their kinds: every finished kind, passes twice.
var cycle = []Kind{Pass, Capped, FailAt, CIError, Quick, InLogOnly, Killed, Errored, NoResults, Pass}

// Run is one run of the history.
type Run struct {
	Kind    Kind
	Recipe  string
	History fakedrone.History
	// Results is what the plugin wrote (nil when it wrote nothing); Number is the build number
	// the run gets when its history is seeded into an empty repository.
	Results *results.Results
	Number  int64
}

// Start is the first run's start; runs follow one another ten minutes apart.
var Start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// Recipes names n recipes: "recipe-00", "recipe-01", ...
func Recipes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("recipe-%02d", i)
	}
	return out
}

// Mixed makes n runs across recipes (round robin), cycling through every finished kind: a
// history of 10 runs or more holds each of them.
func Mixed(n int, recipes []string) []Run {
	out := make([]Run, 0, n)
	for i := range n {
		// The kind shifts each round, so each recipe sees every kind over time.
		out = append(out, Make(int64(i+1), recipes[i%len(recipes)], cycle[(i+i/len(recipes))%len(cycle)]))
	}
	return out
}

// Make is build number of recipe, of the given kind.
func Make(number int64, recipe string, kind Kind) Run {
	started := Start.Add(time.Duration(number) * 10 * time.Minute)
	finished := started.Add(3*time.Minute + time.Duration(number%60)*time.Second)
	sum := sha1.Sum([]byte(recipe + strconv.FormatInt(number, 10)))
	ref := hex.EncodeToString(sum[:])
	mode := "cold"
	if kind == Quick {
		mode = "quick"
	}
	params := map[string]string{
		"CCCI_RECIPE": recipe, "CCCI_REPO": "coop-cloud/" + recipe, "CCCI_SRC": "https://git.coopcloud.tech/coop-cloud/" + recipe + ".git",
		"CCCI_REF": ref, "CCCI_PR": strconv.FormatInt(number%40+1, 10), "CCCI_MODE": mode, "CCCI_FORGE": "gitea",
	}
	run := Run{Kind: kind, Recipe: recipe, Number: number,
		History: fakedrone.History{Params: params, Commit: ref, Created: started.Add(-5 * time.Second), Started: started, Finished: finished}}
	switch kind {
	case Killed:
		run.History.Status = drone.StatusKilled
		run.History.Log = "==> INSTALL starting\n"
		return run
	case Errored:
		run.History.Status, run.History.Error = drone.StatusError, "exec: cc-ci-plugin: no such file"
		return run
	case Running:
		run.History.Status, run.History.Finished = drone.StatusRunning, time.Time{}
		return run
	case NoResults:
		run.History.Status = drone.StatusFailing
		run.History.Log = "==> INSTALL starting\npanic: out of memory\n"
		return run
	}
	res := document(number, recipe, params, kind, started, finished)
	run.Results = res
	run.History.Status = drone.StatusFailing
	if res.Verdict == results.VerdictPass {
		run.History.Status = drone.StatusPassing
	}
	line, err := results.LogLine(res)
	if err != nil {
		panic(err) // a document made here always encodes
	}
	run.History.Log = "==> TEARDOWN done\n" + line + "\n"
	return run
}

// document is the results.json of a run of kind.
func document(number int64, recipe string, p map[string]string, kind Kind, started, finished time.Time) *results.Results {
	tier := func(name string, s results.Status, reason string) results.Tier {
		return results.Tier{Name: name, Status: s, Reason: reason, DurationS: 20, Checks: []results.Check{{Name: name + " ok", Status: s}}}
	}
	pass := func(names ...string) []results.Tier {
		var out []results.Tier
		for _, n := range names {
			out = append(out, tier(n, results.Pass, ""))
		}
		return out
	}
	all := []string{results.TierInstall, results.TierUpgrade, results.TierBackup, results.TierRestore, results.TierFunctional, results.TierLint}
	var tiers []results.Tier
	excerpt := ""
	switch kind {
	case Capped:
		gap := tier(results.TierUpgrade, results.Skip, "no release before the head to upgrade from")
		gap.Lift = "tag a release of the recipe, then run again"
		tiers = append(pass(results.TierInstall), gap)
		tiers = append(tiers, pass(all[2:]...)...)
	case FailAt:
		tiers = append(pass(all[:2]...), tier(results.TierBackup, results.Fail, "backupbot found no volume to back up"))
		excerpt = "\x1b[31mERRO\x1b[0m backup: no volume\nexit status 1\n"
	case CIError:
		tiers = append(pass(results.TierInstall), tier(results.TierUpgrade, results.Unverified, "docker daemon did not answer within 10m0s"))
	case Quick:
		tiers = pass(all[:4]...)
	default:
		tiers = pass(all...)
	}
	r := &results.Results{RunID: rundir.DroneRunID(uint64(number)), Recipe: recipe, Repo: p["CCCI_REPO"], PR: p["CCCI_PR"],
		Ref: p["CCCI_REF"], Mode: p["CCCI_MODE"], Domain: recipe[:min(4, len(recipe))] + "-0a1b2c.ci.local", Started: started,
		UpgradeBase: results.UpgradeBase{Version: "1.0.0+1.0", Reason: "newest release that is an ancestor of the head"},
		Tiers:       tiers, Deploys: 2, Apps: []results.App{{Role: results.RoleFresh, Domain: "a.ci.local", AppNew: 1}, {Role: results.RoleUpgrade, Domain: "b.ci.local", AppNew: 1}},
		Teardown: results.Teardown{Clean: true}, Manifest: map[string]string{"version": "1.2.0+2.0", "overlay": "recipes/" + recipe},
		Artifacts: map[string]string{}, FailureExcerpt: excerpt}
	r.Finalize(finished)
	return r
}

// Histories are the runs' builds, to seed in this order.
func Histories(runs []Run) []fakedrone.History {
	out := make([]fakedrone.History, len(runs))
	for i, r := range runs {
		out[i] = r.History
	}
	return out
}

// WriteRunsDir writes each run's results.json under runsDir as the plugin does, except for runs
// whose results are only in the log (InLogOnly) or that have none.
func WriteRunsDir(runsDir string, runs []Run) error {
	for _, r := range runs {
		if r.Results == nil || r.Kind == InLogOnly {
			continue
		}
		if err := WriteResults(runsDir, r.Results); err != nil {
			return err
		}
	}
	return nil
}

// WriteResults writes one results.json into its run dir. It is a plain write, not the plugin's
// atomic one: a benchmark's setup writes a hundred thousand of them.
func WriteResults(runsDir string, r *results.Results) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", r.RunID, err)
	}
	path := rundir.ResultsFile(runsDir, r.RunID)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("run dir: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Hostile is a recipe name and a reason that try every way into a page's markup.
const (
	HostileName   = `evil"><script>alert(1)</script><img src=x onerror=alert(2)>`
	HostileReason = `</td></tr></table><script>alert(3)</script><a href="javascript:alert(4)">x</a> & <!-- --> ]]>`
)

// HostileRun is a failed run of the hostile recipe whose reason and excerpt are hostile too.
func HostileRun(number int64) Run {
	r := Make(number, HostileName, FailAt)
	r.Results.Tiers[2].Reason = HostileReason
	r.Results.FailureExcerpt = HostileReason + "\n" + strings.Repeat("<b>bold</b>\n", 3)
	r.Results.Finalize(r.Results.Finished)
	line, err := results.LogLine(r.Results)
	if err != nil {
		panic(err)
	}
	r.History.Log = line + "\n"
	return r
}
