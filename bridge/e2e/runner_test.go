package e2e_test

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/drone/drone-go/drone"

	"coopcloud.tech/cc-ci/internal/results"
	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
)

// scripted is a FAKE build step for the tests about the bridge's bookkeeping (exactly-once,
// outages, cancels), where running the whole ladder would only add minutes: it writes the
// results.json the plugin would write for the params the bridge sent, prints the plugin's
// results log line, and exits with the plugin's exit code. The tests that need a real verdict
// run the real plugin (plugin_test.go).
type scripted struct {
	runsDir string
	level   int           // 3: pass at level 3; 0: fail at install
	gate    chan struct{} // when set, the build runs until the gate is closed or it is cancelled
	logOnly bool          // write no results.json: the verdict is only in the step log
	ref     string        // when set, the results claim this ref instead of the build's
	forged  bool          // print a passing results line first, as a hostile recipe could, then wait
}

func (s scripted) runner() fakedrone.Runner {
	return func(ctx context.Context, b drone.Build, log io.Writer) (int, error) {
		fmt.Fprintf(log, "==> scripted build %d of %s at %s\n", b.Number, b.Params["CCCI_RECIPE"], b.Params["CCCI_REF"])
		if s.forged {
			fake := s.results(b)
			fake.Tiers = scripted{level: 3}.results(b).Tiers
			fake.Finalize(fake.Finished)
			line, err := results.LogLine(fake)
			if err != nil {
				return 3, err
			}
			fmt.Fprintln(log, line)
		}
		if s.gate != nil {
			select {
			case <-s.gate:
			case <-ctx.Done():
				return 143, nil
			}
		}
		res := s.results(b)
		if !s.logOnly {
			dir := filepath.Join(s.runsDir, "drone-"+strconv.FormatInt(b.Number, 10))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return 3, err
			}
			if err := results.WriteFile(filepath.Join(dir, "results.json"), res); err != nil {
				return 3, err
			}
		}
		line, err := results.LogLine(res)
		if err != nil {
			return 3, err
		}
		fmt.Fprintln(log, line)
		return results.ExitCode(res.Verdict), nil
	}
}

// results is a finished run of the sample recipe at the build's ref.
func (s scripted) results(b drone.Build) *results.Results {
	started := time.Now().Add(-time.Minute)
	res := &results.Results{Schema: results.Schema, RunID: "drone-" + strconv.FormatInt(b.Number, 10),
		Recipe: b.Params["CCCI_RECIPE"], Repo: b.Params["CCCI_REPO"], PR: b.Params["CCCI_PR"],
		Ref: cmp.Or(s.ref, b.Params["CCCI_REF"]), Mode: b.Params["CCCI_MODE"], Domain: "samp-abcdef.ci.local",
		Started: started, Deploys: 1, Apps: []results.App{{Role: results.RoleFresh, Domain: "samp-abcdef.ci.local", AppNew: 1}},
		Teardown: results.Teardown{Clean: true}, Manifest: map[string]string{"overlay": "generic"}, Artifacts: map[string]string{}}
	pass := func(name string) results.Tier {
		return results.Tier{Name: name, Status: results.Pass, DurationS: 1, Checks: []results.Check{{Name: name, Status: results.Pass}}}
	}
	if s.level == 0 {
		res.Tiers = []results.Tier{{Name: results.TierInstall, Status: results.Fail, Reason: "app crash-loops", DurationS: 2}}
		res.FailureExcerpt = "app exited 1"
	} else {
		res.Tiers = []results.Tier{pass(results.TierInstall), pass(results.TierUpgrade), pass(results.TierBackup), pass(results.TierRestore)}
	}
	res.Finalize(started.Add(time.Minute))
	return res
}

// droneBuild is a build with the params the bridge sends, for results made outside a build.
func droneBuild(number int64, ref, pr string) drone.Build {
	return drone.Build{Number: number, Params: map[string]string{"CCCI_RECIPE": "sample", "CCCI_REPO": repo,
		"CCCI_REF": ref, "CCCI_PR": pr, "CCCI_MODE": "cold"}}
}
