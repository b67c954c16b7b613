package overlay

import (
	"os"
	"path/filepath"
	"testing"

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
