package limits

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/appconfig"
)

// planFor loads a one-file recipe with these services and plans it with b.
func planFor(t *testing.T, services string, b Budget) ([]ServiceLimit, error) {
	t.Helper()
	dir := newRecipe(t, map[string]string{"compose.yml": compose(`"3.8"`, services)}, false)
	return Plan(load(t, dir, writeEnv(t, "DOMAIN=limi-1a2b3c.ci.local\n")), b)
}

func limitsOf(mem, cpus, pids string) string {
	var b strings.Builder
	b.WriteString("    deploy:\n      resources:\n        limits:\n")
	for k, v := range map[string]string{"memory": mem, "cpus": cpus, "pids": pids} {
		if v != "" {
			b.WriteString("          " + k + ": " + v + "\n")
		}
	}
	return b.String()
}

const gib, mib = int64(1 << 30), int64(1 << 20)

func TestPlanKeepsCapsOrDefaultsEachLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		services string
		want     ServiceLimit
	}{
		{
			name:     "a recipe limit within the budget is kept",
			services: "  app:\n    image: a\n" + limitsOf("256M", `"0.5"`, "100"),
			want: ServiceLimit{Service: "app", Tasks: 1, Memory: Value{256 * mib, 256 * mib, FromRecipe},
				NanoCPUs: Value{5e8, 5e8, FromRecipe}, Pids: Value{100, 100, FromRecipe}},
		},
		{
			name:     "a recipe limit above the budget is capped, and what it asked is kept for the summary",
			services: "  app:\n    image: a\n" + limitsOf("4G", `"3"`, "100000"),
			want: ServiceLimit{Service: "app", Tasks: 1, Memory: Value{gib, 4 * gib, Capped},
				NanoCPUs: Value{1e9, 3e9, Capped}, Pids: Value{512, 100000, Capped}},
		},
		{
			name:     "a service without limits gets the default",
			services: "  app:\n    image: a\n",
			want: ServiceLimit{Service: "app", Tasks: 1, Memory: Value{gib, 0, Defaulted},
				NanoCPUs: Value{1e9, 0, Defaulted}, Pids: Value{512, 0, Defaulted}},
		},
		{
			name:     "NaN cpus and pids -1 (unlimited to docker) are nothing usable: the default",
			services: "  app:\n    image: a\n" + limitsOf("", `"NaN"`, "-1"),
			want: ServiceLimit{Service: "app", Tasks: 1, Memory: Value{gib, 0, Defaulted},
				NanoCPUs: Value{1e9, 0, Defaulted}, Pids: Value{512, 0, Defaulted}},
		},
		{
			name:     "negative cpus and zero pids are nothing usable: the default",
			services: "  app:\n    image: a\n" + limitsOf("", `"-2"`, "0"),
			want: ServiceLimit{Service: "app", Tasks: 1, Memory: Value{gib, 0, Defaulted},
				NanoCPUs: Value{1e9, 0, Defaulted}, Pids: Value{512, 0, Defaulted}},
		},
		{
			name:     "cpus too large for a float32 (infinite) and the largest pids are capped, never wrapped",
			services: "  app:\n    image: a\n" + limitsOf("", `"1e40"`, "9223372036854775807"),
			want: ServiceLimit{Service: "app", Tasks: 1, Memory: Value{gib, 0, Defaulted},
				NanoCPUs: Value{1e9, math.MaxInt64, Capped}, Pids: Value{512, math.MaxInt64, Capped}},
		},
		{
			name:     "a float32 cpus reads as the decimal the recipe wrote",
			services: "  app:\n    image: a\n" + limitsOf("", `"0.3"`, ""),
			want: ServiceLimit{Service: "app", Tasks: 1, Memory: Value{gib, 0, Defaulted},
				NanoCPUs: Value{3e8, 3e8, FromRecipe}, Pids: Value{512, 0, Defaulted}},
		},
		{
			name:     "a recipe limit below the daemon's minimum is kept: it fails here as it would in production",
			services: "  app:\n    image: a\n" + limitsOf("1M", "", ""),
			want: ServiceLimit{Service: "app", Tasks: 1, Memory: Value{mib, mib, FromRecipe},
				NanoCPUs: Value{1e9, 0, Defaulted}, Pids: Value{512, 0, Defaulted}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			plan, err := planFor(t, tc.services, Budget{})
			require.NoError(t, err)
			require.Len(t, plan, 1)
			assert.Equal(t, tc.want, plan[0])
		})
	}
}

func TestPlanFitsTheWholeAppIntoTheRunsBudget(t *testing.T) {
	t.Parallel()
	services := "  app:\n    image: a\n    deploy:\n      replicas: 2\n" +
		"  db:\n    image: d\n" + limitsOf("512M", "", "") +
		"  cron:\n    image: c\n    deploy:\n      mode: global\n" +
		"  off:\n    image: o\n    deploy:\n      replicas: 0\n"
	plan, err := planFor(t, services, Budget{RunMemory: 2 * gib, RunCPUs: 8, RunPids: 1000})
	require.NoError(t, err)
	byName := map[string]ServiceLimit{}
	for _, l := range plan {
		byName[l.Service] = l
	}
	require.Equal(t, []string{"app", "cron", "db", "off"}, []string{plan[0].Service, plan[1].Service, plan[2].Service, plan[3].Service},
		"sorted by service name")
	assert.Equal(t, 2, byName["app"].Tasks)
	assert.Equal(t, 1, byName["cron"].Tasks, "a global service runs one task on the single CI node")
	assert.Equal(t, 0, byName["off"].Tasks)

	// Memory: 2x1 GiB + 1 GiB + 512 MiB = 3.5 GiB > 2 GiB: all scaled by 4/7, down to whole MiB.
	assert.Equal(t, Value{Set: 585 * mib, Source: RunCapped}, byName["app"].Memory)
	assert.Equal(t, Value{Set: 292 * mib, Asked: 512 * mib, Source: RunCapped}, byName["db"].Memory)
	var total int64
	for _, l := range plan {
		total += l.Memory.Set * int64(l.Tasks)
	}
	assert.LessOrEqual(t, total, 2*gib)
	// CPUs: 4 tasks x 1 CPU fit in 8: untouched. Pids: 4 x 512 > 1000: scaled.
	assert.Equal(t, Value{Set: 1e9, Source: Defaulted}, byName["app"].NanoCPUs)
	assert.Equal(t, Value{Set: 250, Source: RunCapped}, byName["app"].Pids)
	assert.Equal(t, "app: memory 585 MiB (run cap; the recipe sets none), cpus 1 (default), pids 250 (run cap; the recipe sets none)",
		byName["app"].String())
	assert.Equal(t, "db: memory 292 MiB (run cap; the recipe asks 512 MiB), cpus 1 (default), pids 250 (run cap; the recipe sets none)",
		byName["db"].String())
}

func TestPlanRefusesAnAppThatCannotFitEvenAtTheFloors(t *testing.T) {
	t.Parallel()
	_, err := planFor(t, "  app:\n    image: a\n    deploy:\n      replicas: 100000\n", Budget{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the app's 100000 tasks need")
	assert.Contains(t, err.Error(), "more than the run's budget of 4 GiB")
}

func TestPlanRefusesAConfigurationThatAlreadyHasTheOverride(t *testing.T) {
	t.Parallel()
	_, err := Plan(&appconfig.Config{ComposeFiles: []string{"compose.yml", OverrideFile}, Project: nil}, Budget{})
	require.Error(t, err, "no project")
	dir := newRecipe(t, map[string]string{"compose.yml": compose(`"3.8"`, "  app:\n    image: a\n"),
		OverrideFile: compose(`"3.8"`, "  app:\n"+limitsOf("64M", "", ""))}, false)
	cfg := load(t, dir, writeEnv(t, "COMPOSE_FILE=compose.yml:"+OverrideFile+"\n"))
	_, err = Plan(cfg, Budget{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "load it after Detach")
}

func TestBudgetValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		b       Budget
		wantErr string
	}{
		{"the zero budget takes the defaults", Budget{}, ""},
		{"a budget of its own", Budget{Memory: 512 * mib, CPUs: 0.5, Pids: 256, RunMemory: 2 * gib, RunCPUs: 2, RunPids: 1024}, ""},
		{"a negative value", Budget{Memory: -1}, "memory -1"},
		{"NaN cpus", Budget{CPUs: math.NaN()}, "cpus NaN"},
		{"infinite run cpus", Budget{RunCPUs: math.Inf(1)}, "run cpus +Inf"},
		{"memory the daemon would refuse", Budget{Memory: mib}, "memory below 6 MiB"},
		{"cpus the daemon would refuse", Budget{CPUs: 0.001}, "cpus below 0.01"},
		{"too few pids to start a process", Budget{RunPids: 2}, "pids below 16"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.b.Validate()
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.wantErr)
		})
	}
}
