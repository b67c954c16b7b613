package main

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Targets of issue 8's "Performance" section; printed beside the figures, never asserted.
const (
	targetAckP99     = 10 * time.Millisecond
	targetThroughput = 2000.0 // deliveries/s
	targetRSS        = 40e6   // bytes
	targetTriggerP99 = time.Second
)

// metricSet is what the benchmark reads from the bridge's /metrics.
type metricSet struct {
	accepted float64            // ccci_bridge_deliveries_total{forge="github",outcome="accepted"}
	results  map[string]float64 // ccci_bridge_requests_total by result
}

// final is how many requests reached a final state; "started" is counted on the way, not at
// the end (bridge/trigger: every request ends in exactly one finish).
func (m metricSet) final() float64 {
	var n float64
	for r, v := range m.results {
		if r != "started" {
			n += v
		}
	}
	return n
}

// metrics scrapes the bridge's Prometheus text.
func (w *world) metrics() (metricSet, error) {
	m := metricSet{results: map[string]float64{}}
	resp, err := w.client.Get("http://" + w.addr + "/metrics")
	if err != nil {
		return m, fmt.Errorf("scrape /metrics: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, rest, _ := strings.Cut(line, "{")
		labels, val, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch name {
		case "ccci_bridge_deliveries_total":
			if label(labels, "forge") == "github" && label(labels, "outcome") == "accepted" {
				m.accepted = v
			}
		case "ccci_bridge_requests_total":
			m.results[label(labels, "result")] = v
		}
	}
	return m, sc.Err()
}

// label returns the value of key in a Prometheus label set `a="x",b="y"`.
func label(set, key string) string {
	_, v, ok := strings.Cut(","+set, ","+key+`="`)
	if !ok {
		return ""
	}
	v, _, _ = strings.Cut(v, `"`)
	return v
}

// snapshot is the bridge's counters and process figures at one moment.
type snapshot struct {
	at   time.Time
	mem  mem           // now, and the peaks so far
	cpu  time.Duration // user + system time from /proc/<pid>/stat
	self time.Duration // this process's user + system time: the load generator and fakes
	m    metricSet
}

func (w *world) snapshot() (snapshot, error) {
	s := snapshot{at: time.Now()}
	pid := w.bridge.pid()
	var err error
	if s.mem, err = w.mem.now(); err != nil {
		return s, err
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("bridge stat: %w", err)
	}
	// Fields after the ")" that closes comm: utime and stime are the 14th and 15th of the line,
	// in USER_HZ ticks, which Linux fixes at 100 per second for /proc (proc(5)).
	_, after, _ := strings.Cut(string(stat), ") ")
	if f := strings.Fields(after); len(f) > 12 {
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		s.cpu = time.Duration(ut+st) * 10 * time.Millisecond
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	s.m, err = w.metrics()
	return s, err
}

// pct is the nearest-rank percentile p (0..1) of sorted ds.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

// spread is "p50 .. p90 .. p99 .. max .." of ds (sorted in place).
func spread(ds []time.Duration) string {
	slices.Sort(ds)
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s", ms(pct(ds, .5)), ms(pct(ds, .9)), ms(pct(ds, .99)), ms(pct(ds, 1)))
}

func (t *tally) String() string {
	s := fmt.Sprintf("%d x 202", t.ok)
	for _, k := range slices.Sorted(maps.Keys(t.other)) {
		s += fmt.Sprintf(", %d x %s", t.other[k], k)
	}
	return s
}

func (r *ackResult) throughput() float64 { return float64(len(r.lat)) / r.wall.Seconds() }

func (r *ackResult) print(out io.Writer, cfg config, before, after snapshot) {
	mode := fmt.Sprintf("closed loop, %d in flight", cfg.conc)
	if cfg.rate > 0 {
		mode = fmt.Sprintf("open loop at %.0f/s, %d senders", cfg.rate, cfg.conc)
	}
	if cfg.holdWorkers {
		mode += "; the bridge's workers held off the forge: intake alone"
		if r.wall > holdLimit {
			mode += fmt.Sprintf(" for the first %s only", holdLimit)
		}
	}
	cpu := after.cpu - before.cpu
	fmt.Fprintf(out, "=== phase 1: %d signed !testme deliveries (distinct comment ids) over %d PRs, %s\n", len(r.lat), cfg.prs, mode)
	fmt.Fprintf(out, "throughput    %.0f deliveries/s (%d in %.2f s)\n", r.throughput(), len(r.lat), r.wall.Seconds())
	fmt.Fprintf(out, "ack latency   %s\n", spread(r.lat))
	fmt.Fprintf(out, "answers       %s\n", r.t)
	fmt.Fprintf(out, "bridge        %.2f s CPU during phase 1 (%.0f us per delivery, background work included)\n",
		cpu.Seconds(), float64(cpu.Microseconds())/float64(len(r.lat)))
	fmt.Fprintf(out, "generator     %.2f s CPU during phase 1 (load generator and fakes, on the same machine)\n", (after.self - before.self).Seconds())
	fmt.Fprintf(out, "memory        %s\n", after.mem)
}

func (d *drainResult) print(out io.Writer) {
	verb := "every accepted request ended"
	if !d.drained {
		verb = fmt.Sprintf("NOT DRAINED: %.0f of %.0f accepted requests ended", d.final, d.accepted)
	}
	fmt.Fprintf(out, "=== drain: %s %.1f s after phase 1 began (workers finished %.0f requests/s)\n", verb, d.since.Seconds(), d.rate)
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(d.results)) {
		parts = append(parts, fmt.Sprintf("%s=%.0f", k, d.results[k]))
	}
	fmt.Fprintf(out, "requests      %s (warm-up included)\n", strings.Join(parts, " "))
}

func (r *trigResult) print(out io.Writer, cfg config) {
	fmt.Fprintf(out, "=== phase 2: %d !testme at %.0f/s for %s, each on a PR of its own\n", r.sent, cfg.trigRate, cfg.trigFor)
	fmt.Fprintf(out, "trigger       %s  (send -> first pending status; %d of %d, %d without one after %s)\n",
		spread(r.trigger), len(r.trigger), r.sent, r.missing, statusWait)
	fmt.Fprintf(out, "ack latency   %s\n", spread(r.ack))
	fmt.Fprintf(out, "answers       %s\n", r.t)
}

// summary prints each target beside its figure.
func summary(out io.Writer, p1 *ackResult, p2 *trigResult, end snapshot) {
	line := func(name, got, target string, ok bool) {
		verdict := "met"
		if !ok {
			verdict = "MISSED"
		}
		fmt.Fprintf(out, "%-12s %-12s target %-10s %s\n", name, got, target, verdict)
	}
	slices.Sort(p1.lat)
	p99 := pct(p1.lat, .99)
	fmt.Fprintf(out, "=== bridge at the end: %s\n", end.mem)
	fmt.Fprintln(out, "=== figures against issue 8's targets (measured, not asserted)")
	line("ack p99", ms(p99), "< 10 ms", p99 < targetAckP99)
	line("throughput", fmt.Sprintf("%.0f/s", p1.throughput()), ">= 2000/s", p1.throughput() >= targetThroughput)
	line("peak RSS", mb(end.mem.hwm), "< 40 MB", float64(end.mem.hwm) < targetRSS)
	if p2 != nil {
		slices.Sort(p2.trigger)
		tp99 := pct(p2.trigger, .99)
		line("trigger p99", ms(tp99), "< 1 s", tp99 < targetTriggerP99 && p2.missing == 0)
	}
}

// fsType names the filesystem under dir: the store's fsyncs cost what that filesystem makes them
// cost (free on tmpfs).
func fsType(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "unknown filesystem"
	}
	switch uint64(st.Type) {
	case 0xEF53:
		return "ext4"
	case 0x01021994:
		return "tmpfs: fsync is free"
	case 0x58465342:
		return "xfs"
	case 0x9123683E:
		return "btrfs"
	case 0x794c7630:
		return "overlayfs"
	case 0x2FC12FC1:
		return "zfs"
	}
	return fmt.Sprintf("filesystem magic %#x", uint64(st.Type))
}
