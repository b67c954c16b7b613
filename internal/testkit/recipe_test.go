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

// everyRev is the two releases and the head of a sample recipe with the usual history.
var everyRev = []string{Tag1, Tag2, "HEAD"}

func appEnv(t *testing.T, dir, rev string) []string {
	t.Helper()
	text, ok := showFile(t, dir, rev, "compose.yml")
	require.True(t, ok, rev)
	return parseCompose(t, text).Services["app"].Environment
}

func TestMakeRecipeCaseVariantsAreWhatTheirCommentsSay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		variant Variant
		check   func(t *testing.T, dir string, r Recipe)
	}{
		{"no backup labels on any commit", NoBackupLabels, func(t *testing.T, dir string, _ Recipe) {
			for _, rev := range everyRev {
				text, _ := showFile(t, dir, rev, "compose.yml")
				assert.NotContains(t, text, "backupbot", rev)
			}
		}},
		{"no release: no tag and no release note", NoRelease, func(t *testing.T, dir string, r Recipe) {
			assert.Empty(t, r.Tags)
			assert.Empty(t, gitOut(t, dir, "tag"))
			assert.Empty(t, gitOut(t, dir, "ls-tree", "--name-only", "HEAD", "release/"))
			assert.Equal(t, "3", gitOut(t, dir, "rev-list", "--count", "HEAD"))
		}},
		{"a placeholder base URL on the head only", PlaceholderRedirect, func(t *testing.T, dir string, _ Recipe) {
			assert.Contains(t, appEnv(t, dir, "HEAD"), "APP_BASE_URL=https://sample.example.com")
			assert.NotContains(t, appEnv(t, dir, Tag2), "APP_BASE_URL=https://sample.example.com")
		}},
		{"an SSO login URL on every commit", SSORedirect, func(t *testing.T, dir string, _ Recipe) {
			for _, rev := range everyRev {
				assert.Contains(t, appEnv(t, dir, rev), "APP_LOGIN_URL=https://sso.example.org/login", rev)
			}
		}},
		{"the head migrates before serving", FreshInstallBroken, func(t *testing.T, dir string, _ Recipe) {
			text, _ := showFile(t, dir, "HEAD", "compose.yml")
			assert.Equal(t, []string{"/bin/sh", "-c", "/app migrate && exec /app serve"}, parseCompose(t, text).Services["app"].Command)
		}},
		{"the newest release crash-loops and the head serves", FixedHeadBrokenBase, func(t *testing.T, dir string, _ Recipe) {
			for rev, want := range map[string]string{Tag1: "serve", Tag2: "crash", "HEAD": "serve"} {
				text, _ := showFile(t, dir, rev, "compose.yml")
				assert.Equal(t, []string{"/app", want}, parseCompose(t, text).Services["app"].Command, rev)
			}
		}},
		{"the head's .env.sample has no DOMAIN", NoDomain, func(t *testing.T, dir string, _ Recipe) {
			env, _ := showFile(t, dir, "HEAD", ".env.sample")
			assert.NotRegexp(t, `(?m)^DOMAIN=`, env)
			env, _ = showFile(t, dir, Tag2, ".env.sample")
			assert.Regexp(t, `(?m)^DOMAIN=sample\.example\.com$`, env)
		}},
		{"today's per-volume backup label on every commit", VolumeSpecLabels, func(t *testing.T, dir string, _ Recipe) {
			for _, rev := range everyRev {
				text, _ := showFile(t, dir, rev, "compose.yml")
				doc := parseCompose(t, text)
				v, ok := label(doc, "backupbot.backup.volumes.data.path")
				assert.True(t, ok, rev)
				assert.Equal(t, "dump", v, rev)
				_, ok = label(doc, "backupbot.backup.path")
				assert.False(t, ok, "no legacy label (%s)", rev)
			}
		}},
		{"the head adds a secret with a length and a required env key", NewSecretAndEnv, func(t *testing.T, dir string, _ Recipe) {
			env, _ := showFile(t, dir, "HEAD", ".env.sample")
			assert.Contains(t, env, "SECRET_ADMIN_TOKEN_VERSION=v1 # length=48\n")
			assert.Contains(t, env, "\nADMIN_EMAIL=admin@sample.example.com\n")
			text, _ := showFile(t, dir, "HEAD", "compose.yml")
			doc := parseCompose(t, text)
			assert.Contains(t, doc.Services["app"].Secrets, NewSecret)
			assert.Equal(t, "${STACK_NAME}_admin_token_${SECRET_ADMIN_TOKEN_VERSION}", doc.Secrets[NewSecret].Name)
			assert.Contains(t, doc.Services["app"].Environment, "ADMIN_EMAIL=${ADMIN_EMAIL:?set ADMIN_EMAIL in the app's .env}")
			base, _ := showFile(t, dir, Tag2, ".env.sample")
			assert.NotContains(t, base, "ADMIN")
		}},
		{"the app fails its first start on every commit", BootRestart, func(t *testing.T, dir string, _ Recipe) {
			for _, rev := range everyRev {
				assert.Contains(t, appEnv(t, dir, rev), "APP_FAIL_ONCE=1", rev)
			}
		}},
		{"the head dumps the wrong store", EmptyValidDump, func(t *testing.T, dir string, _ Recipe) {
			text, _ := showFile(t, dir, "HEAD", "compose.yml")
			v, _ := label(parseCompose(t, text), "backupbot.backup.pre-hook")
			assert.Equal(t, "DATA_DIR=/data/v2 /app dump /data/dump/dump.json", v)
		}},
		{"a newer release on a side branch is not an ancestor of the head", SideBranchRelease, func(t *testing.T, dir string, r Recipe) {
			assert.Equal(t, []string{Tag1, SideTag}, r.Tags)
			assert.Equal(t, "main", gitOut(t, dir, "rev-parse", "--abbrev-ref", "HEAD"))
			assert.Equal(t, gitOut(t, dir, "rev-parse", SideTag+"^{commit}"), gitOut(t, dir, "rev-parse", "next"))
			assert.Equal(t, gitOut(t, dir, "rev-parse", Tag1+"^{commit}"), gitOut(t, dir, "rev-parse", "HEAD~1"))
			err := exec.Command("git", "-C", dir, "merge-base", "--is-ancestor", SideTag, "HEAD").Run()
			assert.Error(t, err, "the side release must not be an ancestor of the head")
			text, _ := showFile(t, dir, SideTag, "compose.yml")
			assert.Equal(t, []string{"store:/data"}, parseCompose(t, text).Services["app"].Volumes)
			assert.Equal(t, "release/"+Tag1, gitOut(t, dir, "ls-tree", "--name-only", "-r", "HEAD", "release/"))
			assert.Empty(t, gitOut(t, dir, "status", "--porcelain"))
		}},
		{"DOCKER_HOST in .env.sample and the app's env on every commit", DockerHostInEnv, func(t *testing.T, dir string, _ Recipe) {
			for _, rev := range everyRev {
				env, _ := showFile(t, dir, rev, ".env.sample")
				assert.Contains(t, env, "\nDOCKER_HOST=tcp://socket-proxy:2375\n", rev)
				assert.Contains(t, appEnv(t, dir, rev), "DOCKER_HOST=${DOCKER_HOST}", rev)
			}
		}},
		{"the head names an image that exists nowhere", MissingImage, func(t *testing.T, dir string, _ Recipe) {
			text, _ := showFile(t, dir, "HEAD", "compose.yml")
			assert.Equal(t, MissingImageTag, parseCompose(t, text).Services["app"].Image)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r, err := MakeRecipe(dir, tc.variant)
			require.NoError(t, err)
			assert.Equal(t, r.Head, gitOut(t, dir, "rev-parse", "HEAD"))
			assert.Empty(t, gitOut(t, dir, "tag", "--points-at", "HEAD"), "the PR head is untagged")
			tc.check(t, dir, r)
		})
	}
}

func TestEveryVariantsCommitsParse(t *testing.T) {
	t.Parallel()
	for _, v := range Variants() {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r, err := MakeRecipe(dir, v)
			require.NoError(t, err)
			for _, rev := range append(append([]string(nil), r.Tags...), "HEAD") {
				if v == BrokenCompose && rev == "HEAD" {
					continue
				}
				text, ok := showFile(t, dir, rev, "compose.yml")
				require.True(t, ok, rev)
				doc := parseCompose(t, text)
				assert.Contains(t, doc.Services, "app", rev)
				assert.NotEmpty(t, doc.Services["app"].Image, rev)
			}
		})
	}
}
