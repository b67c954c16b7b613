package rundir

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadEnvFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		content   string
		want      map[string]string
		wantOrder []string
		wantErr   string
	}{
		{
			name:      "values as abra reads them, keys in first-seen order, a later assignment wins",
			content:   "## Gitea\nTYPE=gitea\n\n#SMTP_HOST=mail\nCOMPOSE_FILE=compose.yml\nCOMPOSE_FILE=\"$COMPOSE_FILE:compose.pg.yml\" # files\nTYPE=gitea:1.0.0\n",
			want:      map[string]string{"TYPE": "gitea:1.0.0", "COMPOSE_FILE": "compose.yml:compose.pg.yml"},
			wantOrder: []string{"TYPE", "COMPOSE_FILE"},
		},
		{name: "a line without = is an error naming the file and line", content: "A=1\nnonsense\n", wantErr: "app.env line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "app.env")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			got, order, err := ReadEnvFile(path)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantOrder, order)
		})
	}
}

func TestSetEnvValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		key     string
		value   string
		want    string
	}{
		{
			name:    "an existing value is replaced in place, keeping comments and order",
			content: "## top\nTYPE=gitea\n#DOMAIN=old\nDOMAIN=a.example\nX=1\n",
			key:     "DOMAIN", value: "b.example",
			want: "## top\nTYPE=gitea\n#DOMAIN=old\nDOMAIN=b.example\nX=1\n",
		},
		{
			name:    "an inline comment such as abra's secret length survives",
			content: "SECRET_DB_VERSION=v1 # length=32\n",
			key:     "SECRET_DB_VERSION", value: "v2",
			want: "SECRET_DB_VERSION=v2 # length=32\n",
		},
		{
			name:    "a missing key is appended, adding the missing final newline",
			content: "A=1",
			key:     "B", value: "2",
			want: "A=1\nB=2\n",
		},
		{
			name:    "a value with spaces and quotes is double-quoted",
			content: "export A=1\n",
			key:     "A", value: `say "hi" # not a comment`,
			want: "export A=\"say \\\"hi\\\" # not a comment\"\n",
		},
		{
			name:    "every assignment of a repeated key is rewritten so readers agree",
			content: "A=1\nB=2\nA=3\n",
			key:     "A", value: "9",
			want: "A=9\nB=2\nA=9\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "app.env")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o640))
			require.NoError(t, SetEnvValue(path, tt.key, tt.value))
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
			values, _, err := ReadEnvFile(path)
			require.NoError(t, err)
			assert.Equal(t, tt.value, values[tt.key], "the value reads back unchanged")
		})
	}
}

func TestSetEnvValueRefusesBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "app.env")
	require.NoError(t, os.WriteFile(path, []byte("A=1\n"), 0o600))

	assert.ErrorContains(t, SetEnvValue(path, "BAD KEY", "x"), "invalid key")
	assert.ErrorContains(t, SetEnvValue(path, "A", "two\nlines"), "newline")
	assert.Error(t, SetEnvValue(filepath.Join(dir, "typo.env"), "A", "x"), "a missing .env is not created")
	assert.NoFileExists(t, filepath.Join(dir, "typo.env"))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "A=1\n", string(got), "refused writes leave the file alone")
}

func TestSetEnvValueKeepsASymlinkedFileLinked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	real := filepath.Join(dir, "real.env")
	link := filepath.Join(dir, "link.env")
	require.NoError(t, os.WriteFile(real, []byte("A=1\n"), 0o600))
	require.NoError(t, os.Symlink(real, link))

	require.NoError(t, SetEnvValue(link, "A", "2"))

	fi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&os.ModeSymlink, "the link is not replaced by a copy")
	got, err := os.ReadFile(real)
	require.NoError(t, err)
	assert.Equal(t, "A=2\n", string(got))
}
