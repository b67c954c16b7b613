package dronecfg_test

// The contract of the repo's .drone.yml: what the bridge sends reaches the plugin, the plugin's
// host dirs are the ones DESIGN.md 3 names and the janitor reaps, and Drone's timeout outlasts
// the plugin's deadline and teardown.

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drone/drone-go/drone"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/lifetime"
	"coopcloud.tech/cc-ci/internal/testkit"
	"coopcloud.tech/cc-ci/internal/testkit/dronecfg"
)

// The host paths of DESIGN.md section 3 (lock dir, runs dir, canonical abra dir).
const (
	designLockDir = "/run/lock/cc-ci"
	designRunsDir = "/var/lib/cc-ci/runs"
	designAbraDir = "/var/lib/cc-ci/abra"
	dockerSocket  = "/var/run/docker.sock"
)

// bridgeOnly are build params the bridge sends for itself, not for the plugin.
var bridgeOnly = map[string]string{
	"CCCI_REQUEST": "the request key the bridge finds its build by after a crash (bridge/trigger/start.go)",
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := testkit.RepoRoot(t.Context())
	require.NoError(t, err)
	return root
}

func recipeTest(t *testing.T) *dronecfg.Pipeline {
	t.Helper()
	f, err := dronecfg.Load(filepath.Join(repoRoot(t), ".drone.yml"))
	require.NoError(t, err)
	p, err := f.Pipeline("recipe-test")
	require.NoError(t, err)
	return p
}

// run is a custom build as the bridge starts it, on a trusted repo, with the runner's
// environment as the NixOS module sets it.
func run(params map[string]string) dronecfg.Run {
	return dronecfg.Run{
		System:        drone.System{Proto: "https", Host: "drone.example.org", Version: "2.26.0"},
		Repo:          drone.Repo{Namespace: "coop-cloud", Name: "cc-ci", Slug: "coop-cloud/cc-ci", Trusted: true, Timeout: 90},
		Build:         drone.Build{Number: 7, Event: "custom", Target: "main", Params: params},
		Stage:         drone.Stage{Name: "recipe-test", Kind: "pipeline", Type: "docker", Number: 1, OS: "linux", Arch: "amd64"},
		StepNumber:    1,
		RunnerEnviron: map[string]string{"CCCI_DOMAIN_SUFFIX": "ci.example.org", "CCCI_FRONTDOOR_URL": "https://127.0.0.1"},
	}
}

// flag is one command-line setting as --help shows it.
type flag struct {
	envs []string // the env vars bound to it, first wins
	def  string   // its default, unquoted; "" when none
}

var (
	helpOnce sync.Once
	helps    map[string]map[string]flag
	helpErr  error
)

// flagsOf returns the settings of command (plugin/cc-ci-plugin, janitor/cc-ci-janitor) read from
// the --help of the real binary: the binding that runs, not a copy of it.
func flagsOf(t *testing.T, command string) map[string]flag {
	t.Helper()
	helpOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		helps = map[string]map[string]flag{}
		dir, err := os.MkdirTemp("", "ccci-dronecfg-")
		if err != nil {
			helpErr = err
			return
		}
		defer os.RemoveAll(dir)
		for _, c := range []string{"plugin/cc-ci-plugin", "janitor/cc-ci-janitor"} {
			bin, err := testkit.BuildCommand(ctx, c, dir)
			if err != nil {
				helpErr = err
				return
			}
			out, err := exec.CommandContext(ctx, bin, "--help").CombinedOutput()
			if err != nil {
				helpErr = err
				return
			}
			helps[c] = parseHelp(string(out))
		}
	})
	require.NoError(t, helpErr)
	require.NotEmpty(t, helps[command], "no settings read from %s --help", command)
	return helps[command]
}

var (
	helpLine    = regexp.MustCompile(`^\s+--([a-z0-9-]+)(?: value)?\s+(.*)\[(\$[A-Z0-9_]+(?:, \$[A-Z0-9_]+)*)\]\s*$`)
	helpDefault = regexp.MustCompile(`\(default: "?([^")]*)"?\)\s*$`)
)

// parseHelp reads urfave/cli's help lines: `--name value  usage (default: "x") [$A, $B]`.
func parseHelp(out string) map[string]flag {
	flags := map[string]flag{}
	for line := range strings.SplitSeq(out, "\n") {
		m := helpLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := flag{envs: strings.Split(strings.ReplaceAll(m[3], "$", ""), ", ")}
		if d := helpDefault.FindStringSubmatch(m[2]); d != nil {
			f.def = d[1]
		}
		flags[m[1]] = f
	}
	return flags
}

// resolve is what the plugin reads for f in env: the first of its env vars that is set (urfave/cli
// v2 flagFromEnvOrFile takes a set variable even when it is empty), and which one that was.
func resolve(f flag, env map[string]string) (value, from string) {
	for _, name := range f.envs {
		if v, ok := env[name]; ok {
			return v, name
		}
	}
	return f.def, "default"
}

// bridgeParams reads the keys of the map the bridge's (*job).params returns in
// bridge/trigger/start.go, resolving package-level string constants.
func bridgeParams(t *testing.T, root string) []string {
	t.Helper()
	dir := filepath.Join(root, "bridge", "trigger")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	fset := token.NewFileSet()
	consts := map[string]string{}
	var params *ast.FuncDecl
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					vs, ok := s.(*ast.ValueSpec)
					if !ok || d.Tok != token.CONST {
						continue
					}
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								consts[n.Name], _ = strconv.Unquote(lit.Value)
							}
						}
					}
				}
			case *ast.FuncDecl:
				if d.Name.Name == "params" && d.Recv != nil {
					params = d
				}
			}
		}
	}
	require.NotNil(t, params, "bridge/trigger has no params method: where does the bridge build Drone's params now?")
	var keys []string
	ast.Inspect(params.Body, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		switch k := kv.Key.(type) {
		case *ast.BasicLit:
			s, err := strconv.Unquote(k.Value)
			require.NoError(t, err)
			keys = append(keys, s)
		case *ast.Ident:
			v, ok := consts[k.Name]
			require.True(t, ok, "param key %s is not a string constant of bridge/trigger", k.Name)
			keys = append(keys, v)
		default:
			t.Fatalf("param key %T is neither a string literal nor a constant", kv.Key)
		}
		return true
	})
	return keys
}

func TestTheCIPipelineLintsAndTestsEveryPushAndPullRequest(t *testing.T) {
	t.Parallel()
	f, err := dronecfg.Load(filepath.Join(repoRoot(t), ".drone.yml"))
	require.NoError(t, err)
	p, err := f.Pipeline("ci")
	require.NoError(t, err)
	assert.Equal(t, "exec", p.Type, "the suites need the host's engine, swarm, ports and paths (docs/image.md)")
	assert.ElementsMatch(t, []string{"push", "pull_request"}, p.Trigger.Event.Include)
	var commands []string
	for _, s := range p.Steps {
		commands = append(commands, s.Commands...)
	}
	assert.Equal(t, []string{"make lint", "make test"}, commands)
}

func TestTheRecipeTestPipelineRunsThePluginImageForEachCustomBuild(t *testing.T) {
	t.Parallel()
	p := recipeTest(t)
	assert.Equal(t, "docker", p.Type)
	assert.Equal(t, []string{"custom"}, p.Trigger.Event.Include, "the bridge starts builds through the API: event custom")
	assert.True(t, p.Clone.Disable, "the plugin fetches the recipe itself; cc-ci's own source is not needed")
	require.Len(t, p.Steps, 1)
	s := p.Steps[0]
	assert.Equal(t, "cc-ci-plugin:local", s.Image, "the image the NixOS host loads (docs/image.md)")
	assert.NotEqual(t, testkit.PluginImage, s.Image, "never the test image with the FAKE abra")
	assert.Equal(t, "never", s.Pull, "the image is built on the host; there is no registry to pull it from")
	assert.Empty(t, s.Commands, "a plugin step: the image's entrypoint runs")
	assert.Empty(t, s.Entrypoint)
	assert.Equal(t, "host", s.NetworkMode, "the plugin reaches the front door on the host's ports")
}

func TestEveryBuildParamTheBridgeSendsReachesThePluginSettingBoundToIt(t *testing.T) {
	t.Parallel()
	sent := bridgeParams(t, repoRoot(t))
	for _, want := range []string{"CCCI_RECIPE", "CCCI_REPO", "CCCI_SRC", "CCCI_REF", "CCCI_PR", "CCCI_MODE", "CCCI_FORGE"} {
		require.Contains(t, sent, want, "the bridge sends DESIGN.md 3's params")
	}
	params := map[string]string{}
	for _, p := range sent {
		params[p] = "sent-as-" + p
	}
	c, err := recipeTest(t).Container("cc-ci", run(params))
	require.NoError(t, err)
	flags := flagsOf(t, "plugin/cc-ci-plugin")
	for _, p := range sent {
		t.Run(p, func(t *testing.T) {
			if why, ok := bridgeOnly[p]; ok {
				t.Logf("%s is not for the plugin: %s", p, why)
				return
			}
			var bound []string
			for name, f := range flags {
				if slices.Contains(f.envs, p) {
					bound = append(bound, name)
				}
			}
			require.Len(t, bound, 1, "exactly one plugin setting reads %s", p)
			got, from := resolve(flags[bound[0]], c.Env)
			assert.Equal(t, params[p], got, "--%s reads %s instead of the param %s", bound[0], from, p)
		})
	}
}

func TestTheStepMountsTheHostDirsOfDesign3AtTheSamePathsAndPinsThePluginToThem(t *testing.T) {
	t.Parallel()
	design := map[string]string{"lock-dir": designLockDir, "runs-dir": designRunsDir, "abra-dir": designAbraDir}
	plugin, janitor := flagsOf(t, "plugin/cc-ci-plugin"), flagsOf(t, "janitor/cc-ci-janitor")
	for name, dir := range design {
		assert.Equal(t, dir, plugin[name].def, "the plugin's default --%s", name)
	}
	assert.Equal(t, designLockDir, janitor["lock-dir"].def, "the janitor's default lock dir is the plugin's")
	assert.Equal(t, designAbraDir, janitor["abra-dir"].def, "the janitor's default abra dir is the plugin's")

	// A param naming another lock dir must not move the run's lock away from the janitor's: the
	// settings pin the host dirs (Drone lets build params override the runner's environment).
	hostile := map[string]string{"CCCI_APP_LOCK_DIR": "/tmp/elsewhere", "CCCI_RUNS_DIR": "/tmp/r", "CCCI_ABRA_DIR": "/tmp/a"}
	c, err := recipeTest(t).Container("cc-ci", run(hostile))
	require.NoError(t, err)
	binds := map[string]string{}
	for _, m := range c.Mounts {
		if m.Bind {
			binds[m.Target] = m.Source
		}
	}
	assert.Equal(t, map[string]string{dockerSocket: dockerSocket, designLockDir: designLockDir,
		designRunsDir: designRunsDir, designAbraDir: designAbraDir}, binds,
		"each host dir at its own path: the janitor, the bridge and the dashboard read the same paths on the host")
	for name, dir := range design {
		got, from := resolve(plugin[name], c.Env)
		assert.Equal(t, dir, got, "--%s comes from %s", name, from)
		assert.True(t, strings.HasPrefix(from, "PLUGIN_"), "--%s is pinned by a setting, not left to %s", name, from)
	}
}

// timeoutFlag is the operator's command in .drone.yml's comments that sets the repo's build
// timeout (Drone reads it from the repo's settings, not from the file: runner-go
// pipeline/runtime/runner.go, data.Repo.Timeout).
var timeoutFlag = regexp.MustCompile(`drone repo update .*--timeout (\S+)`)

func TestTheRepoTimeoutOutlastsThePluginsDeadlineAndTeardown(t *testing.T) {
	t.Parallel()
	f, err := dronecfg.Load(filepath.Join(repoRoot(t), ".drone.yml"))
	require.NoError(t, err)
	var timeout time.Duration
	for _, c := range f.Comments {
		if m := timeoutFlag.FindStringSubmatch(c); m != nil {
			timeout, err = time.ParseDuration(m[1])
			require.NoError(t, err)
		}
	}
	require.NotZero(t, timeout, ".drone.yml must say how to set the repo's timeout (drone repo update --timeout)")
	p, err := f.Pipeline("recipe-test")
	require.NoError(t, err)
	c, err := p.Container("cc-ci", run(map[string]string{"CCCI_DEADLINE": "999h"}))
	require.NoError(t, err)
	raw, from := resolve(flagsOf(t, "plugin/cc-ci-plugin")["deadline"], c.Env)
	assert.Equal(t, "PLUGIN_DEADLINE", from, "the deadline is pinned by a setting, not left to a param")
	deadline, err := time.ParseDuration(raw)
	require.NoError(t, err)
	// Drone kills the container with SIGKILL when its timeout fires: the plugin must have ended
	// itself first, teardown included (lifetime's budget, plus a minute for the image to start).
	need := deadline + lifetime.DefaultTeardownTimeout + time.Minute
	assert.GreaterOrEqual(t, timeout, need, "repo timeout %s vs deadline %s + teardown", timeout, deadline)
}
