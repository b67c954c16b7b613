package dronecfg_test

import (
	"testing"

	"github.com/drone/drone-go/drone"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/testkit/dronecfg"
)

const plugin = `kind: pipeline
type: docker
name: p
environment:
  FROM_PIPELINE: pipeline
  SHARED: pipeline
steps:
  - name: s
    image: example/plugin:1
    network_mode: host
    environment:
      SHARED: step
      PLUGIN_NAME: step
    settings:
      name: setting
      list: [a, b]
      number: 3
      quoted: "yes"
      empty:
      nested: {k: v}
    volumes:
      - name: sock
        path: /var/run/docker.sock
volumes:
  - name: sock
    host:
      path: /var/run/docker.sock
`

func parse(t *testing.T, yml string) *dronecfg.Pipeline {
	t.Helper()
	f, err := dronecfg.Parse([]byte(yml))
	require.NoError(t, err)
	require.Len(t, f.Pipelines, 1)
	return f.Pipelines[0]
}

func TestAStepsContainerIsWhatDronesDockerRunnerCreates(t *testing.T) {
	t.Parallel()
	r := run(map[string]string{"CCCI_RECIPE": "param", "SHARED": "param", "FROM_PIPELINE": "param", "DRONE_BUILD_NUMBER": "forged"})
	r.RunnerEnviron = map[string]string{"CCCI_RECIPE": "runner", "FROM_RUNNER": "runner"}
	r.RunnerVolumes = map[string]string{"/srv/overlays": "/overlays:ro", `/srv/a,"b"`: "/ab"}
	c, err := parse(t, plugin).Container("s", r)
	require.NoError(t, err)
	env := c.Env
	tests := []struct {
		name, key, want string
	}{
		{"a setting becomes PLUGIN_<NAME>, and wins over the step's environment", "PLUGIN_NAME", "setting"},
		{"a list setting is joined with commas", "PLUGIN_LIST", "a,b"},
		{"a number setting is printed", "PLUGIN_NUMBER", "3"},
		{"a quoted setting stays a string", "PLUGIN_QUOTED", "yes"},
		{"a map setting is JSON", "PLUGIN_NESTED", `{"k":"v"}`},
		{"a build param is in the step's environment and wins over the runner's", "CCCI_RECIPE", "param"},
		{"the runner's environment reaches the step", "FROM_RUNNER", "runner"},
		{"the pipeline's environment wins over a param", "FROM_PIPELINE", "pipeline"},
		{"the step's environment wins over the pipeline's", "SHARED", "step"},
		{"Drone's own variables win over a param", "DRONE_BUILD_NUMBER", "7"},
		{"the event is custom", "DRONE_BUILD_EVENT", "custom"},
		{"the repo is named", "DRONE_REPO", "coop-cloud/cc-ci"},
		{"the step is named", "DRONE_STEP_NAME", "s"},
		{"the workspace is Drone's default", "DRONE_WORKSPACE", "/drone/src"},
		{"git never prompts", "GIT_TERMINAL_PROMPT", "0"},
		{"CI is set", "CI", "true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, env[tt.key])
		})
	}
	_, set := env["PLUGIN_EMPTY"]
	assert.False(t, set, "a setting with no value is left out (drone-yaml issue 13)")
	assert.Equal(t, "/drone/src", c.WorkingDir)
	assert.Equal(t, []dronecfg.Mount{
		{Name: "_workspace", Target: "/drone/src"},
		{Name: "sock", Source: "/var/run/docker.sock", Target: "/var/run/docker.sock", Bind: true},
		{Name: `runner:/srv/a,"b"`, Source: `/srv/a,"b"`, Target: "/ab", Bind: true},
		{Name: "runner:/srv/overlays", Source: "/srv/overlays", Target: "/overlays", Bind: true, ReadOnly: true},
	}, c.Mounts, "the workspace, the step's volumes, then the runner's (DRONE_RUNNER_VOLUMES)")
	args, err := c.DockerRunArgs("step-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"run", "--name", "step-1", "--log-driver", "json-file", "--network", "host",
		"--workdir", "/drone/src"}, args[:9])
	assert.Contains(t, args, "type=bind,source=/var/run/docker.sock,target=/var/run/docker.sock")
	assert.Contains(t, args, "type=bind,source=/srv/overlays,target=/overlays,readonly")
	assert.Contains(t, args, `type=bind,"source=/srv/a,""b""",target=/ab`, "a comma or quote in a path is CSV-quoted")
	assert.Contains(t, args, "PLUGIN_NAME=setting")
	assert.Equal(t, "example/plugin:1", args[len(args)-1], "no command: the image's entrypoint runs")
	assert.NotContains(t, args, "--init", "the entrypoint is the container's PID 1")
}

func TestWhatDroneWouldRefuseOrTheEmulationCannotDoIsAnError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yml     string
		trusted bool
		wantErr string
	}{
		{"an untrusted repo may not set network_mode", plugin, false, "untrusted repositories cannot configure network_mode"},
		{"an untrusted repo may not mount host volumes",
			"kind: pipeline\ntype: docker\nname: p\nsteps:\n  - name: s\n    image: i\nvolumes:\n  - name: v\n    host: {path: /x}\n",
			false, "untrusted repositories cannot mount host volumes"},
		{"Drone's own volume names are refused",
			"kind: pipeline\ntype: docker\nname: p\nsteps:\n  - name: s\n    image: i\n    volumes: [{name: _docker_socket, path: /x}]\n",
			true, "invalid volume name: _docker_socket"},
		{"a mount of an undeclared volume is a typo, not silence",
			"kind: pipeline\ntype: docker\nname: p\nsteps:\n  - name: s\n    image: i\n    volumes: [{name: nope, path: /x}]\n",
			true, `mounts volume "nope"`},
		{"an unquoted yes would be a bool to Drone",
			"kind: pipeline\ntype: docker\nname: p\nsteps:\n  - name: s\n    image: i\n    settings: {flag: yes}\n",
			true, "quote it"},
		{"a secret setting is not emulated",
			"kind: pipeline\ntype: docker\nname: p\nsteps:\n  - name: s\n    image: i\n    settings: {token: {from_secret: t}}\n",
			true, "from_secret is not emulated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := run(nil)
			r.Repo.Trusted = tt.trusted
			_, err := parse(t, tt.yml).Container("s", r)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestAFileDroneWouldReadDifferentlyIsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yml     string
		wantErr string
	}{
		{"a misspelt key Drone would silently ignore",
			"kind: pipeline\ntype: docker\nname: p\nsteps:\n  - name: s\n    image: i\n    setings: {a: b}\n", "setings"},
		{"a variable Drone would substitute before parsing",
			"kind: pipeline\ntype: docker\nname: p\nsteps:\n  - name: s\n    image: i\n    settings: {recipe: ${CCCI_RECIPE}}\n", "substitutes"},
		{"two steps with one name", "kind: pipeline\ntype: docker\nname: p\nsteps:\n  - {name: s, image: i}\n  - {name: s, image: i}\n",
			"duplicate step name"},
		{"a kind other than pipeline", "kind: secret\nname: s\n", `kind "secret"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := dronecfg.Parse([]byte(tt.yml))
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestDocumentsAreSplitAtSeparatorLinesAndCommentsKept(t *testing.T) {
	t.Parallel()
	f, err := dronecfg.Parse([]byte("# note one\nkind: pipeline\ntype: exec\nname: a\n---\n# note two\nkind: pipeline\ntype: docker\nname: b\n...\nkind: ignored\n"))
	require.NoError(t, err)
	require.Len(t, f.Pipelines, 2)
	assert.Equal(t, "a", f.Pipelines[0].Name)
	assert.Equal(t, "b", f.Pipelines[1].Name)
	assert.Equal(t, []string{"note one", "note two"}, f.Comments)
	_, err = f.Pipelines[0].Container("x", dronecfg.Run{Repo: drone.Repo{Trusted: true}})
	require.ErrorContains(t, err, "only docker pipelines")
}
