// Command ccci-dashbench is BENCHMARK SUPPORT for bench/dashboard.sh (not shipped): for each
// history size it seeds a FAKE Drone (internal/testkit/fakedrone, in this process) with that
// many recipe builds across the recipes, writes their results.json into a runs dir as the plugin
// would, then runs the real cc-ci-dashboard binary twice: a full generation, and an incremental
// run after one new build. It prints the wall time, the generator's own phase times (listing
// is Drone's API only) and the generator's peak RSS; it asserts nothing.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"coopcloud.tech/cc-ci/dashboard-gen/fakehistory"
	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
)

// incremental is how many one-build runs follow the full generation.
const incremental = 5

// mix is the share of each kind of run in a benchmark history, in hundredths: mostly runs
// with results in the runs dir, a few killed or errored builds whose log the generator reads.
var mix = []struct {
	kind  fakehistory.Kind
	share int
}{
	{fakehistory.Pass, 50}, {fakehistory.Capped, 10}, {fakehistory.FailAt, 15}, {fakehistory.CIError, 5},
	{fakehistory.Quick, 15}, {fakehistory.Killed, 3}, {fakehistory.Errored, 1}, {fakehistory.NoResults, 1},
}

func main() {
	bin := flag.String("bin", "", "the cc-ci-dashboard binary")
	sizes := flag.String("builds", "1000,10000,100000", "history sizes, comma-separated")
	recipes := flag.Int("recipes", 50, "recipes the builds are spread across")
	dir := flag.String("dir", os.TempDir(), "where the runs dir, the site and the state go")
	keep := flag.Bool("keep", false, "keep each size's work dir (runs dir, site, state) and print its path")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "ccci-dashbench: -bin is required")
		os.Exit(2)
	}
	fmt.Printf("output dir under %s (%s)\n", *dir, fsType(*dir))
	fmt.Printf("%8s  %-9s %10s %10s %10s %10s %10s %10s %10s %10s %7s %8s\n", "builds", "run", "wall", "cpu", "of it sys", "gen", "list", "runs", "(log wait)", "shared", "files", "peakRSS")
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "ccci-dashbench: bad size %q\n", f)
			os.Exit(2)
		}
		if err := measure(*bin, *dir, n, *recipes, *keep); err != nil {
			fmt.Fprintf(os.Stderr, "ccci-dashbench: %d builds: %v\n", n, err)
			os.Exit(1)
		}
	}
	fmt.Println("wall = the process, start to exit; cpu = its user+system CPU time (less sensitive to a busy machine);")
	fmt.Println("gen = the generator's own time, total less listing (which only waits on the FAKE Drone's API);")
	fmt.Println("runs = reading results.json and writing run pages (log wait: the time its concurrent workers spent waiting")
	fmt.Println("for the step logs of builds without results.json, summed); shared = recipe pages, index, feed, API, state.")
}

// history is n runs across the recipes in the proportions of mix.
func history(n, recipes int) []fakehistory.Run {
	names := fakehistory.Recipes(recipes)
	var kinds []fakehistory.Kind
	for _, m := range mix {
		for range m.share {
			kinds = append(kinds, m.kind)
		}
	}
	out := make([]fakehistory.Run, n)
	for i := range out {
		// 7 is prime to len(kinds) (100): consecutive builds of a recipe get different kinds.
		out[i] = fakehistory.Make(int64(i+1), names[i%recipes], kinds[(i*7)%len(kinds)])
	}
	return out
}

func measure(bin, dir string, n, recipes int, keep bool) error {
	work, err := os.MkdirTemp(dir, "cc-ci-dashbench-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Printf("work dir: %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	fake := fakedrone.New(fakedrone.Config{})
	defer fake.Close()
	runs := history(n, recipes)
	if _, err := fake.Seed("coop-cloud", "cc-ci", fakehistory.Histories(runs)...); err != nil {
		return err
	}
	runsDir := filepath.Join(work, "runs")
	if err := fakehistory.WriteRunsDir(runsDir, runs); err != nil {
		return err
	}
	args := []string{"--drone-url", fake.URL, "--drone-repo", "coop-cloud/cc-ci", "--runs-dir", runsDir,
		"--out", filepath.Join(work, "site"), "--state", filepath.Join(work, "state.json"), "--log-format", "json"}
	full, err := run(bin, args)
	if err != nil {
		return err
	}
	full.print(n, "full")
	// One new build at a time, several times: the median stands for a timer run on a busy host.
	var incs []result
	for i := range incremental {
		next := fakehistory.Make(int64(n+1+i), fakehistory.Recipes(recipes)[i%recipes], fakehistory.FailAt)
		if _, err := fake.Seed("coop-cloud", "cc-ci", next.History); err != nil {
			return err
		}
		if err := fakehistory.WriteResults(runsDir, next.Results); err != nil {
			return err
		}
		inc, err := run(bin, args)
		if err != nil {
			return err
		}
		if inc.Changed != 1 {
			return fmt.Errorf("the incremental run changed %d runs, want 1", inc.Changed)
		}
		incs = append(incs, inc)
	}
	slices.SortFunc(incs, func(a, b result) int { return cmp.Compare(a.TotalMS-a.ListMS, b.TotalMS-b.ListMS) })
	incs[len(incs)/2].print(n, "+1 build")
	fmt.Printf("%8s  %-9s (median of %d runs; the generator's own time ranged %.1f-%.1fms)\n", "", "", incremental,
		incs[0].TotalMS-incs[0].ListMS, incs[len(incs)-1].TotalMS-incs[len(incs)-1].ListMS)
	return nil
}

// result is one run of the generator: its last log line and what the bench measured.
type result struct {
	Changed  int     `json:"changed"`
	Files    int     `json:"files"`
	ListMS   float64 `json:"list_ms"`
	WaitMS   float64 `json:"api_wait_ms"`
	RunsMS   float64 `json:"runs_ms"`
	SharedMS float64 `json:"shared_ms"`
	TotalMS  float64 `json:"total_ms"`
	wall     time.Duration
	cpu, sys time.Duration
	rssKB    int64
}

func (r result) print(n int, what string) {
	fmt.Printf("%8d  %-9s %8.1fms %8.1fms %8.1fms %8.1fms %8.1fms %8.1fms %8.1fms %8.1fms %7d %6.1fMB\n", n, what,
		ms(r.wall), ms(r.cpu), ms(r.sys), r.TotalMS-r.ListMS, r.ListMS, r.RunsMS, max(0, r.WaitMS-r.ListMS), r.SharedMS, r.Files,
		float64(r.rssKB)/1024)
}

func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// run runs the generator once under GNU time, for its CPU time and peak RSS (wait4's rusage of a
// child this process forks directly would count this process's memory at the fork), and reads
// the generator's summary line.
func run(bin string, args []string) (result, error) {
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", timeFormat, bin}, args...)...)
	cmd.Env = append(os.Environ(), "CCCI_DRONE_TOKEN="+fakedrone.DefaultToken)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	begin := time.Now()
	err := cmd.Run()
	wall := time.Since(begin)
	if err != nil {
		return result{}, fmt.Errorf("%s: %w\n%s", bin, err, stderr.String())
	}
	var r result
	found, timed := false, false
	sc := bufio.NewScanner(&stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, `"msg":"site up to date"`) {
			found = json.Unmarshal(sc.Bytes(), &r) == nil
		}
		if rest, ok := strings.CutPrefix(line, "ccci-time "); ok {
			var user, sys float64
			_, err := fmt.Sscanf(rest, "%f %f %d", &user, &sys, &r.rssKB)
			timed = err == nil
			r.cpu, r.sys = time.Duration((user+sys)*1e9), time.Duration(sys*1e9)
		}
	}
	if !found || !timed {
		return result{}, errors.New("no summary or time line in the generator's output:\n" + stderr.String())
	}
	r.wall = wall
	return r, nil
}

// timeFormat is GNU time's line: user and system CPU seconds, peak RSS in KiB.
const timeFormat = "ccci-time %U %S %M"

// fsType names the file system dir is on (tmpfs or a disk), which the write figures depend on.
func fsType(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "unknown file system"
	}
	switch st.Type {
	case 0x01021994:
		return "tmpfs"
	case 0xef53:
		return "ext4"
	case 0x9123683e:
		return "btrfs"
	case 0x58465342:
		return "xfs"
	}
	return fmt.Sprintf("file system 0x%x", st.Type)
}
