package enroll

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const goodFile = `# cc-ci enrolment
github:
  - repo: coop-cloud/gitea
    recipe: gitea
  - repo: Coop-Cloud/Mattermost-LTS
    recipe: mattermost-lts
gitea:
  - repo: coop-cloud/traefik
    recipe: traefik
  - repo: coop-cloud/n8n
    recipe: "n8n"
`

func TestParseGoodFile(t *testing.T) {
	t.Parallel()
	e, err := Parse("enrol.yaml", []byte(goodFile))
	require.NoError(t, err)

	lookups := []struct {
		name       string
		forge      string
		repo       string
		wantRecipe string
		wantOK     bool
	}{
		{name: "an enrolled GitHub repo has its recipe", forge: "github", repo: "coop-cloud/gitea", wantRecipe: "gitea", wantOK: true},
		{name: "a repo is found whatever the case of its name", forge: "github", repo: "coop-cloud/mattermost-lts", wantRecipe: "mattermost-lts", wantOK: true},
		{name: "an enrolled Gitea repo has its recipe", forge: "gitea", repo: "coop-cloud/traefik", wantRecipe: "traefik", wantOK: true},
		{name: "a repo enrolled on one forge is not enrolled on the other", forge: "gitea", repo: "coop-cloud/gitea"},
		{name: "an unknown repo is not enrolled", forge: "github", repo: "coop-cloud/unknown"},
		{name: "an unknown forge has no repos", forge: "gitlab", repo: "coop-cloud/gitea"},
		{name: "a repo name with a trailing space is another repo", forge: "github", repo: "coop-cloud/gitea "},
	}
	for _, tc := range lookups {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			recipe, ok := e.Lookup(tc.forge, tc.repo)
			assert.Equal(t, tc.wantOK, ok)
			assert.Equal(t, tc.wantRecipe, recipe)
			assert.Equal(t, tc.wantOK, e.Enrolled(tc.forge, tc.repo))
		})
	}

	t.Run("Repos lists a forge's repos as written, in file order", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, []string{"coop-cloud/gitea", "Coop-Cloud/Mattermost-LTS"}, e.Repos("github"))
		assert.Equal(t, []string{"coop-cloud/traefik", "coop-cloud/n8n"}, e.Repos("gitea"))
		assert.Empty(t, e.Repos("gitlab"))
	})
	t.Run("Repos returns a copy the caller cannot use to change the enrolment", func(t *testing.T) {
		t.Parallel()
		r := e.Repos("github")
		r[0] = "evil/repo"
		assert.Equal(t, "coop-cloud/gitea", e.Repos("github")[0])
	})
}

func TestParseAcceptsForgeWithoutRepos(t *testing.T) {
	t.Parallel()
	e, err := Parse("enrol.yaml", []byte("github:\ngitea: []\n"))
	require.NoError(t, err)
	assert.Empty(t, e.Repos("github"))
	assert.Empty(t, e.Repos("gitea"))
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		data    string
		wantErr []string // substrings the error must hold
	}{
		{name: "an empty file is refused", data: "", wantErr: []string{"enrol.yaml", "empty"}},
		{name: "a file of only comments is refused", data: "# nothing\n", wantErr: []string{"enrol.yaml", "empty"}},
		{name: "a list at the top is refused", data: "- repo: a/b\n", wantErr: []string{"enrol.yaml:1", "map of forge"}},
		{name: "an unknown forge names the key, the file and the nearest forge", data: "githb:\n  - repo: a/b\n    recipe: b\n",
			wantErr: []string{"enrol.yaml:1", `unknown key "githb"`, `did you mean "github"?`}},
		{name: "a forgejo key says Forgejo repos go under gitea", data: "forgejo: []\n", wantErr: []string{`unknown key "forgejo"`, `under "gitea"`}},
		{name: "an unknown entry key names the key, the line and the nearest key", data: "gitea:\n  - repo: a/b\n    recipie: b\n",
			wantErr: []string{"enrol.yaml:3", `unknown key "recipie"`, `did you mean "recipe"?`}},
		{name: "a capitalised key is unknown", data: "github:\n  - Repo: a/b\n    recipe: b\n", wantErr: []string{`unknown key "Repo"`, `"repo"`}},
		{name: "a repeated forge key is refused", data: "github: []\ngithub: []\n", wantErr: []string{"enrol.yaml:2", `"github" repeats the one on line 1`}},
		{name: "a repeated entry key is refused", data: "github:\n  - repo: a/b\n    repo: a/c\n    recipe: b\n", wantErr: []string{"enrol.yaml:3", `"repo" repeats`}},
		{name: "a duplicate repo is refused", data: "github:\n  - repo: a/b\n    recipe: b\n  - repo: a/b\n    recipe: c\n",
			wantErr: []string{"enrol.yaml:4", "a/b is already enrolled on line 2"}},
		{name: "a duplicate repo differing only in case is refused", data: "github:\n  - repo: a/b\n    recipe: b\n  - repo: A/B\n    recipe: c\n",
			wantErr: []string{"already enrolled"}},
		{name: "an entry without recipe is refused", data: "github:\n  - repo: a/b\n", wantErr: []string{"enrol.yaml:2", "without recipe"}},
		{name: "an entry without repo is refused", data: "github:\n  - recipe: b\n", wantErr: []string{"without repo"}},
		{name: "an upper-case recipe is refused", data: "github:\n  - repo: a/b\n    recipe: Gitea\n", wantErr: []string{`recipe "Gitea"`}},
		{name: "a recipe with a slash is refused", data: "github:\n  - repo: a/b\n    recipe: ../etc\n", wantErr: []string{`recipe "../etc"`}},
		{name: "a recipe with an underscore is refused", data: "github:\n  - repo: a/b\n    recipe: my_app\n", wantErr: []string{`recipe "my_app"`}},
		{name: "a recipe that is a YAML boolean is refused", data: "github:\n  - repo: a/b\n    recipe: true\n", wantErr: []string{"recipe must be a string"}},
		{name: "a null recipe is refused", data: "github:\n  - repo: a/b\n    recipe: null\n", wantErr: []string{"recipe must be a string"}},
		{name: "a repo without an owner is refused", data: "github:\n  - repo: gitea\n    recipe: gitea\n", wantErr: []string{`repo "gitea" is not owner/name`}},
		{name: "a repo path with three parts is refused", data: "github:\n  - repo: a/b/c\n    recipe: b\n", wantErr: []string{"not owner/name"}},
		{name: "a repo named .. is refused", data: "github:\n  - repo: a/..\n    recipe: b\n", wantErr: []string{"not owner/name"}},
		{name: "a repo with a newline is refused", data: "github:\n  - repo: \"a/b\\nc\"\n    recipe: b\n", wantErr: []string{"not owner/name"}},
		{name: "a repo with a space is refused", data: "github:\n  - repo: \"a/b \"\n    recipe: b\n", wantErr: []string{"not owner/name"}},
		{name: "a YAML alias is refused", data: "github:\n  - &e\n    repo: a/b\n    recipe: b\n  - *e\n", wantErr: []string{"each entry must be a map"}},
		{name: "a merge key is refused", data: "github:\n  - <<: {repo: a/b}\n    recipe: b\n", wantErr: []string{"keys must be plain strings"}},
		{name: "a forge mapped to a string is refused", data: "github: coop-cloud/gitea\n", wantErr: []string{"expected a list"}},
		{name: "a second YAML document is refused", data: "github: []\n---\ngitea: []\n", wantErr: []string{"more than one YAML document"}},
		{name: "invalid YAML is refused with the file name", data: "github: [\n", wantErr: []string{"enrol.yaml"}},
		{name: "a file over the size cap is refused", data: "#" + strings.Repeat("x", MaxFileSize), wantErr: []string{"larger than"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse("enrol.yaml", []byte(tc.data))
			require.Error(t, err)
			assert.Nil(t, e)
			for _, want := range tc.wantErr {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	t.Run("a file on disk loads and its errors name its path", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		good := filepath.Join(dir, "enrol.yaml")
		require.NoError(t, os.WriteFile(good, []byte(goodFile), 0o600))
		e, err := Load(good)
		require.NoError(t, err)
		assert.True(t, e.Enrolled("github", "coop-cloud/gitea"))

		bad := filepath.Join(dir, "bad.yaml")
		require.NoError(t, os.WriteFile(bad, []byte("gitub: []\n"), 0o600))
		_, err = Load(bad)
		require.Error(t, err)
		assert.Contains(t, err.Error(), bad+":1")
	})
	t.Run("a missing file is an error", func(t *testing.T) {
		t.Parallel()
		_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
}
