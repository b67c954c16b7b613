package appconfig

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyRecipe copies testdata/recipe into a temp dir named recipe (the recipe's name) and applies
// edits (file -> content; "" deletes the file).
func copyRecipe(t *testing.T, edits map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "notes")
	require.NoError(t, os.CopyFS(dir, os.DirFS("testdata/recipe")))
	for name, content := range edits {
		path := filepath.Join(dir, name)
		if content == "" {
			require.NoError(t, os.Remove(path))
			continue
		}
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	return dir
}

func TestLoadMergesTheRecipeAsAbraDeploysIt(t *testing.T) {
	t.Parallel()
	dir := copyRecipe(t, nil)
	const stack = "note-abc123_ci_example"
	cfg, err := Load(context.Background(), LoadOptions{RecipeDir: dir, Domain: "note-abc123.ci.example", Stack: stack})
	require.NoError(t, err)

	assert.Equal(t, filepath.Join(dir, ".env.sample"), cfg.EnvPath)
	assert.Equal(t, []string{"compose.yml", "compose.db.yml"}, cfg.ComposeFiles, "COMPOSE_FILE chained across lines")
	assert.Equal(t, map[string]string{"APP_CONF_VERSION": "v3", "DB_DUMP_VERSION": "v2"}, cfg.AbraSh)
	assert.Equal(t, "note-abc123.ci.example", cfg.Environment["DOMAIN"], "app new templating replaced notes.example.com")
	assert.Equal(t, stack, cfg.Environment["STACK_NAME"])
	assert.Equal(t, []string{"EXTRA_DOMAINS"}, cfg.Unset)
	assert.Equal(t, []Secret{{Name: "app_key", Version: "v1"}, {Name: "db_password", Version: "v1", Length: 32}}, cfg.Env.Secrets())

	p := cfg.Project
	require.NotNil(t, p)
	assert.ElementsMatch(t, []string{"app", "db"}, p.ServiceNames())
	app := p.Services["app"]
	assert.Equal(t, "Host(`note-abc123.ci.example`)", app.Deploy.Labels["traefik.http.routers."+stack+".rule"])
	assert.Equal(t, "1.0.0+1.4.0", app.Deploy.Labels["coop-cloud."+stack+".version"], "list-form labels with ${STACK_NAME} in the key")
	require.NotNil(t, app.Deploy.RestartPolicy, "the merge key brought the anchor's restart policy")
	assert.Equal(t, "on-failure", app.Deploy.RestartPolicy.Condition)
	assert.Contains(t, app.DependsOn, "db")
	assert.ElementsMatch(t, []string{"app_key", "db_password"}, []string{app.Secrets[0].Source, app.Secrets[1].Source},
		"the second file's secrets merged into the first's")
	assert.Equal(t, stack+"_app_conf_v3", p.Configs["app_conf"].Name, "abra.sh exports interpolate config names")
	assert.Equal(t, "golang", p.Configs["app_conf"].TemplateDriver)
	assert.Equal(t, stack+"_db_dump_v2", p.Configs["db_dump"].Name)
	assert.Equal(t, stack+"_db_password_v1", p.Secrets["db_password"].Name)
	assert.Equal(t, "dump.sql", p.Services["db"].Deploy.Labels["backupbot.backup.volumes.db_data.path"], "map-form labels")
}

func TestLoadReadsTheAppEnvAndAbraShWins(t *testing.T) {
	t.Parallel()
	dir := copyRecipe(t, nil)
	envPath := filepath.Join(t.TempDir(), "app.env")
	require.NoError(t, os.WriteFile(envPath, []byte("TYPE=notes:1.0.0+1.4.0\nDOMAIN=a.example\nAPP_CONF_VERSION=v1\nSTACK_NAME=spoofed\nCOMPOSE_FILE=compose.yml:compose.db.yml\n"+
		"SECRET_APP_KEY_VERSION=v7\nSECRET_DB_PASSWORD_VERSION=v1\n"), 0o600))
	cfg, err := Load(context.Background(), LoadOptions{RecipeDir: dir, EnvFile: envPath, Domain: "ignored.example", Stack: "a_example"})
	require.NoError(t, err)
	assert.Equal(t, envPath, cfg.EnvPath)
	assert.Equal(t, []string{"compose.yml", "compose.db.yml"}, cfg.ComposeFiles)
	assert.Equal(t, "v3", cfg.Environment["APP_CONF_VERSION"], "abra.sh exports override the .env")
	assert.Equal(t, "a_example", cfg.Environment["STACK_NAME"], "STACK_NAME is abra's, never the .env's")
	assert.Equal(t, "a.example", cfg.Environment["DOMAIN"])
	assert.Equal(t, "a_example_app_key_v7", cfg.Project.Secrets["app_key"].Name)
}

func TestLoadErrorsNameTheFileAndTheProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edits   map[string]string
		wantErr []string
	}{
		{
			name:    "a compose file COMPOSE_FILE names is missing",
			edits:   map[string]string{"compose.db.yml": ""},
			wantErr: []string{"compose.db.yml is missing (named by COMPOSE_FILE in .env.sample)"},
		},
		{
			name:    "a YAML syntax error in the second file",
			edits:   map[string]string{"compose.db.yml": "services:\n  db:\n    image: [unclosed\n"},
			wantErr: []string{"compose.db.yml does not parse as YAML: yaml: line "},
		},
		{
			name:    "a schema error in the first file",
			edits:   map[string]string{"compose.yml": "services:\n  app:\n    image: x\n    deploy:\n      replicas: lots\n"},
			wantErr: []string{"compose.yml does not load", "replicas"},
		},
		{
			name:    "a service using an undeclared secret",
			edits:   map[string]string{"compose.db.yml": "services:\n  db:\n    image: x\n    secrets: [nope]\n"},
			wantErr: []string{"compose.yml + compose.db.yml (merged) does not load", "undefined secret nope"},
		},
		{
			name:    "a required variable the env does not set",
			edits:   map[string]string{"compose.db.yml": "services:\n  db:\n    image: ${DB_IMAGE:?set DB_IMAGE in .env.sample}\n"},
			wantErr: []string{"compose.db.yml does not load", "DB_IMAGE"},
		},
		{
			name:    "a missing compose.yml when COMPOSE_FILE is unset",
			edits:   map[string]string{".env.sample": "DOMAIN=x\n", "compose.yml": ""},
			wantErr: []string{"compose.yml is missing: abra deploys compose.yml when .env.sample sets no COMPOSE_FILE"},
		},
		{
			name:    "an unparsable .env.sample names the line",
			edits:   map[string]string{".env.sample": "DOMAIN=x\nCOMPOSE_FILE=\"open\n"},
			wantErr: []string{".env.sample line 2"},
		},
		{
			name:    "a missing .env.sample",
			edits:   map[string]string{".env.sample": ""},
			wantErr: []string{"read .env.sample"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := copyRecipe(t, tt.edits)
			_, err := Load(context.Background(), LoadOptions{RecipeDir: dir, Stack: "s"})
			require.Error(t, err)
			for _, w := range tt.wantErr {
				assert.Contains(t, err.Error(), w)
			}
			if strings.Contains(err.Error(), "does not load") {
				assert.NotContains(t, err.Error(), dir+"/", "compose paths are relative to the recipe")
			}
		})
	}
}

func TestLoadComposeErrorsAreTyped(t *testing.T) {
	t.Parallel()
	dir := copyRecipe(t, map[string]string{"compose.db.yml": "services: [\n"})
	_, err := Load(context.Background(), LoadOptions{RecipeDir: dir, Stack: "s"})
	var ce *ComposeError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "compose.db.yml", ce.File)
	assert.True(t, ce.Syntax)
	assert.False(t, ce.Missing)
}

func TestLoadNeedsRecipeDirAndStack(t *testing.T) {
	t.Parallel()
	_, err := Load(context.Background(), LoadOptions{RecipeDir: "x"})
	assert.ErrorContains(t, err, "required")
}

func TestTemplateEnvSample(t *testing.T) {
	t.Parallel()
	got := TemplateEnvSample("TYPE=notes\nDOMAIN=notes.example.com\nEXTRA='www.notes.example.com'\nOTHER=other.example.com\n", "notes", "n-1.ci.example")
	assert.Equal(t, "TYPE=notes\nDOMAIN=n-1.ci.example\nEXTRA='www.n-1.ci.example'\nOTHER=other.example.com\n", got)
}

func TestComposeSecretsAreTheComposeFilesSecretsWithTheirEnvModifiers(t *testing.T) {
	t.Parallel()
	dir := copyRecipe(t, nil)
	cfg, err := Load(context.Background(), LoadOptions{RecipeDir: dir, Stack: "st"})
	require.NoError(t, err)
	got, err := cfg.ComposeSecrets(context.Background(), dir)
	require.NoError(t, err)
	assert.Equal(t, []ComposeSecret{
		{ID: "app_key", Name: "st_app_key_v1", Version: "v1"},
		{ID: "db_password", Name: "st_db_password_v1", Version: "v1", EnvVar: "SECRET_DB_PASSWORD_VERSION", Length: 32},
	}, got)
}
