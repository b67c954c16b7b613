package abra

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppNewMasksTheSecretsItGenerated(t *testing.T) {
	f := newFakeAbra(t)
	out := &syncBuffer{}
	c := f.client("secrets", out)
	domain := "app.ci.example"
	require.NoError(t, os.MkdirAll(filepath.Join(f.abraDir, "servers", "default"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(f.abraDir, "servers", "default", domain+".env"),
		[]byte("TYPE=x\nSECRET_DB_PASSWORD_VERSION=v1\nSECRET_API_KEY_VERSION=v2 # length=32\n"), 0o644))

	require.NoError(t, c.AppNew(t.Context(), "x", "", "default", domain))

	logged := out.String()
	assert.NotContains(t, logged, "Gen3rat3dDbPassw0rdValue", "a generated secret must never reach the log")
	assert.NotContains(t, logged, "ApiKeyGeneratedByAbra99")
	assert.Contains(t, logged, "db_password", "the table itself is still shown")
	assert.Contains(t, logged, Redacted)
	assert.Contains(t, logged, "tiny", "values shorter than 8 chars are not secrets by the masking rule")
	assert.Equal(t, Redacted, c.Masker.Mask("ApiKeyGeneratedByAbra99"), "later output is masked too")
	assert.Equal(t, 1, c.Calls()[CmdAppNew])
}

func TestRegisterSecretValuesIgnoresLinesWithoutASecretName(t *testing.T) {
	m := NewMasker()
	registerSecretValues(m, "deploying gite-abc123 with image codeberg/gitea:1.21.0\napi_key abcdefghijkl\n", []string{"api_key"})
	assert.Equal(t, "deploying gite-abc123 with image codeberg/gitea:1.21.0", m.Mask("deploying gite-abc123 with image codeberg/gitea:1.21.0"))
	assert.Equal(t, Redacted, m.Mask("abcdefghijkl"))
}
