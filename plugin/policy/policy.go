// Package policy decides whether a recipe's effective configuration may run on the CI host.
//
// A recipe pull request controls the compose files that `!testme` deploys onto the CI host's own
// swarm, so before anything is deployed the run checks what those files ask for: a bind mount of
// a host path, the Docker socket, the swarm's host network, added capabilities, kernel
// parameters, host-mode ports, files abra would read from outside the recipe, and the keys
// docker swarm ignores but a reader would trust. Each is refused unless an operator allowed that
// construct for that recipe in one reviewed file in this repo (recipes/policy-allowances.yml).
//
// The check reads the configuration internal/appconfig loads (the env, abra.sh exports and
// every compose file COMPOSE_FILE selects, interpolated and merged by compose-go), so it judges
// what abra would deploy, never a hand-walk of the YAML. See docs/security.md.
package policy

import (
	"fmt"
	"strings"
)

// The constructs the policy refuses by default. An allowance names one of them.
const (
	// DockerSocket is a mount of the Docker socket, or of a directory holding it.
	DockerSocket = "docker-socket"
	// HostPath is a mount of anything that is not a named volume, tmpfs, config or secret: a
	// bind of a host path (short or long syntax, relative or absolute), or a named volume whose
	// local driver binds a host path (driver_opts o=bind).
	HostPath = "host-path"
	// HostFile is a config, secret or env_file whose file lies outside the recipe: abra reads it
	// on the CI host and hands its content to the app.
	HostFile = "host-file"
	// HostNetwork attaches a service to the swarm's `host` network.
	HostNetwork = "host-network"
	// HostPort publishes a port in host mode, on the CI host's own interface.
	HostPort = "host-port"
	// CapAdd adds Linux capabilities.
	CapAdd = "cap-add"
	// Sysctls sets kernel parameters.
	Sysctls = "sysctls"

	// The keys docker swarm ignores (docker stack deploy drops them), refused so that a recipe
	// says what it really gets.

	// Privileged is `privileged: true`.
	Privileged = "privileged"
	// Devices is `devices`.
	Devices = "devices"
	// NetworkMode is `network_mode`.
	NetworkMode = "network-mode"
	// Pid is `pid`.
	Pid = "pid"
	// Ipc is `ipc`.
	Ipc = "ipc"
	// UsernsMode is `userns_mode`.
	UsernsMode = "userns-mode"
	// SecurityOpt is `security_opt`.
	SecurityOpt = "security-opt"
)

// Constructs lists every construct, in the order findings are reported.
var Constructs = []string{
	DockerSocket, HostPath, HostFile, HostNetwork, HostPort, CapAdd, Sysctls,
	Privileged, Devices, NetworkMode, Pid, Ipc, UsernsMode, SecurityOpt,
}

// swarmIgnored are the constructs whose key docker swarm ignores.
var swarmIgnored = map[string]bool{
	Privileged: true, Devices: true, NetworkMode: true, Pid: true, Ipc: true, UsernsMode: true, SecurityOpt: true,
}

// Finding is one refused-by-default construct in a recipe's effective configuration.
type Finding struct {
	// Service is the service (or compose job) that uses the construct.
	Service string
	// Job is true when Service names a compose job rather than a service.
	Job bool
	// Construct is one of Constructs.
	Construct string
	// Key is the compose key, e.g. "volumes", or "pre_start[0].volumes" for a service's hook.
	Key string
	// Value is what the key says after env expansion, e.g. "/var/run/docker.sock:/var/run/docker.sock".
	Value string
	// Source is the host path a mount or file reads ("./x" when it lies in the recipe; where a
	// symlink in the recipe leads for a bind), for matching an allowance's source; empty for
	// constructs that name no path.
	Source string
	// File names the compose file(s) the construct comes from (see Check).
	File string
	// Detail is a human sentence saying what the construct does, e.g. "mounts the Docker
	// socket, which gives the app the CI host".
	Detail string
	// AllowedBy is the allowance that let the construct through; nil when it is refused.
	AllowedBy *Allowance
}

// Reason is the refusal, one line of plain text naming the service, the key, the value, the file
// and how an operator allows it, e.g. "service app: volumes: /var/run/docker.sock:/var/run/docker.sock
// in compose.yml mounts the Docker socket, which gives the app the CI host; an operator allows it
// for this recipe in recipes/policy-allowances.yml (construct docker-socket)". Values from the
// recipe are Go-quoted when they hold anything but plain path and name characters.
func (f Finding) Reason(allowFile string) string {
	how := fmt.Sprintf("an operator allows it for this recipe in %s (construct %s)", allowFile, f.Construct)
	if swarmIgnored[f.Construct] {
		return fmt.Sprintf("%s %s, or %s", f.what(), f.Detail, how)
	}
	return fmt.Sprintf("%s %s; %s", f.what(), f.Detail, how)
}

// Allowed is the summary line of an allowed finding: what it is and which allowance let it
// through, with the allowance's reason (reviewed text of this repo, one line: LoadAllowances
// refuses control and format characters in it).
func (f Finding) Allowed(allowFile string) string {
	if f.AllowedBy == nil {
		return f.what() + " " + f.Detail + " (not allowed)"
	}
	scope := "recipe " + f.AllowedBy.Recipe
	if f.AllowedBy.Service != "" {
		scope += ", service " + plain(f.AllowedBy.Service)
	}
	return fmt.Sprintf("%s %s: allowed by %s (%s, construct %s): %s",
		f.what(), f.Detail, allowFile, scope, f.Construct, f.AllowedBy.Reason)
}

// what is "service app: volumes: /x:/y in compose.yml".
func (f Finding) what() string {
	kind := "service"
	if f.Job {
		kind = "job"
	}
	return fmt.Sprintf("%s %s: %s: %s in %s", kind, plain(f.Service), f.Key, plain(f.Value), f.File)
}

// maxValue caps one value in a reason: a reason names the construct, it does not dump it.
const maxValue = 160

// plain renders an untrusted value for a one-line reason: as it is when it holds only the
// characters of paths, names and port specs (no space: a value cannot pass for reason text),
// else Go-quoted (so a newline, a terminal escape or a bidi override shows as an escape, and the
// reader sees where the value ends). Markup is left
// to the renderer: the results summary and the bridge escape every reason they show.
func plain(s string) string {
	if r := []rune(s); len(r) > maxValue {
		s = string(r[:maxValue-1]) + "…"
	}
	for _, c := range s {
		if !safeRune(c) {
			return fmt.Sprintf("%q", s)
		}
	}
	if s == "" {
		return `""`
	}
	return s
}

func safeRune(c rune) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.ContainsRune("/._-:=,+@~…", c)
}
