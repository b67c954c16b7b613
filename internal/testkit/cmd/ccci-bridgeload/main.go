// Command ccci-bridgeload is TEST TOOLING: the load generator of the bridge benchmark
// (bench/bridge-load.sh, issue 8 "Performance"). It runs a FAKE GitHub and a FAKE Drone (whose
// builds exit 0 at once: the benchmark is about the bridge) in this process, starts the real
// cc-ci-bridge binary between them (pinned with taskset to -cpus), and measures:
//
//   - phase 1, acknowledgement: N signed `!testme` deliveries with distinct comment ids, spread
//     over -prs open PRs, posted over keep-alive connections, either closed-loop at -c in flight
//     (the throughput) or open-loop at -rate per second (the latency at that rate, timed from each
//     request's scheduled send so a slow answer cannot hide the ones queued behind it);
//   - the drain: how long the bridge's workers take to finish every accepted request;
//   - phase 2, trigger latency: at -trigger-rate per second for -trigger-for, a `!testme` on a PR
//     of its own, timed from the send to the first pending commit status the fake forge recorded
//     on that PR's head (the fake stamps each status as it arrives);
//   - the bridge's peak RSS (VmHWM) and CPU time from /proc.
//
// It prints figures and asserts nothing: the exit status is non-zero only when the benchmark
// could not run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

// config is every flag.
type config struct {
	bridge      string        // the cc-ci-bridge binary
	cpus        string        // taskset CPU list for the bridge; empty runs it unpinned
	dir         string        // work dir (store, enrolment, logs); empty: a fresh temp dir, removed after
	prs         int           // open PRs phase 1 spreads its deliveries over
	n           int           // phase-1 deliveries
	conc        int           // phase-1 requests in flight (senders)
	rate        float64       // phase-1 open-loop rate per second; 0 is closed-loop
	warmup      int           // deliveries sent (and not timed) before phase 1
	drain       time.Duration // longest wait for the bridge to finish phase 1's requests
	trigRate    float64       // phase-2 deliveries per second
	trigFor     time.Duration // phase-2 duration
	workers     int           // CCCI_BRIDGE_WORKERS; 0 keeps the bridge's default
	logLevel    string        // CCCI_LOG_LEVEL
	keep        bool          // keep dir after the run
	skipTrigger bool          // stop after phase 1 and the drain
	extraEnv    envList       // more KEY=VALUE for the bridge (GOGC, GOMEMLIMIT, ...)
	holdWorkers bool          // hold the bridge's forge calls during phase 1: intake alone
	cpuProfile  string        // write this process's CPU profile here (is the generator the limit?)
}

// envList is a repeatable KEY=VALUE flag.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("ccci-bridgeload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.bridge, "bridge", "", "path of the cc-ci-bridge binary (required)")
	fs.StringVar(&c.cpus, "cpus", "0,1", "taskset -c CPU list the bridge runs on (empty: not pinned)")
	fs.StringVar(&c.dir, "dir", "", "work dir for the store, enrolment and bridge log (empty: a temp dir, removed after)")
	fs.IntVar(&c.prs, "prs", 200, "open PRs the phase-1 deliveries are spread over")
	fs.IntVar(&c.n, "n", 10000, "phase-1 deliveries (distinct comment ids)")
	fs.IntVar(&c.conc, "c", 16, "phase-1 requests in flight (closed loop) or senders (open loop)")
	fs.Float64Var(&c.rate, "rate", 0, "phase-1 open-loop rate in deliveries/s (0: closed loop at -c in flight)")
	fs.IntVar(&c.warmup, "warmup", 100, "deliveries sent before phase 1, not timed")
	fs.DurationVar(&c.drain, "drain", 10*time.Minute, "longest wait for the bridge to finish the phase-1 requests (0: do not wait; phase 2 then runs beside the backlog)")
	fs.Float64Var(&c.trigRate, "trigger-rate", 50, "phase-2 deliveries per second, each on a PR of its own")
	fs.DurationVar(&c.trigFor, "trigger-for", 10*time.Second, "phase-2 duration")
	fs.IntVar(&c.workers, "workers", 0, "CCCI_BRIDGE_WORKERS (0: the bridge's default)")
	fs.StringVar(&c.logLevel, "log-level", "info", "CCCI_LOG_LEVEL of the bridge (its log goes to <dir>/bridge.log)")
	fs.BoolVar(&c.keep, "keep", false, "keep the work dir")
	fs.BoolVar(&c.skipTrigger, "skip-trigger", false, "skip phase 2")
	fs.BoolVar(&c.holdWorkers, "hold-workers", false, "hold the bridge's forge API calls during phase 1 (at most 20 s), so its workers stay idle and the intake path is measured alone")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile (fakes included) to this file")
	fs.Var(&c.extraEnv, "bridge-env", "KEY=VALUE added to the bridge's environment (repeatable), e.g. GOGC=50")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case c.bridge == "":
		return c, errors.New("-bridge is required")
	case c.prs < 1 || c.n < 1 || c.conc < 1 || c.warmup < 0:
		return c, errors.New("-prs, -n and -c must be positive, -warmup not negative")
	case c.rate < 0 || c.drain < 0 || c.trigRate <= 0 || c.trigFor <= 0:
		return c, errors.New("-rate and -drain must not be negative, -trigger-rate and -trigger-for positive")
	}
	return c, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ccci-bridgeload: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	stopProfile, err := profile(cfg.cpuProfile)
	if err == nil {
		err = run(ctx, cfg, os.Stdout)
		if perr := stopProfile(); err == nil {
			err = perr
		}
	}
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ccci-bridgeload: %v\n", err)
		os.Exit(1)
	}
}

// profile starts the generator's CPU profile into path (nothing when path is empty); the
// returned func stops it.
func profile(path string) (func() error, error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() error { pprof.StopCPUProfile(); return f.Close() }, nil
}

// warmUpDrain is the longest wait for the warm-up's requests to end before phase 1.
const warmUpDrain = 2 * time.Minute

// run is the whole benchmark: world up, warm-up, phase 1, drain, phase 2, figures, world down.
func run(ctx context.Context, cfg config, out io.Writer) (err error) {
	dir := cfg.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "ccci-bridgeload-"); err != nil {
			return fmt.Errorf("work dir: %w", err)
		}
		if !cfg.keep {
			defer func() { _ = os.RemoveAll(dir) }()
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	w, err := newWorld(ctx, cfg, dir)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := w.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	fmt.Fprintf(out, "bridge pid %d on cpus %q; store on %s (%s); log %s\n",
		w.bridge.pid(), cfg.cpus, w.storePath, fsType(dir), w.logPath)

	if err := w.warmUp(ctx, cfg.warmup, cfg.prs, cfg.conc); err != nil {
		return err
	}
	// Phase 1 starts from an idle bridge: the warm-up's requests are finished first.
	if d, err := w.awaitDrain(ctx, warmUpDrain, time.Now(), snapshot{}); err != nil {
		return err
	} else if !d.drained {
		fmt.Fprintf(out, "warning: the warm-up's requests were not done after %s; phase 1 runs beside them\n", warmUpDrain)
	}
	// Signed before the clocks start (and before the CPU snapshot): building a delivery's JSON
	// costs this process more than sending it.
	ds := w.deliveries(cfg.n, cfg.prs)
	base, err := w.snapshot()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "=== bridge after the warm-up (%d deliveries): %s\n", cfg.warmup, base.mem)

	p1, err := w.phase1(ctx, cfg, ds)
	if err != nil {
		return err
	}
	after1, err := w.snapshot()
	if err != nil {
		return err
	}
	p1.print(out, cfg, base, after1)

	var p2 *trigResult
	if cfg.drain > 0 {
		dr, err := w.awaitDrain(ctx, cfg.drain, p1.start, base)
		if err != nil {
			return err
		}
		dr.print(out)
	}
	if !cfg.skipTrigger {
		if p2, err = w.phase2(ctx, cfg); err != nil {
			return err
		}
		p2.print(out, cfg)
	}
	end, err := w.snapshot()
	if err != nil {
		return err
	}
	summary(out, p1, p2, end)
	return nil
}
