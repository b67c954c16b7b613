package overlay

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{"an empty file is an empty overlay", "", ""},
		{"a declared skip with a reason and an SSO host load", "expected_na:\n  - tier: backup\n    reason: stateless\n  - tier: restore\n    reason: stateless\nredirect_hosts: [sso.example.org]\n", ""},
		{"a misspelt top-level key names the nearest valid key", "expected_nA: []\n", `unknown key "expected_nA": did you mean "expected_na"?`},
		{"a misspelt nested key names the nearest valid key", "expected_na:\n  - tier: backup\n    raeson: x\n", `unknown expected_na key "raeson": did you mean "reason"?`},
		{"a skip without a reason is refused", "expected_na:\n  - tier: backup\n", "a reason is required"},
		{"install can never be declared away", "expected_na:\n  - tier: install\n    reason: x\n", `tier "install" cannot be declared`},
		{"a redirect host with a scheme is refused", "redirect_hosts: [\"https://sso.example.org\"]\n", "is not a host name"},
		{"a document that is not a mapping is refused", "- a\n- b\n", "must be a mapping"},
		{"broken YAML is refused", "expected_na: [\n", "does not parse as YAML"},
		{"a tier listed twice is refused", "expected_na:\n  - {tier: backup, reason: a}\n  - {tier: backup, reason: b}\n", "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestLoad(t *testing.T) {
	root := t.TempDir()
	o, err := Load(root, "none")
	require.NoError(t, err)
	assert.Equal(t, Overlay{}, o, "no overlay directory: the generic ladder")

	dir := filepath.Join(root, "app")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, FileName), []byte("expected_na:\n  - tier: backup\n    reason: no state\nredirect_hosts: [SSO.example.org]\n"), 0o644))
	o, err = Load(root, "app")
	require.NoError(t, err)
	assert.Equal(t, "no state", o.NotApplicable("backup"))
	assert.Equal(t, "", o.NotApplicable("upgrade"))
	assert.True(t, o.RedirectAllowed("sso.example.org"))
	assert.False(t, o.RedirectAllowed("app.example.com"))

	require.NoError(t, os.WriteFile(filepath.Join(dir, FileName), []byte("redirect_host: []\n"), 0o644))
	_, err = Load(root, "app")
	assert.ErrorContains(t, err, filepath.Join(dir, FileName), "the error names the file")
	assert.ErrorContains(t, err, `did you mean "redirect_hosts"`)
}

func TestParseTheFullSchema(t *testing.T) {
	cfg, err := Parse([]byte(`
app_env: {ADMIN_EMAIL: ci@example.org}
timeouts: {deploy: 15m, http: 5m}
health: {path: /login, statuses: [401]}
readiness: {path: /api/ready, text: ok}
http_checks:
  - {name: api answers, method: POST, path: /kv/x, body: hi, statuses: [200, 201], text: ok}
browser_checks:
  - name: save a note
    timeout: 90s
    steps:
      - visit: /notes
      - fill: {selector: "#note", text: hello}
      - click: "#save"
      - wait_text: {selector: "#saved", text: hello}
      - screenshot: saved.png
`))
	require.NoError(t, err)
	assert.Equal(t, "ci@example.org", cfg.AppEnv["ADMIN_EMAIL"])
	assert.Equal(t, 15*time.Minute, cfg.Timeouts.Deploy.D())
	assert.Equal(t, []int{401}, cfg.Health.Statuses)
	assert.Equal(t, "ok", cfg.Readiness.Text)
	require.Len(t, cfg.BrowserChecks, 1)
	assert.Equal(t, []Step{{Action: "visit", Path: "/notes"}, {Action: "fill", Selector: "#note", Text: "hello"},
		{Action: "click", Selector: "#save"}, {Action: "wait_text", Selector: "#saved", Text: "hello"},
		{Action: "screenshot", File: "saved.png"}}, cfg.BrowserChecks[0].Steps)
	assert.Equal(t, 90*time.Second, cfg.BrowserChecks[0].Timeout.D())
}

func TestParseRefusesWhatWouldMisleadARun(t *testing.T) {
	tests := []struct{ name, yaml, wantErr string }{
		{"a misspelt browser action names the nearest", "browser_checks:\n  - name: a\n    steps:\n      - visit: /\n      - clik: \"#b\"\n", `unknown steps key "clik": did you mean "click"?`},
		{"a misspelt key inside a step names the nearest", "browser_checks:\n  - name: a\n    steps:\n      - visit: /\n      - fill: {selectr: x}\n", `unknown fill key "selectr": did you mean "selector"?`},
		{"a misspelt timeout key names the nearest", "timeouts: {deplyo: 1m}\n", `did you mean "deploy"?`},
		{"a bad duration is named", "timeouts: {deploy: soon}\n", "not a positive duration"},
		{"a browser check must start with a visit", "browser_checks:\n  - name: a\n    steps:\n      - click: x\n", "first step must be a visit"},
		{"a screenshot may not name a path", "browser_checks:\n  - name: a\n    steps:\n      - visit: /\n      - screenshot: ../x.png\n", "plain file name"},
		{"a visit may not leave the app", "browser_checks:\n  - name: a\n    steps:\n      - visit: //evil.example/\n", "never another host"},
		{"wait_text needs its text", "browser_checks:\n  - name: a\n    steps:\n      - visit: /\n      - wait_text: {selector: p}\n", "needs the text"},
		{"an http check needs a name", "http_checks:\n  - {path: /}\n", "a name is required"},
		{"check names are unique", "http_checks:\n  - {name: a, path: /}\n  - {name: a, path: /x}\n", "used twice"},
		{"a status must be HTTP's", "http_checks:\n  - {name: a, path: /, statuses: [42]}\n", "not an HTTP status"},
		{"the Host header is the app's", "http_checks:\n  - {name: a, path: /, headers: {Host: evil}}\n", "always sent with the app's domain"},
		{"app_env cannot move the app", "app_env: {DOMAIN: evil.example}\n", "cannot be overridden"},
		{"a test must stay in the overlay", "tests:\n  - {name: a, run: ../../bin/sh}\n", "inside the overlay directory"},
		{"functional cannot be declared away", "expected_na:\n  - {tier: functional, reason: x}\n", "cannot be declared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestResolvePrecedence(t *testing.T) {
	root, checkout := t.TempDir(), t.TempDir()
	write := func(path, content string, mode os.FileMode) {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), mode))
	}
	write(filepath.Join(root, "app", FileName), "redirect_hosts: [local.example.org]\n", 0o644)
	write(filepath.Join(checkout, RepoDirName, FileName), "redirect_hosts: [repo.example.org]\n", 0o644)

	o, err := Resolve(Options{Root: root, Recipe: "app", Checkout: checkout, CopyTo: filepath.Join(t.TempDir(), "copy")})
	require.NoError(t, err)
	assert.Equal(t, SourceLocal, o.Source, "a recipe not on the allow-list never gets its repo overlay")
	assert.True(t, o.RedirectAllowed("local.example.org"))
	require.Len(t, o.Notes, 1)
	assert.Contains(t, o.Notes[0], "is ignored: app is not on the allow-list")

	write(filepath.Join(root, AllowFile), "recipes: [app]\n", 0o644)
	copyTo := filepath.Join(t.TempDir(), "copy")
	o, err = Resolve(Options{Root: root, Recipe: "app", Checkout: checkout, CopyTo: copyTo})
	require.NoError(t, err)
	assert.Equal(t, SourceRepo, o.Source)
	assert.Equal(t, copyTo, o.Dir, "the run uses a copy, not the checkout that moves between refs")
	assert.True(t, o.RedirectAllowed("repo.example.org"))
	assert.False(t, o.RedirectAllowed("local.example.org"), "overlays do not merge")
	assert.Contains(t, o.Notes[0], "takes precedence")

	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(checkout, RepoDirName, "evil")))
	_, err = Resolve(Options{Root: root, Recipe: "app", Checkout: checkout, CopyTo: filepath.Join(t.TempDir(), "copy")})
	assert.ErrorContains(t, err, "only regular files", "a repo overlay cannot smuggle in a symlink")

	o, err = Resolve(Options{Root: root, Recipe: "other", Checkout: t.TempDir()})
	require.NoError(t, err)
	assert.Equal(t, "", o.Dir, "no overlay anywhere: the generic ladder")

	write(filepath.Join(root, AllowFile), "recipe: [app]\n", 0o644)
	_, err = Resolve(Options{Root: root, Recipe: "app", Checkout: checkout})
	assert.ErrorContains(t, err, "does not parse", "a broken allow-list is an error, never allow-all")
}

func TestLoadChecksTheFilesItNames(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "app")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "tests"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, FileName), []byte("tests:\n  - {name: smoke, run: tests/smoke.sh}\n"), 0o644))
	_, err := Load(root, "app")
	assert.ErrorContains(t, err, "tests/smoke.sh", "a test that is not there is bad input at load time")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "tests", "smoke.sh"), []byte("#!/bin/sh\n"), 0o644))
	_, err = Load(root, "app")
	assert.ErrorContains(t, err, "chmod +x")

	require.NoError(t, os.Chmod(filepath.Join(dir, "tests", "smoke.sh"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, InstallSteps), []byte("#!/bin/sh\n"), 0o644))
	_, err = Load(root, "app")
	assert.ErrorContains(t, err, InstallSteps)

	require.NoError(t, os.Chmod(filepath.Join(dir, InstallSteps), 0o755))
	o, err := Load(root, "app")
	require.NoError(t, err)
	assert.True(t, o.HasInstallSteps())
	assert.Contains(t, o.Summary(), "1 tests")
}
