package testkit

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// composeDoc is the part of compose.yml the variant tests look at.
type composeDoc struct {
	Services map[string]struct {
		Image       string   `yaml:"image"`
		Command     []string `yaml:"command"`
		Volumes     []string `yaml:"volumes"`
		Secrets     []string `yaml:"secrets"`
		Environment []string `yaml:"environment"`
		Ports       []any    `yaml:"ports"`
		Deploy      struct {
			Labels []string `yaml:"labels"`
		} `yaml:"deploy"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
	Secrets map[string]struct {
		External bool   `yaml:"external"`
		Name     string `yaml:"name"`
	} `yaml:"secrets"`
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

func showFile(t *testing.T, dir, rev, path string) (string, bool) {
	t.Helper()
	out, err := exec.Command("git", "-C", dir, "show", rev+":"+path).Output()
	if err != nil {
		return "", false
	}
	return string(out), true
}

func parseCompose(t *testing.T, text string) composeDoc {
	t.Helper()
	var doc composeDoc
	require.NoError(t, yaml.Unmarshal([]byte(text), &doc))
	return doc
}

func label(doc composeDoc, key string) (string, bool) {
	for _, l := range doc.Services["app"].Deploy.Labels {
		if k, v, _ := strings.Cut(l, "="); k == key {
			return v, true
		}
	}
	return "", false
}

func TestMakeRecipeHasAnnotatedReleasesAndAnUntaggedHead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r, err := MakeRecipe(dir, Good)
	require.NoError(t, err)

	assert.Equal(t, "sample", r.Name)
	assert.Equal(t, dir, r.Src)
	assert.Regexp(t, `^[0-9a-f]{40}$`, r.Head)
	assert.Equal(t, []string{Tag1, Tag2}, r.Tags)
	assert.Equal(t, r.Head, gitOut(t, dir, "rev-parse", "HEAD"))
	for _, tag := range r.Tags {
		assert.Equal(t, "tag", gitOut(t, dir, "cat-file", "-t", tag), "tag %s must be annotated", tag)
	}
	assert.Empty(t, gitOut(t, dir, "tag", "--points-at", "HEAD"), "the PR head must be untagged")
	assert.Equal(t, gitOut(t, dir, "rev-parse", Tag2+"^{commit}"), gitOut(t, dir, "rev-parse", "HEAD~1"))
	assert.Empty(t, gitOut(t, dir, "status", "--porcelain"), "the work tree must be clean")

	for rev, want := range map[string][2]string{
		Tag1: {"ccci-sample:1.0.0", Tag1}, Tag2: {"ccci-sample:2.0.0", Tag2},
		"HEAD": {"ccci-sample:2.1.0", HeadVersion},
	} {
		text, ok := showFile(t, dir, rev, "compose.yml")
		require.True(t, ok, rev)
		doc := parseCompose(t, text)
		assert.Equal(t, want[0], doc.Services["app"].Image, rev)
		v, ok := label(doc, "coop-cloud.${STACK_NAME}.version")
		assert.True(t, ok, rev)
		assert.Equal(t, want[1], v, rev)
		assert.Empty(t, doc.Services["app"].Ports, "a recipe publishes no ports (%s)", rev)
		assert.Equal(t, "${STACK_NAME}_api_key_${SECRET_API_KEY_VERSION}", doc.Secrets["api_key"].Name)
	}
	_, ok := showFile(t, dir, Tag1, "release/"+Tag1)
	assert.True(t, ok, "release note of the first release")
	_, ok = showFile(t, dir, "HEAD", "release/"+Tag2)
	assert.True(t, ok, "release note of the newest release")
	env, ok := showFile(t, dir, "HEAD", ".env.sample")
	require.True(t, ok)
	for _, line := range []string{"TYPE=sample", "DOMAIN=sample.example.com", "LETS_ENCRYPT_ENV=production",
		`COMPOSE_FILE="compose.yml"`, "SECRET_API_KEY_VERSION=v1"} {
		assert.Contains(t, env, line+"\n")
	}
}

func TestMakeRecipeVariantsBreakTheHeadAsDescribed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		variant Variant
		check   func(t *testing.T, dir string, head composeDoc, headText string)
	}{
		{"the good head only upgrades the image", Good, func(t *testing.T, _ string, h composeDoc, _ string) {
			assert.Equal(t, []string{"/app", "serve"}, h.Services["app"].Command)
			assert.Equal(t, []string{"data:/data"}, h.Services["app"].Volumes)
		}},
		{"an upgrade that loses data mounts a new volume", UpgradeLosesData, func(t *testing.T, _ string, h composeDoc, _ string) {
			assert.Equal(t, []string{"data2:/data"}, h.Services["app"].Volumes)
			assert.Contains(t, h.Volumes, "data2")
			assert.NotContains(t, h.Volumes, "data")
		}},
		{"an empty dump truncates the dump in the pre-hook", EmptyDump, func(t *testing.T, _ string, h composeDoc, _ string) {
			v, _ := label(h, "backupbot.backup.pre-hook")
			assert.Equal(t, emptyDumpHook, v)
		}},
		{"a no-op restore has a post-hook that does nothing", RestoreNoop, func(t *testing.T, _ string, h composeDoc, _ string) {
			v, _ := label(h, "backupbot.restore.post-hook")
			assert.Equal(t, "true", v)
		}},
		{"a crash loop runs /app crash", CrashLoop, func(t *testing.T, _ string, h composeDoc, _ string) {
			assert.Equal(t, []string{"/app", "crash"}, h.Services["app"].Command)
		}},
		{"a fallback app sets APP_FALLBACK=1 on every commit", Fallback, func(t *testing.T, dir string, h composeDoc, _ string) {
			assert.Contains(t, h.Services["app"].Environment, "APP_FALLBACK=1")
			for _, tag := range []string{Tag1, Tag2} {
				text, _ := showFile(t, dir, tag, "compose.yml")
				assert.Contains(t, parseCompose(t, text).Services["app"].Environment, "APP_FALLBACK=1", tag)
			}
		}},
		{"a broken compose file is not YAML", BrokenCompose, func(t *testing.T, _ string, _ composeDoc, text string) {
			var doc any
			assert.Error(t, yaml.Unmarshal([]byte(text), &doc))
		}},
		{"a missing .env.sample is deleted at the head", NoEnvSample, func(t *testing.T, dir string, _ composeDoc, _ string) {
			_, ok := showFile(t, dir, "HEAD", ".env.sample")
			assert.False(t, ok)
			_, ok = showFile(t, dir, Tag2, ".env.sample")
			assert.True(t, ok)
		}},
		{"a long secret name is declared in .env.sample and compose", LongSecretName, func(t *testing.T, dir string, h composeDoc, _ string) {
			env, _ := showFile(t, dir, "HEAD", ".env.sample")
			assert.Contains(t, env, "SECRET_"+strings.ToUpper(LongSecret)+"_VERSION=v1\n")
			assert.Contains(t, h.Services["app"].Secrets, LongSecret)
			assert.Greater(t, len("samp-1a2b3c_ci_local_"+LongSecret+"_v1"), 64)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r, err := MakeRecipe(dir, tc.variant)
			require.NoError(t, err)
			text, ok := showFile(t, dir, "HEAD", "compose.yml")
			require.True(t, ok)
			var head composeDoc
			if tc.variant != BrokenCompose {
				head = parseCompose(t, text)
				assert.Equal(t, "ccci-sample:2.1.0", head.Services["app"].Image)
			}
			tc.check(t, dir, head, text)
			if tc.variant != Fallback {
				tag2, _ := showFile(t, dir, Tag2, "compose.yml")
				assert.NotContains(t, tag2, "APP_FALLBACK", "releases stay good")
			}
			good, err := MakeRecipe(t.TempDir(), Good)
			require.NoError(t, err)
			if tc.variant == Good {
				assert.Equal(t, good.Head, r.Head, "generation is deterministic")
			} else {
				assert.NotEqual(t, good.Head, r.Head, "the variant's head differs from the good head")
			}
		})
	}
}

func TestMakeRecipeRefusesAnUnknownVariantAndAnExistingRepo(t *testing.T) {
	t.Parallel()
	_, err := MakeRecipe(t.TempDir(), Variant("nope"))
	assert.ErrorContains(t, err, `unknown variant "nope"`)

	dir := t.TempDir()
	_, err = MakeRecipe(dir, Good)
	require.NoError(t, err)
	_, err = MakeRecipe(dir, Good)
	assert.ErrorContains(t, err, "already a git repo")
}
