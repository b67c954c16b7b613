package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
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

func TestLabelOverrideAddsCoopCloudLabelsToTheAppService(t *testing.T) {
	t.Parallel()
	v38 := &yaml.Node{Kind: yaml.ScalarNode, Value: "3.8", Style: yaml.DoubleQuotedStyle}
	data, err := labelOverride("samp-1a2b3c_ci_local", v38, map[string]string{"chaos": "true", "chaos-version": "1a2b3c4d+U", "version": "0.2.0+2.0.0"})
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

// docker stack deploy refuses compose files of different versions, so the label override
// declares exactly the recipe's version, written as the recipe writes it, or none.
func TestLabelOverrideDeclaresTheRecipesComposeVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, compose, want string
	}{
		{"a quoted 3.8 stays a quoted 3.8", "version: \"3.8\"\nservices: {}\n", "version: \"3.8\"\n"},
		{"a 3.9 recipe gets a 3.9 override", "version: '3.9'\nservices: {}\n", "version: '3.9'\n"},
		{"an unquoted version is copied as written, not as the number 3.1", "version: 3.10\nservices: {}\n", "version: 3.10\n"},
		{"after a document marker", "---\nversion: \"3.8\"\n", "version: \"3.8\"\n"},
		{"no version, none declared", "services: {}\n", "services:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yml"), []byte(tc.compose), 0o644))
			v, err := composeVersion(dir, "compose.yml")
			require.NoError(t, err)
			data, err := labelOverride("s_ci_local", v, map[string]string{"version": "1.0.0+1"})
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(string(data), tc.want), "got:\n%s", data)
		})
	}
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
