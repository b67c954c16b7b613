package testkit

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// notesDoc is the part of the notes compose files the tests look at; labels and environment are
// read raw, since the recipe uses both the list and the map form.
type notesDoc struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		Entrypoint  string         `yaml:"entrypoint"`
		Command     []string       `yaml:"command"`
		Environment map[string]any `yaml:"environment"`
		DependsOn   []string       `yaml:"depends_on"`
		Secrets     []string       `yaml:"secrets"`
		Volumes     []string       `yaml:"volumes"`
		Configs     []struct {
			Source string `yaml:"source"`
			Target string `yaml:"target"`
		} `yaml:"configs"`
		Deploy struct {
			EndpointMode string `yaml:"endpoint_mode"`
			Labels       any    `yaml:"labels"`
		} `yaml:"deploy"`
	} `yaml:"services"`
	Configs map[string]struct {
		Name           string `yaml:"name"`
		File           string `yaml:"file"`
		TemplateDriver string `yaml:"template_driver"`
	} `yaml:"configs"`
	Secrets map[string]struct {
		Name string `yaml:"name"`
	} `yaml:"secrets"`
}

func notesFile(t *testing.T, dir, rev, path string) notesDoc {
	t.Helper()
	text, ok := showFile(t, dir, rev, path)
	require.True(t, ok, "%s:%s", rev, path)
	var doc notesDoc
	require.NoError(t, yaml.Unmarshal([]byte(text), &doc), "%s:%s", rev, path)
	return doc
}

func TestMakeNotesRecipeIsWrittenLikeAMaintainedRecipe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r, err := MakeNotesRecipe(dir)
	require.NoError(t, err)
	assert.Equal(t, NotesName, r.Name)
	assert.Equal(t, []string{NotesTag1, NotesTag2}, r.Tags)
	for _, tag := range r.Tags {
		assert.Equal(t, "tag", gitOut(t, dir, "cat-file", "-t", tag), "tag %s must be annotated", tag)
	}
	assert.Empty(t, gitOut(t, dir, "tag", "--points-at", "HEAD"), "the PR head is untagged")
	again, err := MakeNotesRecipe(t.TempDir())
	require.NoError(t, err)
	assert.Equal(t, r.Head, again.Head, "generation is deterministic")

	for rev, want := range map[string][3]string{
		NotesTag1: {"1.4.0", NotesTag1, "v1"}, NotesTag2: {"1.5.0", NotesTag2, "v1"}, "HEAD": {"1.6.0", NotesHeadVersion, "v2"},
	} {
		doc := notesFile(t, dir, rev, "compose.yml")
		app, worker := doc.Services["app"], doc.Services["worker"]
		assert.Equal(t, "ccci-notes:"+want[0], app.Image, rev)
		assert.Equal(t, "ccci-notes:"+want[0], worker.Image, rev)
		assert.Contains(t, app.Deploy.Labels, "coop-cloud.${STACK_NAME}.version="+want[1], "list-form labels on the app (%s)", rev)
		assert.Equal(t, "${DB_HOST:-db}", app.Environment["DB_HOST"], "the anchor is merged into the app (%s)", rev)
		assert.Equal(t, "${DB_HOST:-db}", worker.Environment["DB_HOST"], "and into the worker (%s)", rev)
		assert.Equal(t, "golang", doc.Configs["entrypoint"].TemplateDriver)
		assert.Equal(t, "${STACK_NAME}_entrypoint_${ENTRYPOINT_VERSION}", doc.Configs["entrypoint"].Name)
		abraSh, _ := showFile(t, dir, rev, "abra.sh")
		assert.Contains(t, abraSh, "\nexport ENTRYPOINT_VERSION="+want[2]+"\n", rev)
		assert.Contains(t, abraSh, "\nexport DB_BACKUP_VERSION=v1\n", rev)
		_, hasSMTP := showFile(t, dir, rev, "compose.smtp.yml")
		assert.Equal(t, rev != NotesTag1, hasSMTP, "the optional mail file arrives with the second release (%s)", rev)
	}

	db := notesFile(t, dir, "HEAD", "compose.db.yml")
	assert.Equal(t, notesDBImage, db.Services["db"].Image)
	assert.Equal(t, []string{"db"}, db.Services["app"].DependsOn)
	assert.Equal(t, []string{"db"}, db.Services["worker"].DependsOn)
	assert.Equal(t, "dnsrr", db.Services["db"].Deploy.EndpointMode)
	assert.Equal(t, map[string]any{
		"backupbot.backup":                 "true",
		"backupbot.backup.pre-hook":        "/db_backup.sh backup",
		"backupbot.backup.volumes.db.path": "backup.json",
		"backupbot.restore.post-hook":      "/db_backup.sh restore",
	}, db.Services["db"].Deploy.Labels, "map-form labels with today's per-volume backup spec")
	assert.Equal(t, []string{"db:/var/lib/notes-db"}, db.Services["db"].Volumes)
	assert.Equal(t, "${STACK_NAME}_db_backup_${DB_BACKUP_VERSION}", db.Configs["db_backup"].Name)

	env, _ := showFile(t, dir, "HEAD", ".env.sample")
	assert.Regexp(t, `(?m)^COMPOSE_FILE="compose\.yml"\n`, env)
	assert.Regexp(t, `(?m)^COMPOSE_FILE="\$COMPOSE_FILE:compose\.db\.yml"$`, env, "one optional file is on through the chain")
	assert.Regexp(t, `(?m)^#COMPOSE_FILE="\$COMPOSE_FILE:compose\.smtp\.yml"$`, env, "another is off")
	assert.Regexp(t, `(?m)^DOMAIN=notes\.example\.com$`, env)
	assert.Contains(t, env, "SECRET_DB_PASSWORD_VERSION=v1 # length=32\n")
	assert.Contains(t, env, "SECRET_SECRET_KEY_VERSION=v1 # length=64\n")

	tmpl, _ := showFile(t, dir, "HEAD", "entrypoint.sh.tmpl")
	assert.Contains(t, tmpl, `'{{ secret "db_password" }}'`)
	assert.Contains(t, tmpl, `'https://{{ env "DOMAIN" }}'`)
	assert.Contains(t, tmpl, "exec \"$@\"\n")
	base, _ := showFile(t, dir, NotesTag2, "entrypoint.sh.tmpl")
	assert.NotContains(t, base, "APP_BASE_URL", "the head changed the entrypoint, hence ENTRYPOINT_VERSION=v2")

	assert.Equal(t, "release/"+NotesTag1+"\nrelease/"+NotesTag2+"\nrelease/"+NotesHeadVersion,
		gitOut(t, dir, "ls-tree", "--name-only", "-r", "HEAD", "release/"), "the head carries the note of the release it will become")
	assert.Equal(t, "100755", strings.Fields(gitOut(t, dir, "ls-tree", "HEAD", "db_backup.sh"))[0])
}

func TestNotesComposeFilesUseOnlyVariablesTheRecipeProvides(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := MakeNotesRecipe(dir)
	require.NoError(t, err)
	env, _ := showFile(t, dir, "HEAD", ".env.sample")
	abraSh, _ := showFile(t, dir, "HEAD", "abra.sh")
	provided := map[string]bool{"STACK_NAME": true} // abra sets STACK_NAME at deploy
	for _, m := range regexp.MustCompile(`(?m)^#?(?:export )?([A-Z_][A-Z0-9_]*)=`).FindAllStringSubmatch(env+abraSh, -1) {
		provided[m[1]] = true
	}
	ref := regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)(:?[-?][^}]*)?\}`)
	for _, f := range []string{"compose.yml", "compose.db.yml", "compose.smtp.yml"} {
		text, ok := showFile(t, dir, "HEAD", f)
		require.True(t, ok)
		for _, m := range ref.FindAllStringSubmatch(text, -1) {
			if m[2] != "" {
				continue // has a default
			}
			assert.True(t, provided[m[1]], "%s uses ${%s}, which neither .env.sample nor abra.sh provides", f, m[1])
		}
	}
}
