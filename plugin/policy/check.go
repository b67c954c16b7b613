package policy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"coopcloud.tech/cc-ci/internal/appconfig"
)

// Check returns the constructs of cfg's effective configuration that the policy refuses by
// default, split into those no allowance for recipe covers (refused: the run must stop before
// anything is deployed) and those one covers (allowed, each with AllowedBy set, for the run's
// summary). Both are in a stable order: by service name (compose jobs last), then key by key.
//
// The merged project is the truth: a construct one file sets and a later file overrides away is
// not reported. To name the file a construct comes from, each selected compose file is loaded
// again on its own with the same environment; a construct that no file holds alone (a service in
// one file, the volume or network it uses in another) is named as coming from their merge. It
// reads the compose files and follows symlinks in the recipe; it deploys and changes nothing.
func Check(ctx context.Context, cfg *appconfig.Config, recipe string, allow Allowances) (refused, allowed []Finding, err error) {
	if cfg == nil || cfg.Project == nil {
		return nil, nil, errors.New("policy check: no app configuration to check")
	}
	found := findings(cfg.Project)
	attribute(ctx, cfg, found)
	for _, f := range found {
		if a := allow.match(recipe, f); a != nil {
			f.AllowedBy = a
			allowed = append(allowed, f)
			continue
		}
		refused = append(refused, f)
	}
	return refused, allowed, nil
}

// findings walks every service (with its pre_start hooks) and every compose job of p, those a
// compose profile leaves out included: compose-go drops them from Services, but whether abra's
// own loader does is not something to bet the CI host on, so every declared service is checked.
func findings(p *types.Project) []Finding {
	services := maps.Clone(p.Services)
	maps.Copy(services, p.DisabledServices)
	jobs := maps.Clone(p.Jobs)
	maps.Copy(jobs, p.DisabledJobs)
	var out []Finding
	for _, name := range sortedKeys(services) {
		s := services[name]
		w := workload{p: p, name: name}
		own := w.spec("", s.ContainerSpec)
		out = append(out, own...)
		out = append(out, w.ports(s.Ports)...)
		for i, h := range s.PreStart {
			prefix := fmt.Sprintf("pre_start[%d].", i)
			for _, f := range w.spec(prefix, h.ContainerSpec) {
				if !inherited(own, prefix, f) {
					out = append(out, f)
				}
			}
		}
	}
	for _, name := range sortedKeys(jobs) {
		j := jobs[name]
		w := workload{p: p, name: name, job: true}
		out = append(out, w.spec("", j.ContainerSpec)...)
		out = append(out, w.ports(j.Ports)...)
	}
	return out
}

// inherited reports whether hook finding f is one of the service's own: compose-go gives a
// pre_start hook the service's container keys, and the recipe wrote them once.
func inherited(own []Finding, prefix string, f Finding) bool {
	for _, g := range own {
		if g.Construct == f.Construct && prefix+g.Key == f.Key && g.Value == f.Value && g.Source == f.Source {
			return true
		}
	}
	return false
}

// workload is one service or job being checked.
type workload struct {
	p    *types.Project
	name string
	job  bool
}

func (w workload) finding(construct, key, value, detail string) Finding {
	return Finding{Service: w.name, Job: w.job, Construct: construct, Key: key, Value: value, Detail: detail}
}

// spec checks the container keys; prefix marks a hook's keys ("pre_start[0].").
func (w workload) spec(prefix string, c types.ContainerSpec) []Finding {
	var out []Finding
	for _, v := range c.Volumes {
		out = append(out, w.mount(prefix+"volumes", v)...)
	}
	if c.UseAPISocket {
		out = append(out, w.finding(DockerSocket, prefix+"use_api_socket", "true",
			"gives the app the Docker API socket, which gives it the CI host"))
	}
	out = append(out, w.hostFiles(prefix, c)...)
	for _, key := range sortedKeys(c.Networks) {
		if n, ok := w.p.Networks[key]; ok && n.Name == "host" {
			out = append(out, w.finding(HostNetwork, prefix+"networks", key,
				"attaches the app to the swarm's host network, which puts it on the CI host's own network stack"))
		}
	}
	if len(c.CapAdd) > 0 {
		out = append(out, w.finding(CapAdd, prefix+"cap_add", strings.Join(c.CapAdd, ","),
			"adds Linux capabilities to the app's containers, which widens what a process in them may do to the CI host's kernel"))
	}
	if len(c.Sysctls) > 0 {
		kv := make([]string, 0, len(c.Sysctls))
		for _, k := range sortedKeys(c.Sysctls) {
			kv = append(kv, k+"="+c.Sysctls[k])
		}
		out = append(out, w.finding(Sysctls, prefix+"sysctls", strings.Join(kv, ","),
			"sets kernel parameters for the app's containers"))
	}
	return append(out, w.ignored(prefix, c)...)
}

// ignoredDetail is the Detail of every key swarm ignores.
const ignoredDetail = "is ignored by docker swarm, so the app would not get it: remove it so the recipe says what it really gets"

// ignored reports the keys docker stack deploy drops: a reader would trust them, the app never
// gets them. The compose file v3 reference marks devices, network_mode, security_opt and
// userns_mode "ignored when deploying a stack in swarm mode"
// (https://docs.docker.com/compose/compose-file/compose-file-v3/), and a swarm service has no
// privileged, pid or ipc setting at all (no such flag in
// https://docs.docker.com/reference/cli/docker/service/create/).
func (w workload) ignored(prefix string, c types.ContainerSpec) []Finding {
	var out []Finding
	add := func(construct, key, value string) {
		if value != "" {
			out = append(out, w.finding(construct, prefix+key, value, ignoredDetail))
		}
	}
	if c.Privileged {
		add(Privileged, "privileged", "true")
	}
	devices := make([]string, 0, len(c.Devices))
	for _, d := range c.Devices {
		s := d.Source + ":" + d.Target
		if d.Permissions != "" {
			s += ":" + d.Permissions
		}
		devices = append(devices, s)
	}
	add(Devices, "devices", strings.Join(devices, ","))
	add(NetworkMode, "network_mode", c.NetworkMode)
	add(Pid, "pid", c.Pid)
	add(Ipc, "ipc", c.Ipc)
	add(UsernsMode, "userns_mode", c.UserNSMode)
	add(SecurityOpt, "security_opt", strings.Join(c.SecurityOpt, ","))
	return out
}

// ports reports ports published in host mode. A short-syntax port is always ingress.
func (w workload) ports(ports []types.ServicePortConfig) []Finding {
	var out []Finding
	for _, p := range ports {
		if p.Mode != "host" {
			continue
		}
		v := fmt.Sprintf("%s:%d", p.Published, p.Target)
		if p.Protocol != "" {
			v += "/" + p.Protocol
		}
		out = append(out, w.finding(HostPort, "ports", v,
			"publishes a port in host mode, on the CI host's own interface and outside the swarm's routing mesh"))
	}
	return out
}

// hostFiles reports configs, secrets and env_files whose file lies outside the recipe: docker
// stack deploy reads a config's or secret's file on the client (abra, on the CI host) and
// stores its content in the swarm for the app, and reads env_file there too.
func (w workload) hostFiles(prefix string, c types.ContainerSpec) []Finding {
	var out []Finding
	check := func(key, value, file, what string) {
		if file == "" {
			return
		}
		src, target, outside := w.fileOutside(file)
		if !outside {
			return
		}
		read := plain(src)
		if target != "" {
			read += " (a symlink to " + plain(target) + ")"
		}
		f := w.finding(HostFile, prefix+key, value,
			fmt.Sprintf("makes abra read %s, outside the recipe, on the CI host and hand its content to the app as %s", read, what))
		f.Source = src
		out = append(out, f)
	}
	for _, ref := range c.Configs {
		check("configs", ref.Source, w.p.Configs[ref.Source].File, "a config")
	}
	for _, ref := range c.Secrets {
		check("secrets", ref.Source, w.p.Secrets[ref.Source].File, "a secret")
	}
	for _, ef := range c.EnvFiles {
		check("env_file", ef.Path, ef.Path, "environment variables")
	}
	return out
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// joinAnd is "a", "a and b", "a, b and c".
func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
