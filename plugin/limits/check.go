package limits

import (
	"fmt"
	"slices"
	"strings"

	"coopcloud.tech/cc-ci/internal/appconfig"
	"coopcloud.tech/cc-ci/internal/swarm"
)

// Check proves that cfg, the app's configuration loaded after Apply, deploys every service with
// exactly the planned limits (pids only when a says they were applied): the override is selected,
// nothing merged after it changed a limit, and no service escaped the plan (one the recipe added
// since Plan would run unlimited). The error names the first service and limit that differ.
func Check(cfg *appconfig.Config, plan []ServiceLimit, a Applied) error {
	if cfg == nil || cfg.Project == nil {
		return fmt.Errorf("check resource limits: no app configuration")
	}
	if !slices.Contains(cfg.ComposeFiles, OverrideFile) {
		return fmt.Errorf("check resource limits: the app's COMPOSE_FILE does not select %s (it selects %s)",
			OverrideFile, strings.Join(cfg.ComposeFiles, ":"))
	}
	planned := map[string]ServiceLimit{}
	for _, l := range plan {
		planned[l.Service] = l
	}
	names := cfg.Project.ServiceNames()
	slices.Sort(names)
	for _, name := range names {
		l, ok := planned[name]
		if !ok {
			return fmt.Errorf("check resource limits: service %s has no planned limits: plan again from the configuration being deployed", name)
		}
		svc := cfg.Project.Services[name]
		if svc.Deploy == nil || svc.Deploy.Resources.Limits == nil {
			return fmt.Errorf("check resource limits: service %s has no limits", name)
		}
		r := svc.Deploy.Resources.Limits
		if got := int64(r.MemoryBytes); got != l.Memory.Set {
			return fmt.Errorf("check resource limits: service %s has memory %s, planned %s", name,
				swarm.FormatBytes(got), swarm.FormatBytes(l.Memory.Set))
		}
		if got := nanoCPUs(float64(r.NanoCPUs)); got != l.NanoCPUs.Set {
			return fmt.Errorf("check resource limits: service %s has cpus %s, planned %s", name, FormatCPUs(got), FormatCPUs(l.NanoCPUs.Set))
		}
		if a.Pids && r.Pids != l.Pids.Set {
			return fmt.Errorf("check resource limits: service %s has pids %d, planned %d", name, r.Pids, l.Pids.Set)
		}
	}
	return nil
}
