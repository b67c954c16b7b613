package swarm

import (
	"cmp"
	"net"
	"reflect"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/swarm"
)

// currentSpec reports whether task t was made from svc's current spec, so that old-spec tasks, and
// tasks of a spec that was rolled back, are never counted. Each task carries a copy of the task
// template it was made from; it is compared with the service's on every field the task carries
// (container spec, resources, placement, networks, restart policy, log driver, force-update
// counter), because swarm replaces a task when any of them changes: comparing fewer fields would
// count an old task as current while its replacement cannot start (e.g. an impossible memory
// reservation deployed with order start-first).
//
// One exception mirrors swarm's own rule (swarmkit's orchestrator.IsTaskDirty): when only the
// placement changed and the task's node still satisfies the new constraints, swarm keeps the task,
// with its old placement, for good. Such a task is current when nodes (by ID) shows its node
// matching; a task without a known node is not.
func currentSpec(svc swarm.Service, t swarm.Task, nodes map[string]swarm.Node) bool {
	names := networkIDs(t)
	want := comparableSpec(svc.Spec.TaskTemplate, names)
	got := comparableSpec(t.Spec, names)
	if reflect.DeepEqual(want, got) {
		return true
	}
	want.Placement, got.Placement = nil, nil
	if !reflect.DeepEqual(want, got) {
		return false
	}
	node, ok := nodes[t.NodeID]
	return ok && t.NodeID != "" && nodeMatches(placementConstraints(svc.Spec.TaskTemplate), node)
}

// networkIDs maps the names of the networks task t is attached to onto their IDs. The daemon
// (20.10) resolves network names to IDs when a service is created or updated, so the service's
// template and its tasks both carry IDs; a spec that still named a network is mapped through this
// so that it compares equal all the same.
func networkIDs(t swarm.Task) map[string]string {
	ids := map[string]string{}
	for _, a := range t.NetworksAttachments {
		if a.Network.Spec.Name != "" {
			ids[a.Network.Spec.Name] = a.Network.ID
		}
	}
	return ids
}

// comparableSpec returns a copy of spec in a canonical form: absent and empty sub-objects are
// alike, networks are in a fixed order with their names resolved to IDs, and Runtime is dropped
// (the daemon leaves it out of tasks' copies).
func comparableSpec(spec swarm.TaskSpec, networkIDs map[string]string) swarm.TaskSpec {
	spec.Runtime = ""
	r := copyOf(spec.Resources)
	r.Limits, r.Reservations = copyOf(r.Limits), copyOf(r.Reservations)
	r.Reservations.GenericResources = emptyToNil(r.Reservations.GenericResources)
	spec.Resources = r
	spec.RestartPolicy = copyOf(spec.RestartPolicy)
	p := copyOf(spec.Placement)
	p.Constraints, p.Preferences, p.Platforms = emptyToNil(p.Constraints), emptyToNil(p.Preferences), emptyToNil(p.Platforms)
	spec.Placement = p
	d := copyOf(spec.LogDriver)
	if len(d.Options) == 0 {
		d.Options = nil
	}
	spec.LogDriver = d
	spec.Networks = comparableNetworks(spec.Networks, networkIDs)
	return spec
}

// comparableNetworks sorts the attachments by target (their order does not matter to a task),
// resolving network names to IDs, and sorts each one's aliases.
func comparableNetworks(nets []swarm.NetworkAttachmentConfig, ids map[string]string) []swarm.NetworkAttachmentConfig {
	if len(nets) == 0 {
		return nil
	}
	out := make([]swarm.NetworkAttachmentConfig, 0, len(nets))
	for _, n := range nets {
		if id, ok := ids[n.Target]; ok {
			n.Target = id
		}
		n.Aliases = slices.Sorted(slices.Values(n.Aliases))
		n.Aliases = emptyToNil(n.Aliases)
		if len(n.DriverOpts) == 0 {
			n.DriverOpts = nil
		}
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b swarm.NetworkAttachmentConfig) int { return cmp.Compare(a.Target, b.Target) })
	return out
}

// copyOf returns a shallow copy of *p, or a new zero value when p is nil, so that the canonical form
// can be changed without touching the spec it came from.
func copyOf[T any](p *T) *T {
	c := new(T)
	if p != nil {
		*c = *p
	}
	return c
}

func emptyToNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func placementConstraints(spec swarm.TaskSpec) []string {
	if spec.Placement == nil {
		return nil
	}
	return spec.Placement.Constraints
}

// nodeMatches reports whether node satisfies every placement constraint, as swarm's scheduler
// reads them: "key==value" or "key!=value", values compared case-insensitively, a missing label
// being the empty value. A constraint it cannot read does not match, so a task is then not taken
// as current (a visible timeout rather than a false green).
func nodeMatches(constraints []string, node swarm.Node) bool {
	for _, c := range constraints {
		key, value, equal, ok := parseConstraint(c)
		if !ok {
			return false
		}
		actual, ok := nodeAttribute(key, node)
		if !ok {
			return false
		}
		var match bool
		if strings.EqualFold(key, "node.ip") {
			match, ok = ipMatches(value, actual)
			if !ok {
				return false
			}
		} else {
			match = strings.EqualFold(value, actual)
		}
		if match != equal {
			return false
		}
	}
	return true
}

// parseConstraint splits "key==value" or "key!=value".
func parseConstraint(c string) (key, value string, equal, ok bool) {
	for _, op := range []string{"==", "!="} {
		if k, v, found := strings.Cut(c, op); found {
			key, value = strings.TrimSpace(k), strings.TrimSpace(v)
			return key, value, op == "==", key != "" && value != ""
		}
	}
	return "", "", false, false
}

// nodeAttribute is the value of a constraint key on node; false for a key swarm does not know.
func nodeAttribute(key string, node swarm.Node) (string, bool) {
	lower := strings.ToLower(key)
	switch {
	case lower == "node.id":
		return node.ID, true
	case lower == "node.hostname":
		return node.Description.Hostname, true
	case lower == "node.role":
		return string(node.Spec.Role), true
	case lower == "node.ip":
		return node.Status.Addr, true
	case lower == "node.platform.os":
		return node.Description.Platform.OS, true
	case lower == "node.platform.arch":
		return node.Description.Platform.Architecture, true
	case strings.HasPrefix(lower, "node.labels.") && len(key) > len("node.labels."):
		return node.Spec.Labels[key[len("node.labels."):]], true // label names are case-sensitive
	case strings.HasPrefix(lower, "engine.labels.") && len(key) > len("engine.labels."):
		return node.Description.Engine.Labels[key[len("engine.labels."):]], true
	}
	return "", false
}

// ipMatches compares a node address with a constraint's IP address or CIDR subnet.
func ipMatches(want, addr string) (match, ok bool) {
	ip := net.ParseIP(addr)
	if w := net.ParseIP(want); w != nil {
		return w.Equal(ip), true
	}
	if _, subnet, err := net.ParseCIDR(want); err == nil {
		return subnet.Contains(ip), true
	}
	return false, false
}
