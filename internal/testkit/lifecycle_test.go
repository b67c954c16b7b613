package testkit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lifecycle drives the fake abra for one app the way the plugin would.
type lifecycle struct {
	t       *testing.T
	ctx     context.Context
	abra    string // path of the fake abra binary
	abraDir string
	domain  string
	stack   string
	url     string // front door
	calls   int
}

func (l *lifecycle) run(args ...string) string {
	l.t.Helper()
	out, err := l.try(args...)
	require.NoError(l.t, err, "abra %v:\n%s", args, out)
	return out
}

func (l *lifecycle) try(args ...string) (string, error) {
	cmd := exec.CommandContext(l.ctx, l.abra, args...)
	cmd.Env = append(os.Environ(), "ABRA_DIR="+l.abraDir, "CCCI_FAKE_ABRA_LOG=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	l.calls++
	err := cmd.Run()
	return out.String(), err
}

func (l *lifecycle) get(path string) (int, string) {
	l.t.Helper()
	return through(l.t, l.ctx, l.url, http.MethodGet, l.domain, path, "")
}

func (l *lifecycle) put(path, body string) {
	l.t.Helper()
	code, resp := through(l.t, l.ctx, l.url, http.MethodPut, l.domain, path, body)
	require.Equal(l.t, http.StatusOK, code, resp)
}

func (l *lifecycle) label(key string) string {
	l.t.Helper()
	return docker(l.t, "service", "inspect", "--format", `{{index .Spec.Labels "`+key+`"}}`, l.stack+"_app")
}

// newLifecycle builds everything and makes an ABRA_DIR like the plugin's: servers/default and
// recipes/sample, a clone of a freshly generated recipe of variant v.
func newLifecycle(t *testing.T, ctx context.Context, v Variant) (*lifecycle, Recipe) {
	require.NoError(t, BuildImages(ctx))
	abra, err := BuildFakeAbra(ctx, t.TempDir())
	require.NoError(t, err)
	url, err := EnsureFrontDoor(ctx, DefaultFrontDoorPort)
	require.NoError(t, err)
	r, err := MakeRecipe(filepath.Join(t.TempDir(), "src"), v)
	require.NoError(t, err)
	abraDir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(abraDir, "servers", "default"), 0o755))
	out, err := exec.Command("git", "clone", "-q", r.Src, filepath.Join(abraDir, "recipes", "sample")).CombinedOutput()
	require.NoError(t, err, string(out))
	domain := "samp-" + randomHex(t, 6) + ".ci.local"
	l := &lifecycle{t: t, ctx: ctx, abra: abra, abraDir: abraDir, domain: domain,
		stack: strings.ReplaceAll(domain, ".", "_"), url: url}
	t.Cleanup(func() {
		// The test's context is gone by now; teardown gets its own.
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		l.ctx = cctx
		if _, err := os.Stat(filepath.Join(abraDir, "servers", "default", domain+".env")); err == nil {
			if out, err := l.try("app", "remove", domain, "--force", "--no-input"); err != nil {
				t.Logf("cleanup of %s failed: %v\n%s", domain, err, out)
			}
		}
	})
	return l, r
}

func TestFakeAbraLifecycleOnRealSwarm(t *testing.T) {
	requireSwarm(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	l, r := newLifecycle(t, ctx, Good)

	out := l.run("app", "new", "sample", Tag2, "--server", "default", "--domain", l.domain, "--secrets", "--no-input")
	assert.Regexp(t, `(?m)^api_key\s+[a-z]+(-[a-z]+){3}$`, out,
		"secrets are printed as a table; without `# length=` abra generates a passphrase")
	assert.Equal(t, l.stack+"_api_key_v1", docker(t, "secret", "inspect", "--format", "{{.Spec.Name}}", l.stack+"_api_key_v1"))

	l.run("app", "deploy", l.domain, Tag2, "--no-input")
	assert.Equal(t, Tag2, l.label("coop-cloud."+l.stack+".version"))
	assert.Equal(t, "true", l.label("traefik.enable"), "the label override merges with the recipe's labels")
	code, page := l.get("/")
	require.Equal(t, http.StatusOK, code, page)
	assert.Contains(t, page, "<h1>cc-ci sample app</h1>")
	assert.Contains(t, page, "2.0.0")
	assert.Contains(t, page, l.domain)

	l.put("/kv/x", "1")
	out = l.run("app", "backup", "create", l.domain, "--no-input")
	m := regexp.MustCompile(`(?m)^snapshot ([0-9a-f]{8,64}) saved$`).FindStringSubmatch(out)
	require.NotNil(t, m, "the backup names its snapshot as restic does:\n%s", out)
	snapshot := m[1]
	l.put("/kv/x", "2")
	// Overwrite the dump inside the container too: only a restore that replaces the file with
	// the backup's version can bring x=1 back now.
	ctr := docker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+l.stack+"_app")
	docker(t, "exec", ctr, "/app", "dump", "/data/dump/dump.json")
	l.run("app", "restore", l.domain, "--snapshot", snapshot, "--no-input")
	code, v := l.get("/kv/x")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "1", v, "the restore brings the backed-up value back")

	l.checkChaosUpgrade(r)
	l.checkRemoveLeavesNothing()
	l.checkCallLog()
}

// checkChaosUpgrade deploys the PR head with --chaos, as the plugin's upgrade tier does.
func (l *lifecycle) checkChaosUpgrade(r Recipe) {
	t := l.t
	recipe := filepath.Join(l.abraDir, "recipes", "sample")
	out, err := exec.Command("git", "-C", recipe, "checkout", "-q", r.Head).CombinedOutput()
	require.NoError(t, err, string(out))
	l.run("app", "deploy", l.domain, "--chaos", "--no-input")
	assert.Equal(t, "true", l.label("coop-cloud."+l.stack+".chaos"))
	assert.Equal(t, r.Head[:8], l.label("coop-cloud."+l.stack+".chaos-version"))
	assert.Equal(t, Tag2, l.label("coop-cloud."+l.stack+".version"), "the newest release")
	code, page := l.get("/")
	require.Equal(t, http.StatusOK, code, page)
	assert.Contains(t, page, "2.1.0", "the head's image runs")
	_, v := l.get("/kv/x")
	assert.Equal(t, "1", v, "data survives the upgrade")
}

func (l *lifecycle) checkRemoveLeavesNothing() {
	t := l.t
	l.run("app", "remove", l.domain, "--force", "--no-input")
	ns := "label=com.docker.stack.namespace=" + l.stack
	assert.Empty(t, docker(t, "service", "ls", "-q", "--filter", ns))
	assert.Empty(t, docker(t, "ps", "-aq", "--filter", ns))
	assert.Empty(t, docker(t, "volume", "ls", "-q", "--filter", ns))
	assert.Empty(t, docker(t, "network", "ls", "-q", "--filter", ns))
	assert.Empty(t, docker(t, "secret", "ls", "-q", "--filter", "name="+l.stack))
	assert.NoFileExists(t, filepath.Join(l.abraDir, "servers", "default", l.domain+".env"))
}

func (l *lifecycle) checkCallLog() {
	t := l.t
	fh, err := os.Open(filepath.Join(l.abraDir, "fake-abra-calls.jsonl"))
	require.NoError(t, err)
	defer fh.Close()
	var lines, news int
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var rec struct {
			Argv    []string `json:"argv"`
			AbraDir string   `json:"abra_dir"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
		assert.Equal(t, l.abraDir, rec.AbraDir)
		if len(rec.Argv) > 1 && rec.Argv[0] == "app" && rec.Argv[1] == "new" {
			news++
		}
		lines++
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, l.calls, lines, "one line per call")
	assert.Equal(t, 1, news)
}

func TestFakeAbraFailsAChaosUpgradeThatCrashLoopsAtOnce(t *testing.T) {
	requireSwarm(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	l, r := newLifecycle(t, ctx, CrashLoop)
	l.run("app", "new", "sample", "--server", "default", "--domain", l.domain, "--secrets", "--no-input")

	out, err := l.try("app", "deploy", l.domain, "9.9.9+9.9.9", "--no-input")
	require.Error(t, err, "an unknown version is refused")
	assert.Contains(t, out, "version 9.9.9+9.9.9 of recipe sample not found")

	l.run("app", "deploy", l.domain, "--no-input")
	assert.Equal(t, Tag2, l.label("coop-cloud."+l.stack+".version"), "no version deploys the newest release")

	recipe := filepath.Join(l.abraDir, "recipes", "sample")
	gitOut(t, recipe, "checkout", "-q", r.Head)
	out, err = l.try("app", "deploy", l.domain, "--chaos", "--no-input")
	require.Error(t, err, "a crash-looping upgrade must fail:\n%s", out)
	// Failing fast means the failure was detected (rollback or counted failed tasks), not waited
	// out: the message tells the two apart, whatever the engine's load makes the clock say.
	assert.Regexp(t, `update failed: (rollback|paused)|crash-looping`, out)
	assert.NotContains(t, out, "gave up after", "a crash loop is detected, not waited out")
}
