package opscheck

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The host paths of DESIGN.md 3 ("Host paths (all overridable)") and the deadline of DESIGN.md 4.1.
const (
	designLockDir  = "/run/lock/cc-ci"
	designRunsDir  = "/var/lib/cc-ci/runs"
	designAbraDir  = "/var/lib/cc-ci/abra"
	designDeadline = 60 * time.Minute
)

// probeResult is testdata/probe.nix's JSON: see the comment at its top.
type probeResult struct {
	Defaults struct {
		Paths        map[string]string `json:"paths"`
		DomainSuffix string            `json:"domainSuffix"`
		Server       string            `json:"server"`
		Deadline     string            `json:"deadline"`
		Env          map[string]string `json:"env"`
	} `json:"defaults"`
	Sentinel struct {
		Env   map[string]string `json:"env"`
		Paths map[string]string `json:"paths"`
	} `json:"sentinel"`
	Consumers struct {
		Janitor              map[string]string `json:"janitor"`
		JanitorWritable      []string          `json:"janitorWritable"`
		Bridge               map[string]string `json:"bridge"`
		RunnerEnviron        string            `json:"runnerEnviron"`
		AbraDir              string            `json:"abraDir"`
		ProxyAbraDir         string            `json:"proxyAbraDir"`
		ProxyDomain          string            `json:"proxyDomain"`
		Tmpfiles             []string          `json:"tmpfiles"`
		DashboardHostRunsDir string            `json:"dashboardHostRunsDir"`
		Dashboard            map[string]string `json:"dashboard"`
	} `json:"consumers"`
	Undocumented []string `json:"undocumented"`
	ModuleFiles  []string `json:"moduleFiles"`
}

// nixInstantiate finds nix-instantiate (Debian's nix-bin; .ci/run installs it).
func nixInstantiate(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("nix-instantiate")
	require.NoError(t, err, "nix-instantiate not found: apt-get install nix-bin (the lint and these tests parse the Nix files)")
	return p
}

// runProbe evaluates testdata/probe.nix against the repo (or a copy of it) at root.
func runProbe(t *testing.T, root string) probeResult {
	t.Helper()
	probe, err := filepath.Abs(filepath.Join("testdata", "probe.nix"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nixInstantiate(t), "--eval", "--strict", "--json", probe, "--argstr", "repo", root)
	cmd.Env = append(os.Environ(), "NIX_PATH=") // nothing from <nixpkgs>: the probe must not need it
	out, err := cmd.Output()
	var stderr string
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	require.NoError(t, err, "nix-instantiate --eval probe.nix:\n%s", stderr)
	var p probeResult
	require.NoError(t, json.Unmarshal(out, &p), "probe output: %s", out)
	return p
}

// environ parses DRONE_RUNNER_ENVIRON ("KEY:value,KEY:value"; a value may hold ':').
func environ(s string) map[string]string {
	m := map[string]string{}
	for pair := range strings.SplitSeq(s, ",") {
		if k, v, ok := strings.Cut(pair, ":"); ok {
			m[k] = v
		}
	}
	return m
}

// consumerProblems lists every consumer that does not give its service the shared option's value
// (under the probe's sentinel config, a value of its own shows as a default instead).
func consumerProblems(p probeResult) []string {
	var out []string
	want := p.Sentinel.Env
	check := func(who, key, got, wantV string) {
		if got != wantV {
			out = append(out, fmt.Sprintf("%s: %s = %q, want the shared option's %q", who, key, got, wantV))
		}
	}
	for _, k := range []string{"CCCI_APP_LOCK_DIR", "CCCI_ABRA_DIR", "CCCI_SERVER", "CCCI_DOMAIN_SUFFIX", "CCCI_DEADLINE"} {
		check("janitor (nix/modules/janitor.nix)", k, p.Consumers.Janitor[k], want[k])
	}
	for _, dir := range []string{want["CCCI_APP_LOCK_DIR"], want["CCCI_ABRA_DIR"]} {
		if !slices.Contains(p.Consumers.JanitorWritable, "-"+dir) {
			out = append(out, fmt.Sprintf("janitor: ReadWritePaths %v lacks the shared dir %s", p.Consumers.JanitorWritable, dir))
		}
	}
	check("bridge (nix/modules/bridge.nix)", "CCCI_RUNS_DIR", p.Consumers.Bridge["CCCI_RUNS_DIR"], want["CCCI_RUNS_DIR"])
	steps := environ(p.Consumers.RunnerEnviron)
	for k, v := range want {
		check("plugin step (DRONE_RUNNER_ENVIRON, nix/modules/drone-runner.nix)", k, steps[k], v)
	}
	check("abra (nix/modules/abra.nix)", "ABRA_DIR", p.Consumers.AbraDir, want["CCCI_ABRA_DIR"])
	check("proxy (nix/modules/proxy.nix)", "ABRA_DIR", p.Consumers.ProxyAbraDir, want["CCCI_ABRA_DIR"])
	if !strings.HasSuffix(p.Consumers.ProxyDomain, "."+want["CCCI_DOMAIN_SUFFIX"]) {
		out = append(out, fmt.Sprintf("proxy: domain %q is not under the shared suffix %q", p.Consumers.ProxyDomain, want["CCCI_DOMAIN_SUFFIX"]))
	}
	for _, dir := range []string{want["CCCI_APP_LOCK_DIR"], want["CCCI_RUNS_DIR"], want["CCCI_ABRA_DIR"],
		want["CCCI_ABRA_DIR"] + "/servers/" + want["CCCI_SERVER"]} {
		if !slices.ContainsFunc(p.Consumers.Tmpfiles, func(r string) bool { return strings.HasPrefix(r, "d "+dir+" ") }) {
			out = append(out, fmt.Sprintf("common: no tmpfiles rule creates %s (rules %v)", dir, p.Consumers.Tmpfiles))
		}
	}
	check("host (nix/hosts/cc-ci) -> services.cc-ci-dashboard", "runsDir", p.Consumers.DashboardHostRunsDir, want["CCCI_RUNS_DIR"])
	check("dashboard (nix/modules/dashboard.nix)", "CCCI_RUNS_DIR", p.Consumers.Dashboard["CCCI_RUNS_DIR"], want["CCCI_RUNS_DIR"])
	return out
}

// TestNixFilesParse is what `make lint` does, here so `make test` fails on a broken .nix file too.
func TestNixFilesParse(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	nix := nixInstantiate(t)
	var files []string
	require.NoError(t, filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".nix") {
			files = append(files, path)
		}
		return nil
	}))
	require.GreaterOrEqual(t, len(files), 12, "flake.nix, nix/modules/*, nix/pkgs/*, nix/hosts/cc-ci/*")
	for _, f := range files {
		out, err := exec.Command(nix, "--parse", f).CombinedOutput()
		assert.NoError(t, err, "nix-instantiate --parse %s:\n%s", f, out)
	}
}

// TestNixSharedPathsAgree: the shared option set's defaults are DESIGN.md 3's paths and the
// binaries' own defaults, every consumer reads it, and every option is documented.
func TestNixSharedPathsAgree(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	p := runProbe(t, root)

	assert.Equal(t, map[string]string{"lockDir": designLockDir, "runsDir": designRunsDir, "abraDir": designAbraDir},
		p.Defaults.Paths, "services.cc-ci.paths defaults against DESIGN.md 3")
	d, err := time.ParseDuration(p.Defaults.Deadline)
	require.NoError(t, err, "services.cc-ci.deadline is not a Go duration")
	assert.Equal(t, designDeadline, d, "services.cc-ci.deadline against DESIGN.md 4.1")

	assert.Empty(t, consumerProblems(p), "a consumer does not read services.cc-ci")
	assert.Empty(t, p.Undocumented, "options without a description")
	assert.Contains(t, p.ModuleFiles, "dashboard.nix", "the dashboard module is probed too")

	// The binaries' own defaults, as --help prints them, and the variable names they read.
	nixDefault := map[string]string{
		"lock-dir": p.Defaults.Paths["lockDir"], "runs-dir": p.Defaults.Paths["runsDir"],
		"abra-dir": p.Defaults.Paths["abraDir"], "domain-suffix": p.Defaults.DomainSuffix,
		"server": p.Defaults.Server, "deadline": p.Defaults.Deadline,
	}
	uses := map[string][]string{
		"cc-ci-plugin":    {"lock-dir", "runs-dir", "abra-dir", "domain-suffix", "server", "deadline"},
		"cc-ci-janitor":   {"lock-dir", "abra-dir", "domain-suffix", "server", "deadline"},
		"cc-ci-bridge":    {"runs-dir"},
		"cc-ci-dashboard": {"runs-dir"},
	}
	for _, b := range binaries {
		t.Run(b.name, func(t *testing.T) {
			h := help(t, root, b)
			if h.missing != "" {
				t.Fatalf("%s cannot be built (%s)", b.name, h.missing)
			}
			require.NoError(t, h.err)
			f := parseHelp(h.text)
			for _, flag := range uses[b.name] {
				got, ok := f.defaults[flag]
				require.True(t, ok, "%s --help shows no default for --%s", b.name, flag)
				if flag == "deadline" {
					bd, err := time.ParseDuration(got)
					require.NoError(t, err)
					assert.Equal(t, d, bd, "%s --deadline default against services.cc-ci.deadline", b.name)
					continue
				}
				assert.Equal(t, nixDefault[flag], got, "%s --%s default against services.cc-ci", b.name, flag)
			}
		})
	}
	// Every variable services.cc-ci.env hands the plugin step is one the plugin reads.
	h := help(t, root, binaries[0])
	require.NoError(t, h.err)
	pluginEnv := parseHelp(h.text).env
	for k := range p.Defaults.Env {
		assert.Contains(t, pluginEnv, k, "services.cc-ci.env.%s is not a variable cc-ci-plugin reads", k)
	}
}

// TestNixProbeCatchesDrift runs the same checks on copies of nix/ broken on purpose: a consumer
// with its own lock dir, and an option without a description, must both be reported.
func TestNixProbeCatchesDrift(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	tests := []struct {
		name, file, old, new, want string
		undocumented               bool
	}{
		{
			name: "a janitor with its own lock dir is reported",
			file: "nix/modules/janitor.nix",
			old:  "inherit (common.env) CCCI_APP_LOCK_DIR CCCI_ABRA_DIR",
			new:  `CCCI_APP_LOCK_DIR = "/run/lock/cc-ci"; inherit (common.env) CCCI_ABRA_DIR`,
			want: "janitor (nix/modules/janitor.nix): CCCI_APP_LOCK_DIR",
		},
		{
			name: "a host that leaves the dashboard its own runs dir is reported",
			file: "nix/hosts/cc-ci/default.nix",
			old:  "runsDir = config.services.cc-ci.paths.runsDir;",
			new:  "",
			want: "services.cc-ci-dashboard: runsDir",
		},
		{
			name: "a runner that hands steps a fixed suffix is reported",
			file: "nix/modules/drone-runner.nix",
			old:  "(common.env // cfg.extraEnviron)",
			new:  `(common.env // { CCCI_DOMAIN_SUFFIX = "ci.coopcloud.tech"; } // cfg.extraEnviron)`,
			want: "plugin step (DRONE_RUNNER_ENVIRON, nix/modules/drone-runner.nix): CCCI_DOMAIN_SUFFIX",
		},
		{
			name:         "an option without a description is reported",
			file:         "nix/modules/swarm.nix",
			old:          "    pruneImages = mkOption {",
			new:          "    undocumentedKnob = mkOption { type = types.bool; default = false; };\n    pruneImages = mkOption {",
			want:         "swarm.nix: services.cc-ci.swarm.undocumentedKnob",
			undocumented: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			copyRoot := t.TempDir()
			require.NoError(t, os.CopyFS(filepath.Join(copyRoot, "nix"), os.DirFS(filepath.Join(root, "nix"))))
			path := filepath.Join(copyRoot, tt.file)
			src, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Contains(t, string(src), tt.old, "the breakage no longer applies to %s: update this test", tt.file)
			require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(src), tt.old, tt.new, 1)), 0o644))

			p := runProbe(t, copyRoot)
			got := p.Undocumented
			if !tt.undocumented {
				got = consumerProblems(p)
			}
			assert.True(t, slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, tt.want) }),
				"want a problem containing %q, got %q", tt.want, got)
		})
	}
}
