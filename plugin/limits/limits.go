// Package limits gives every service of a test app a memory, CPU and pids limit (DESIGN.md 4.7,
// issue 12): the recipe's own limit capped by the run's budget, a default when it has none, all
// scaled down together when the app as a whole would outgrow the run's budget. The limits reach
// the swarm as an environmental override applied at deploy time: a compose file written into the
// recipe checkout, in a directory that git-ignores itself (so abra's dirty-tree check is not
// tripped), and appended to the app's COMPOSE_FILE, so no file of the recipe is edited.
//
// Use: load the app's configuration without the override (Detach first when a previous deploy
// applied one), Plan, Apply, deploy; after a reload, Check proves the limits are in effect.
package limits

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

	"coopcloud.tech/cc-ci/internal/appconfig"
	"coopcloud.tech/cc-ci/internal/swarm"
)

// Defaults of a Budget's zero fields: per service (per task), and for the whole run.
const (
	DefaultMemory    = 1 << 30 // bytes
	DefaultCPUs      = 1.0
	DefaultPids      = 512
	DefaultRunMemory = 4 << 30 // bytes
	DefaultRunCPUs   = 4.0
	DefaultRunPids   = 4096
)

// Floors of a limit scaled down to fit the run's budget. The daemon refuses a memory limit below
// 6 MB and CPUs below 0.01 (moby daemon/daemon_unix.go verifyPlatformContainerResources); a
// process needs a few pids for its threads. A recipe's own value below a floor is kept as it is:
// it fails here as it would on a production server.
const (
	MinMemory   = 6 << 20
	MinNanoCPUs = 10_000_000
	MinPids     = 16
)

// Budget is what the operator lets one run use. Per-service values are each task's cap and the
// default of a service that sets no limit; Run* values cap the sum over every task of the app.
// A zero field takes its Default*. CPUs must not exceed the CI host's CPU count: the daemon
// refuses a container asking for more.
type Budget struct {
	Memory    int64   // bytes per task
	CPUs      float64 // per task
	Pids      int64   // per task
	RunMemory int64   // bytes, all tasks
	RunCPUs   float64 // all tasks
	RunPids   int64   // all tasks
}

// Validate refuses negative, NaN and infinite values and per-task values below the floors.
func (b Budget) Validate() error {
	fields := []struct {
		name string
		v    float64
	}{{"memory", float64(b.Memory)}, {"cpus", b.CPUs}, {"pids", float64(b.Pids)},
		{"run memory", float64(b.RunMemory)}, {"run cpus", b.RunCPUs}, {"run pids", float64(b.RunPids)}}
	for _, f := range fields {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("resource budget: %s %v: want a positive number, or 0 for the default", f.name, f.v)
		}
	}
	d := b.withDefaults()
	switch {
	case d.Memory < MinMemory || d.RunMemory < MinMemory:
		return fmt.Errorf("resource budget: memory below %s, the least the daemon accepts", swarm.FormatBytes(MinMemory))
	case d.CPUs < 0.01 || d.RunCPUs < 0.01:
		return fmt.Errorf("resource budget: cpus below 0.01, the least the daemon accepts")
	case d.Pids < MinPids || d.RunPids < MinPids:
		return fmt.Errorf("resource budget: pids below %d", MinPids)
	}
	return nil
}

func (b Budget) withDefaults() Budget {
	pick := func(v, def int64) int64 {
		if v <= 0 {
			return def
		}
		return v
	}
	pickF := func(v, def float64) float64 {
		if !(v > 0) || math.IsInf(v, 1) {
			return def
		}
		return v
	}
	return Budget{Memory: pick(b.Memory, DefaultMemory), CPUs: pickF(b.CPUs, DefaultCPUs), Pids: pick(b.Pids, DefaultPids),
		RunMemory: pick(b.RunMemory, DefaultRunMemory), RunCPUs: pickF(b.RunCPUs, DefaultRunCPUs), RunPids: pick(b.RunPids, DefaultRunPids)}
}

// Source says where a service's limit came from.
type Source string

// The sources of a limit.
const (
	FromRecipe Source = "recipe"  // the recipe's own limit, within the budget
	Capped     Source = "capped"  // the recipe asked for more than the budget allows a task
	Defaulted  Source = "default" // the recipe sets none (or nothing usable: zero, negative, NaN)
	RunCapped  Source = "run cap" // scaled down so that the whole app fits the run's budget
)

// Value is one limit of a service.
type Value struct {
	Set    int64  // what each task runs with: bytes, nano-CPUs or processes
	Asked  int64  // what the recipe declared, same unit; 0 when it declared nothing usable
	Source Source // why Set is what it is
}

// ServiceLimit is the limits one service of the app runs with.
type ServiceLimit struct {
	Service  string // the compose service name (not the swarm's <stack>_<name>)
	Tasks    int    // tasks counted against the run's budget (replicas; 1 for a global service on this single node)
	Memory   Value  // bytes
	NanoCPUs Value  // 1e9 per CPU
	Pids     Value  // processes and threads
}

// String is the line for the run's summary, e.g.
// "app: memory 512 MiB (recipe), cpus 1 (default), pids 512 (default)".
func (l ServiceLimit) String() string {
	return fmt.Sprintf("%s: memory %s, cpus %s, pids %s", l.Service,
		describe(l.Memory, swarm.FormatBytes), describe(l.NanoCPUs, FormatCPUs), describe(l.Pids, formatCount))
}

func describe(v Value, format func(int64) string) string {
	switch {
	case v.Source == Capped || (v.Source == RunCapped && v.Asked > 0):
		return fmt.Sprintf("%s (%s; the recipe asks %s)", format(v.Set), v.Source, format(v.Asked))
	case v.Source == RunCapped:
		return fmt.Sprintf("%s (%s; the recipe sets none)", format(v.Set), v.Source)
	}
	return fmt.Sprintf("%s (%s)", format(v.Set), v.Source)
}

func formatCount(n int64) string { return strconv.FormatInt(n, 10) }

// FormatCPUs writes nano-CPUs as a decimal number of CPUs, as compose files write them ("0.5").
func FormatCPUs(nano int64) string {
	return strconv.FormatFloat(float64(nano)/1e9, 'f', -1, 64)
}

// Plan computes the limits of every service of cfg's app, sorted by service name. cfg must be the
// configuration that will be deployed, loaded without this package's override: with it, the
// recipe's own limits are hidden behind the previous plan's. Plan fails when even the floors of
// every limit exceed the run's budget (an app of absurdly many tasks).
func Plan(cfg *appconfig.Config, b Budget) ([]ServiceLimit, error) {
	if cfg == nil || cfg.Project == nil {
		return nil, fmt.Errorf("plan resource limits: no app configuration")
	}
	if slices.Contains(cfg.ComposeFiles, OverrideFile) {
		return nil, fmt.Errorf("plan resource limits: the configuration already includes %s: load it after Detach, so the recipe's own limits are read", OverrideFile)
	}
	b = b.withDefaults()
	var plan []ServiceLimit
	for name, svc := range cfg.Project.Services {
		l := ServiceLimit{Service: name, Tasks: max(0, svc.GetScale())}
		if svc.Deploy != nil && (svc.Deploy.Mode == "global" || svc.Deploy.Mode == "global-job") {
			l.Tasks = 1 // one per node, and the CI host is a single node
		}
		var asked memCPUPids
		if svc.Deploy != nil && svc.Deploy.Resources.Limits != nil {
			r := svc.Deploy.Resources.Limits
			asked = memCPUPids{mem: int64(r.MemoryBytes), cpus: float64(r.NanoCPUs), pids: r.Pids}
		}
		l.Memory = pick(asked.mem, b.Memory)
		l.NanoCPUs = pick(nanoCPUs(asked.cpus), nanoCPUs(b.CPUs))
		l.Pids = pick(asked.pids, b.Pids)
		plan = append(plan, l)
	}
	slices.SortFunc(plan, func(a, b ServiceLimit) int { return cmp.Compare(a.Service, b.Service) })
	if err := fitRun(plan, b); err != nil {
		return plan, err
	}
	return plan, nil
}

type memCPUPids struct {
	mem  int64
	cpus float64
	pids int64
}

// nanoCPUs converts CPUs to nano-CPUs, rounded to a thousandth of a CPU (a compose file's float32
// "0.3" is 0.30000001): 0 for a value that is not a positive finite number, the largest int64 for
// +Inf and anything that large (so it is capped, never wrapped).
func nanoCPUs(cpus float64) int64 {
	switch {
	case !(cpus > 0):
		return 0
	case cpus >= math.MaxInt64/1e9:
		return math.MaxInt64
	}
	return int64(math.Round(cpus*1000)) * 1_000_000
}

// pick is the limit of one resource: the recipe's when usable and within the cap, else the cap.
func pick(asked, budget int64) Value {
	switch {
	case asked <= 0:
		return Value{Set: budget, Source: Defaulted}
	case asked > budget:
		return Value{Set: budget, Asked: asked, Source: Capped}
	}
	return Value{Set: asked, Asked: asked, Source: FromRecipe}
}

// fitRun scales every service's limits down by the same factor, per resource, when their sum over
// all tasks exceeds the run's budget; a scaled limit never goes below its floor nor above what it
// was.
func fitRun(plan []ServiceLimit, b Budget) error {
	const mib = 1 << 20
	resources := []struct {
		name  string
		value func(*ServiceLimit) *Value
		run   float64
		floor int64
		unit  int64 // scaled values are rounded down to a multiple of it
	}{
		{"memory", func(l *ServiceLimit) *Value { return &l.Memory }, float64(b.RunMemory), MinMemory, mib},
		{"cpus", func(l *ServiceLimit) *Value { return &l.NanoCPUs }, float64(nanoCPUs(b.RunCPUs)), MinNanoCPUs, 1_000_000},
		{"pids", func(l *ServiceLimit) *Value { return &l.Pids }, float64(b.RunPids), MinPids, 1},
	}
	for _, r := range resources {
		total := func() float64 {
			var t float64
			for i := range plan {
				t += float64(r.value(&plan[i]).Set) * float64(plan[i].Tasks)
			}
			return t
		}
		sum := total()
		if sum <= r.run {
			continue
		}
		factor := r.run / sum
		for i := range plan {
			v := r.value(&plan[i])
			scaled := int64(float64(v.Set)*factor) / r.unit * r.unit
			if scaled = max(scaled, r.floor); scaled < v.Set {
				v.Set, v.Source = scaled, RunCapped
			}
		}
		if after := total(); after > r.run {
			return fmt.Errorf("plan resource limits: the app's %d tasks need %s even at the least %s each, more than the run's budget of %s",
				taskCount(plan), formatTotal(r.name, after), r.name, formatTotal(r.name, r.run))
		}
	}
	return nil
}

func taskCount(plan []ServiceLimit) int {
	n := 0
	for _, l := range plan {
		n += l.Tasks
	}
	return n
}

func formatTotal(resource string, v float64) string {
	switch resource {
	case "memory":
		return swarm.FormatBytes(int64(min(v, math.MaxInt64)))
	case "cpus":
		return strconv.FormatFloat(v/1e9, 'f', 2, 64) + " CPUs"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " pids"
}
