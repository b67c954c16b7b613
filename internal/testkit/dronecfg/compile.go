package dronecfg

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/drone/drone-go/drone"
	"gopkg.in/yaml.v3"
)

// Run is what Drone knows when it runs a stage: the server, the repo, the build (its Params are
// the custom build parameters, e.g. the bridge's CCCI_*), the stage, and the runner's
// DRONE_RUNNER_ENVIRON.
type Run struct {
	System drone.System
	Repo   drone.Repo
	Build  drone.Build
	Stage  drone.Stage
	// StepNumber is the step's number in the stage (1 for the first).
	StepNumber int
	// RunnerEnviron is the runner's DRONE_RUNNER_ENVIRON: global variables for every step.
	RunnerEnviron map[string]string
	// RunnerVolumes is the runner's DRONE_RUNNER_VOLUMES: host path -> container path (":ro"
	// suffix for read-only), mounted into every step (compiler.go "append global volumes").
	RunnerVolumes map[string]string
	// WorkspaceVolume names the docker volume the runner creates for the workspace.
	WorkspaceVolume string
	// NetworkID names the per-build network the runner creates.
	NetworkID string
}

// Mount is one of the container's mounts.
type Mount struct {
	// Name is the pipeline volume's name ("_workspace" for the workspace).
	Name string
	// Source is a host path (Bind) or a docker volume name.
	Source   string
	Target   string
	Bind     bool
	ReadOnly bool
}

// Container is what drone-runner-docker creates for a step (engine/convert.go toConfig,
// toHostConfig): a step without commands runs its image's entrypoint (a plugin).
type Container struct {
	Image       string
	Pull        string
	Env         map[string]string
	Mounts      []Mount
	NetworkMode string // "" means the per-build network Run.NetworkID
	WorkingDir  string
	Privileged  bool
	User        string
	Cmd         []string
}

// defaultWorkspace is engine/compiler/workspace.go's workspacePath.
const defaultWorkspace = "/drone/src"

// yaml11Special are plain scalars YAML 1.1 (Drone's buildkite/yaml, a yaml.v2 fork) reads as a
// bool or null where yaml.v3 reads a string: refused, so the emulation never disagrees with Drone.
var yaml11Special = regexp.MustCompile(`^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|~|null|Null|NULL)$`)

// Container works out the container of step in p for run r.
func (p *Pipeline) Container(step string, r Run) (*Container, error) {
	if p.Type != "docker" {
		return nil, fmt.Errorf("pipeline %q is type %q: only docker pipelines run in containers", p.Name, p.Type)
	}
	s, err := p.Step(step)
	if err != nil {
		return nil, err
	}
	if err := lintTrust(p, s, r.Repo.Trusted); err != nil {
		return nil, err
	}
	settings, err := s.pluginEnv()
	if err != nil {
		return nil, fmt.Errorf("step %q: %w", s.Name, err)
	}
	base := p.Workspace.Base
	if base == "" {
		base = defaultWorkspace
	}
	full := path.Join(base, p.Workspace.Path)
	c := &Container{Image: s.Image, Pull: s.Pull, NetworkMode: s.NetworkMode, Privileged: s.Privileged,
		User: s.User, WorkingDir: s.WorkingDir}
	// compiler.go: the pipeline's environment, under Drone's own variables.
	env := combine(r.RunnerEnviron, r.Build.Params, p.Environment, system(r.System), repo(r.Repo),
		build(r.Build), stage(r.Stage), link(r), gitEnviron(r.Build))
	env["DRONE_DOCKER_NETWORK_ID"] = r.NetworkID
	env["DRONE_WORKSPACE"], env["DRONE_WORKSPACE_BASE"], env["DRONE_WORKSPACE_PATH"] = full, base, p.Workspace.Path
	env["DRONE_DOCKER_VOLUME_ID"] = r.WorkspaceVolume
	// compiler.go: dst.Envs = environ.Combine(envs, dst.Envs), where dst.Envs holds the step's
	// environment and its settings (step.go).
	env = combine(env, s.Environment, settings)
	// execer.go: the build, stage and step variables are refreshed as the step starts.
	c.Env = combine(env, build(r.Build), stage(r.Stage),
		map[string]string{"DRONE_STEP_NAME": s.Name, "DRONE_STEP_NUMBER": strconv.Itoa(r.StepNumber)})
	if len(s.Commands) > 0 {
		return nil, fmt.Errorf("step %q has commands: the generated entrypoint script is not emulated", s.Name)
	}
	c.Cmd = append(append([]string{}, s.Entrypoint...), s.Command...)
	if c.WorkingDir == "" {
		c.WorkingDir = full // workspace.go setupWorkdir
	}
	c.Mounts = append(c.Mounts, Mount{Name: "_workspace", Source: r.WorkspaceVolume, Target: base})
	for _, m := range s.Volumes {
		v := p.Volume(m.Name)
		switch {
		case v == nil:
			// convert.go skips a mount whose volume is not declared; refuse it here, as silence
			// would hide a typo.
			return nil, fmt.Errorf("step %q mounts volume %q, which the pipeline does not declare", s.Name, m.Name)
		case v.Host != nil:
			c.Mounts = append(c.Mounts, Mount{Name: m.Name, Source: v.Host.Path, Target: m.Path, Bind: true})
		default:
			return nil, fmt.Errorf("volume %q: only host volumes are emulated", m.Name)
		}
	}
	hosts := make([]string, 0, len(r.RunnerVolumes))
	for h := range r.RunnerVolumes {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		target, ro := strings.CutSuffix(r.RunnerVolumes[h], ":ro")
		c.Mounts = append(c.Mounts, Mount{Name: "runner:" + h, Source: h, Target: target, Bind: true, ReadOnly: ro})
	}
	return c, nil
}

// lintTrust is engine/linter/linter.go: host volumes, network_mode and privileged need a repo
// an admin marked trusted; some volume names are Drone's own.
func lintTrust(p *Pipeline, s *Step, trusted bool) error {
	for _, m := range s.Volumes {
		switch m.Name {
		case "workspace", "_workspace", "_docker_socket":
			return fmt.Errorf("linter: invalid volume name: %s", m.Name)
		}
	}
	if trusted {
		return nil
	}
	switch {
	case s.Privileged:
		return errors.New("linter: untrusted repositories cannot enable privileged mode")
	case s.NetworkMode != "":
		return errors.New("linter: untrusted repositories cannot configure network_mode")
	}
	for _, v := range p.Volumes {
		if v.Host != nil {
			return errors.New("linter: untrusted repositories cannot mount host volumes")
		}
	}
	return nil
}

// pluginEnv is each setting as PLUGIN_<UPPER NAME>, its value encoded as drone-runner-docker's
// internal/encoder does: a string as is, a number or bool printed, a list joined with commas,
// a map as JSON (step.go, encoder.go). A setting with no value is left out (step.go: "fix
// https://github.com/drone/drone-yaml/issues/13"); from_secret is not emulated.
func (s *Step) pluginEnv() (map[string]string, error) {
	env := map[string]string{}
	for key, node := range s.Settings {
		name := "PLUGIN_" + strings.ToUpper(key)
		if node.Kind == yaml.ScalarNode && node.Tag == "!!null" {
			continue
		}
		if node.Kind == yaml.MappingNode {
			var m map[string]any
			if err := node.Decode(&m); err != nil {
				return nil, err
			}
			if _, ok := m["from_secret"]; ok {
				return nil, fmt.Errorf("setting %s: from_secret is not emulated", key)
			}
			b, err := json.Marshal(m)
			if err != nil {
				return nil, err
			}
			env[name] = string(b)
			continue
		}
		if node.Kind == yaml.SequenceNode {
			var items []string
			if err := node.Decode(&items); err != nil {
				return nil, fmt.Errorf("setting %s: only lists of scalars are emulated: %w", key, err)
			}
			env[name] = strings.Join(items, ",")
			continue
		}
		if node.Style == 0 && yaml11Special.MatchString(node.Value) {
			return nil, fmt.Errorf("setting %s: %q is a bool or null to Drone's YAML 1.1 parser: quote it", key, node.Value)
		}
		env[name] = node.Value
	}
	return env, nil
}

// system is runner-go environ.System.
func system(s drone.System) map[string]string {
	return map[string]string{"CI": "true", "DRONE": "true", "DRONE_SYSTEM_PROTO": s.Proto,
		"DRONE_SYSTEM_HOST": s.Host, "DRONE_SYSTEM_HOSTNAME": s.Host, "DRONE_SYSTEM_VERSION": s.Version}
}

// repo is runner-go environ.Repo.
func repo(r drone.Repo) map[string]string {
	return map[string]string{"DRONE_REPO": r.Slug, "DRONE_REPO_SCM": r.SCM, "DRONE_REPO_OWNER": r.Namespace,
		"DRONE_REPO_NAMESPACE": r.Namespace, "DRONE_REPO_NAME": r.Name, "DRONE_REPO_LINK": r.Link,
		"DRONE_REPO_BRANCH": r.Branch, "DRONE_REMOTE_URL": r.HTTPURL, "DRONE_GIT_HTTP_URL": r.HTTPURL,
		"DRONE_GIT_SSH_URL": r.SSHURL, "DRONE_REPO_VISIBILITY": r.Visibility,
		"DRONE_REPO_PRIVATE": strconv.FormatBool(r.Private)}
}

// build is runner-go environ.Build for a running build (status success, times now when unset).
func build(b drone.Build) map[string]string {
	now := strconv.FormatInt(time.Now().Unix(), 10)
	started, finished := strconv.FormatInt(b.Started, 10), strconv.FormatInt(b.Finished, 10)
	if b.Started == 0 {
		started = now
	}
	if b.Finished == 0 {
		finished = now
	}
	env := map[string]string{"DRONE_BRANCH": b.Target, "DRONE_SOURCE_BRANCH": b.Source,
		"DRONE_TARGET_BRANCH": b.Target, "DRONE_COMMIT": b.After, "DRONE_COMMIT_SHA": b.After,
		"DRONE_COMMIT_BEFORE": b.Before, "DRONE_COMMIT_AFTER": b.After, "DRONE_COMMIT_REF": b.Ref,
		"DRONE_COMMIT_BRANCH": b.Target, "DRONE_COMMIT_LINK": b.Link, "DRONE_COMMIT_MESSAGE": b.Message,
		"DRONE_COMMIT_AUTHOR": b.Author, "DRONE_COMMIT_AUTHOR_EMAIL": b.AuthorEmail,
		"DRONE_COMMIT_AUTHOR_AVATAR": b.AuthorAvatar, "DRONE_COMMIT_AUTHOR_NAME": b.AuthorName,
		"DRONE_BUILD_NUMBER": strconv.FormatInt(b.Number, 10), "DRONE_BUILD_PARENT": strconv.FormatInt(b.Parent, 10),
		"DRONE_BUILD_EVENT": b.Event, "DRONE_BUILD_ACTION": b.Action, "DRONE_BUILD_STATUS": "success",
		"DRONE_BUILD_CREATED": strconv.FormatInt(b.Created, 10), "DRONE_BUILD_STARTED": started,
		"DRONE_BUILD_FINISHED": finished, "DRONE_DEPLOY_TO": b.Deploy}
	if tag, ok := strings.CutPrefix(b.Ref, "refs/tags/"); ok {
		env["DRONE_TAG"] = tag
	}
	return env
}

// stage is runner-go environ.Stage for a running stage.
func stage(s drone.Stage) map[string]string {
	now := strconv.FormatInt(time.Now().Unix(), 10)
	return map[string]string{"DRONE_STAGE_KIND": s.Kind, "DRONE_STAGE_TYPE": s.Type,
		"DRONE_STAGE_NAME": s.Name, "DRONE_STAGE_NUMBER": strconv.Itoa(s.Number),
		"DRONE_STAGE_MACHINE": s.Machine, "DRONE_STAGE_OS": s.OS, "DRONE_STAGE_ARCH": s.Arch,
		"DRONE_STAGE_VARIANT": s.Variant, "DRONE_STAGE_STATUS": "success", "DRONE_STAGE_STARTED": now,
		"DRONE_STAGE_FINISHED": now, "DRONE_STAGE_DEPENDS_ON": strings.Join(s.DependsOn, ",")}
}

// link is runner-go environ.Link.
func link(r Run) map[string]string {
	return map[string]string{"DRONE_BUILD_LINK": fmt.Sprintf("%s://%s/%s/%d", r.System.Proto, r.System.Host,
		r.Repo.Slug, r.Build.Number)}
}

// gitEnviron is runner-go clone.Environ with the build's author.
func gitEnviron(b drone.Build) map[string]string {
	env := map[string]string{"GIT_AUTHOR_NAME": "drone", "GIT_AUTHOR_EMAIL": "noreply@drone",
		"GIT_COMMITTER_NAME": "drone", "GIT_COMMITTER_EMAIL": "noreply@drone", "GIT_TERMINAL_PROMPT": "0"}
	if b.AuthorName != "" {
		env["GIT_AUTHOR_NAME"], env["GIT_COMMITTER_NAME"] = b.AuthorName, b.AuthorName
	}
	if b.AuthorEmail != "" {
		env["GIT_AUTHOR_EMAIL"], env["GIT_COMMITTER_EMAIL"] = b.AuthorEmail, b.AuthorEmail
	}
	return env
}

// combine is runner-go environ.Combine: later maps win.
func combine(envs ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, e := range envs {
		for k, v := range e {
			out[k] = v
		}
	}
	return out
}

// EnvList is the container's environment as sorted KEY=value pairs.
func (c *Container) EnvList() []string {
	out := make([]string, 0, len(c.Env))
	for k, v := range c.Env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// csvField quotes one field of --mount's value, which docker reads as a CSV record: a path may
// hold a comma or a quote.
func csvField(s string) string {
	if !strings.ContainsAny(s, ",\"\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// DockerRunArgs is `docker run` with the options drone-runner-docker passes to ContainerCreate
// (engine/convert.go): no TTY and no stdin, host paths as binds, the workspace as a volume, the
// step's network mode or the build's network, and no --init, so the image's entrypoint is the
// container's PID 1. name names the container; the image's entrypoint runs unless Cmd is set. A
// step on the per-build network is refused: the emulation does not create that network.
func (c *Container) DockerRunArgs(name string) ([]string, error) {
	if c.NetworkMode == "" {
		return nil, errors.New("the step runs on the build's own network, which is not emulated: set network_mode")
	}
	args := []string{"run", "--name", name, "--log-driver", "json-file", "--network", c.NetworkMode}
	if c.Privileged {
		args = append(args, "--privileged")
	}
	if c.User != "" {
		args = append(args, "--user", c.User)
	}
	if c.WorkingDir != "" {
		args = append(args, "--workdir", c.WorkingDir)
	}
	for _, m := range c.Mounts {
		kind := "volume"
		if m.Bind {
			kind = "bind"
		}
		opt := []string{"type=" + kind, csvField("source=" + m.Source), csvField("target=" + m.Target)}
		if m.ReadOnly {
			opt = append(opt, "readonly")
		}
		args = append(args, "--mount", strings.Join(opt, ","))
	}
	for _, kv := range c.EnvList() {
		args = append(args, "--env", kv)
	}
	return append(append(args, c.Image), c.Cmd...), nil
}
