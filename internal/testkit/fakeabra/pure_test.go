package main

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestParseArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		argv      []string
		wantPath  string
		wantArgs  []string
		wantFlags map[string]string
		wantErr   string
	}{
		{"app new with everything", []string{"app", "new", "sample", "0.2.0+2.0.0", "--server", "default", "--domain", "samp-1a2b3c.ci.local", "--secrets", "--no-input"},
			"app new", []string{"sample", "0.2.0+2.0.0"}, map[string]string{"--server": "default", "--domain": "samp-1a2b3c.ci.local", "--secrets": "true", "--no-input": "true"}, ""},
		{"flags before arguments and --flag=value", []string{"app", "new", "--no-input", "--server=default", "--domain=d.ci.local", "sample"},
			"app new", []string{"sample"}, map[string]string{"--server": "default", "--domain": "d.ci.local", "--no-input": "true"}, ""},
		{"a chaos deploy", []string{"app", "deploy", "d.ci.local", "--no-input", "--chaos", "--no-converge-checks"},
			"app deploy", []string{"d.ci.local"}, map[string]string{"--no-input": "true", "--chaos": "true", "--no-converge-checks": "true"}, ""},
		{"the longest command path wins", []string{"app", "secret", "generate", "d.ci.local", "--all", "--no-input"},
			"app secret generate", []string{"d.ci.local"}, map[string]string{"--all": "true", "--no-input": "true"}, ""},
		{"backup create", []string{"app", "backup", "create", "d.ci.local", "--no-input"},
			"app backup create", []string{"d.ci.local"}, map[string]string{"--no-input": "true"}, ""},
		{"an unknown command", []string{"app", "frobnicate", "x"}, "", nil, nil, `unknown command "app frobnicate x"`},
		{"no command at all", nil, "", nil, nil, "unknown command"},
		{"an unknown flag", []string{"app", "deploy", "d", "--no-input", "--force"}, "", nil, nil, "flag provided but not defined: --force"},
		{"a short flag is unknown", []string{"app", "deploy", "d", "-n"}, "", nil, nil, "flag provided but not defined: -n"},
		{"a value on a boolean flag", []string{"app", "deploy", "d", "--no-input=false"}, "", nil, nil, "flag provided but not defined: --no-input=false"},
		{"a missing --no-input", []string{"app", "undeploy", "d"}, "", nil, nil, "flag --no-input is required"},
		{"a missing --domain", []string{"app", "new", "sample", "--server", "s", "--no-input"}, "", nil, nil, "flag --domain is required"},
		{"a value flag at the end without value", []string{"app", "new", "sample", "--no-input", "--domain", "d", "--server"}, "", nil, nil, "flag --server needs a value"},
		{"an empty value", []string{"app", "new", "sample", "--no-input", "--domain=", "--server", "s"}, "", nil, nil, "needs a non-empty value"},
		{"too many arguments", []string{"app", "deploy", "d", "v", "extra", "--no-input"}, "", nil, nil, "takes <domain> [<version>], got 3"},
		{"too few arguments", []string{"app", "remove", "--force", "--no-input"}, "", nil, nil, "got 0 argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmd, in, err := parseArgs(tc.argv, commands())
			if tc.wantErr != "" {
				require.Error(t, err)
				var ue *usageError
				assert.ErrorAs(t, err, &ue, "a bad command line is a usage error")
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.Contains(t, err.Error(), "usage")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantPath, cmd.path)
			assert.Equal(t, tc.wantArgs, in.args)
			assert.Equal(t, tc.wantFlags, in.flags)
		})
	}
}

const sampleEnv = `TYPE=sample

DOMAIN=sample.example.com

## Domain aliases
#EXTRA_DOMAINS=', ` + "`www.sample.example.com`" + `'
# DOMAIN=commented.example.com

LETS_ENCRYPT_ENV=production

COMPOSE_FILE="compose.yml:compose.extra.yml"
export QUOTED='single # not a comment'
INLINE=value # a comment
SECRET_API_KEY_VERSION=v1
SECRET_DB_PASSWORD_VERSION=v2 # length=32
`

func TestParseEnv(t *testing.T) {
	t.Parallel()
	got := envMap(parseEnv(sampleEnv))
	assert.Equal(t, map[string]string{
		"TYPE": "sample", "DOMAIN": "sample.example.com", "LETS_ENCRYPT_ENV": "production",
		"COMPOSE_FILE": "compose.yml:compose.extra.yml", "QUOTED": "single # not a comment",
		"INLINE": "value", "SECRET_API_KEY_VERSION": "v1", "SECRET_DB_PASSWORD_VERSION": "v2",
	}, got)
}

func TestRewriteEnvSetsKeysInPlaceAndKeepsEverythingElse(t *testing.T) {
	t.Parallel()
	got := rewriteEnv(sampleEnv, []envVar{{"TYPE", "sample"}, {"DOMAIN", "samp-1a2b3c.ci.local"}, {"NEW", "x"}})
	want := `TYPE=sample

DOMAIN=samp-1a2b3c.ci.local

## Domain aliases
#EXTRA_DOMAINS=', ` + "`www.sample.example.com`" + `'
# DOMAIN=commented.example.com

LETS_ENCRYPT_ENV=production

COMPOSE_FILE="compose.yml:compose.extra.yml"
export QUOTED='single # not a comment'
INLINE=value # a comment
SECRET_API_KEY_VERSION=v1
SECRET_DB_PASSWORD_VERSION=v2 # length=32
NEW=x
`
	assert.Equal(t, want, got)
	assert.Equal(t, "DOMAIN=d\nTYPE=r\n", rewriteEnv("", []envVar{{"DOMAIN", "d"}, {"TYPE", "r"}}), "an empty sample")
	assert.Equal(t, "A=1\nTYPE=r\n", rewriteEnv("A=1", []envVar{{"TYPE", "r"}}), "no trailing newline")
}

func TestSecretDeclsAndNames(t *testing.T) {
	t.Parallel()
	decls := secretDecls(parseEnv(sampleEnv))
	require.Equal(t, []secretDecl{{"api_key", "v1"}, {"db_password", "v2"}}, decls)
	assert.Equal(t, "samp-1a2b3c_ci_local_api_key_v1", decls[0].dockerName(stackName("samp-1a2b3c.ci.local")))
	assert.NoError(t, checkSecretNames("samp-1a2b3c_ci_local", decls))

	long := secretDecl{Name: "smtp_password_for_the_outgoing_mail_relay_service1", Version: "v1"}
	err := checkSecretNames("samp-1a2b3c_ci_local", []secretDecl{decls[0], long})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "secret name too long")
	assert.Contains(t, err.Error(), "smtp_password_for_the_outgoing_mail_relay_service1")
	assert.Contains(t, err.Error(), "is 74 characters")

	exactly64 := secretDecl{Name: "x", Version: "v1"}
	stack := string(bytes.Repeat([]byte("s"), 64-len("_x_v1")))
	assert.NoError(t, checkSecretNames(stack, []secretDecl{exactly64}), "64 characters are allowed")
	assert.ErrorContains(t, checkSecretNames(stack+"s", []secretDecl{exactly64}), "65 characters")
	assert.ErrorContains(t, checkSecretNames("s", []secretDecl{{Name: "x"}}), "empty version")
}

func TestLabelOverrideAddsCoopCloudLabelsToTheAppService(t *testing.T) {
	t.Parallel()
	data, err := labelOverride("samp-1a2b3c_ci_local", map[string]string{"chaos": "true", "chaos-version": "1a2b3c4d+U", "version": "0.2.0+2.0.0"})
	require.NoError(t, err)
	var doc struct {
		Version  string `yaml:"version"`
		Services map[string]struct {
			Deploy struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"deploy"`
		} `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(data, &doc))
	assert.Equal(t, "3.8", doc.Version)
	require.Len(t, doc.Services, 1)
	assert.Equal(t, map[string]string{
		"coop-cloud.samp-1a2b3c_ci_local.chaos":         "true",
		"coop-cloud.samp-1a2b3c_ci_local.chaos-version": "1a2b3c4d+U",
		"coop-cloud.samp-1a2b3c_ci_local.version":       "0.2.0+2.0.0",
	}, doc.Services["app"].Deploy.Labels)
}

func TestStackDeployArgsAndEnv(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"stack", "deploy", "--resolve-image", "never", "--prune",
		"--compose-file", "compose.yml", "--compose-file", "compose.smtp.yml",
		"--compose-file", "/tmp/o/labels.yml", "s_ci_local"},
		stackDeployArgs([]string{"compose.yml", "compose.smtp.yml"}, "/tmp/o/labels.yml", "s_ci_local"))

	env := deployEnv([]string{"PATH=/bin", "DOMAIN=stale"}, []envVar{{"TYPE", "sample"}, {"DOMAIN", "env.ci.local"}},
		"s_ci_local", "s.ci.local")
	assert.Equal(t, []string{"PATH=/bin", "DOMAIN=stale", "TYPE=sample", "DOMAIN=env.ci.local",
		"STACK_NAME=s_ci_local", "DOMAIN=s.ci.local"}, env, "later entries win, so DOMAIN is the app's")
	assert.Equal(t, "samp-1a2b3c_ci_local", stackName("samp-1a2b3c.ci.local"))
}

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b string
		want int
	}{
		{"numeric, not lexical", "0.10.0+1", "0.9.0+2", 1},
		{"patch", "0.2.1+2.0.0", "0.2.0+2.0.0", 1},
		{"equal", "0.2.0+2.0.0", "0.2.0+2.0.0", 0},
		{"an odd tag sorts first", "latest", "0.1.0+1.0.0", -1},
		{"the recipe part decides, not upstream", "0.1.0+9.0.0", "0.2.0+1.0.0", -1},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, compareVersions(tc.a, tc.b), tc.name)
	}
}

func TestBackupPaths(t *testing.T) {
	t.Parallel()
	got, err := backupPaths("/data/dump, /var/lib/x/ ,")
	require.NoError(t, err)
	assert.Equal(t, []string{"/data/dump", "/var/lib/x"}, got)
	_, err = backupPaths("data/dump")
	assert.ErrorContains(t, err, "absolute")
	_, err = backupPaths("/")
	assert.ErrorContains(t, err, "below /")
	_, err = backupPaths("")
	assert.ErrorContains(t, err, "empty")
}

func TestRerootPrefixesEntriesWithTheParentOfTheBackedUpPath(t *testing.T) {
	t.Parallel()
	var in bytes.Buffer
	tw := tar.NewWriter(&in)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "dump/", Typeflag: tar.TypeDir, Mode: 0o755}))
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "dump/dump.json", Typeflag: tar.TypeReg, Mode: 0o644, Size: 7}))
	_, err := tw.Write([]byte(`{"x":1}`))
	require.NoError(t, err)
	require.NoError(t, tw.Close())

	var out bytes.Buffer
	ow := tar.NewWriter(&out)
	require.NoError(t, reroot(tar.NewReader(&in), ow, "data"))
	require.NoError(t, ow.Close())

	r := tar.NewReader(&out)
	var names []string
	var content string
	for {
		hdr, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		names = append(names, hdr.Name)
		if hdr.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(r)
			require.NoError(t, err)
			content = string(b)
		}
	}
	assert.Equal(t, []string{"data/dump/", "data/dump/dump.json"}, names)
	assert.Equal(t, `{"x":1}`, content)
}
