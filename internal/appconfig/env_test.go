package appconfig

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		want    map[string]string
		wantErr string
	}{
		{
			name:    "COMPOSE_FILE chained across lines expands the earlier value",
			content: "COMPOSE_FILE=\"compose.yml\"\n#COMPOSE_FILE=\"$COMPOSE_FILE:compose.smtp.yml\"\nCOMPOSE_FILE=\"$COMPOSE_FILE:compose.pg.yml\"\nCOMPOSE_FILE=${COMPOSE_FILE}:compose.extra.yml\n",
			want:    map[string]string{"COMPOSE_FILE": "compose.yml:compose.pg.yml:compose.extra.yml"},
		},
		{
			name:    "single quotes are literal, double quotes expand and unescape",
			content: "A=one\nB='$A # not a comment'\nC=\"$A\\n\\\"two\\\" \\$A\"\n",
			want:    map[string]string{"A": "one", "B": "$A # not a comment", "C": "one\n\"two\" $A"},
		},
		{
			name:    "an inline comment ends an unquoted value only after white space",
			content: "URL=http://x/#frag\nV=v1 # length=32\nTAB=x\t# t\nLAST=a # b # c\n",
			want:    map[string]string{"URL": "http://x/#frag", "V": "v1", "TAB": "x", "LAST": "a # b"},
		},
		{
			// godotenv trims the space after '=' before looking for a comment, so a lone comment
			// is the value; a recipe must write KEY= with nothing after it for an empty value.
			name:    "a comment right after = is the value, as in godotenv",
			content: "EMPTY= # nothing\nNONE=\n",
			want:    map[string]string{"EMPTY": "# nothing", "NONE": ""},
		},
		{
			name:    "export prefixes, spaces around = and yaml-style colons are read",
			content: "export A=1\n  B = 2\nC: 3\nexporter=4\n",
			want:    map[string]string{"A": "1", "B": "2", "C": "3", "exporter": "4"},
		},
		{
			name:    "a variable nobody set expands to nothing, lower-case names are not expanded",
			content: "A=$NOPE-x\nb=1\nC=$b\n",
			want:    map[string]string{"A": "-x", "b": "1", "C": "$b"},
		},
		{
			name:    "a quoted value may span lines and CRLF files read as LF",
			content: "A=\"one\r\ntwo\"\r\nB=3\r\n",
			want:    map[string]string{"A": "one\ntwo", "B": "3"},
		},
		{
			name:    "a later assignment wins",
			content: "A=1\nB=2\nA=3",
			want:    map[string]string{"A": "3", "B": "2"},
		},
		{name: "a line without = is an error naming the line", content: "A=1\n\nnonsense\n", wantErr: "line 3"},
		{name: "an unterminated quote is an error", content: "A=1\nB=\"open\n", wantErr: "line 2: B: unterminated"},
		{name: "a key with a space is an error", content: "BAD KEY=1\n", wantErr: "invalid key"},
		{name: "a key with a dash is an error", content: "BAD-KEY=1\n", wantErr: "unexpected character"},
		{name: "an empty key is an error", content: "=1\n", wantErr: "empty variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, err := ParseEnv(tt.content)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, env.Map())
		})
	}
}

func TestParseEnvKeepsOrderLinesAndModifiers(t *testing.T) {
	t.Parallel()
	env, err := ParseEnv("TYPE=app\n\n# comment\nSECRET_DB_PASSWORD_VERSION=v1 # length=128 charset=special-chars\nexport Q=\"x\" # length=8\nTYPE=again\n")
	require.NoError(t, err)
	assert.Equal(t, []Var{
		{Key: "TYPE", Value: "app", Line: 1},
		{Key: "SECRET_DB_PASSWORD_VERSION", Value: "v1", Line: 4,
			Modifiers: map[string]string{"length": "128", "charset": "special-chars"}},
		{Key: "Q", Value: "x", Line: 5, Modifiers: map[string]string{"length": "8"}},
		{Key: "TYPE", Value: "again", Line: 6},
	}, env.Vars)
	assert.Equal(t, []string{"TYPE", "SECRET_DB_PASSWORD_VERSION", "Q"}, env.Keys())
	v, ok := env.Get("TYPE")
	assert.True(t, ok)
	assert.Equal(t, "again", v)
	_, ok = env.Get("NOPE")
	assert.False(t, ok)
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	env, err := ParseEnv("SECRET_ZED_KEY_VERSION=v2\nSECRET_DB_PASSWORD_VERSION=v1 # length=48\nSECRET_BAD_VERSION=v1 # length=lots\nNOT_A_SECRET=v1\nSECRET_ZED_KEY_VERSION=v3 # length=12\n")
	require.NoError(t, err)
	assert.Equal(t, []Secret{
		{Name: "bad", Version: "v1"},
		{Name: "db_password", Version: "v1", Length: 48},
		{Name: "zed_key", Version: "v3", Length: 12},
	}, env.Secrets())
}

func TestComposeFiles(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"compose.yml"}, ComposeFiles(map[string]string{}))
	assert.Equal(t, []string{"compose.yml"}, ComposeFiles(map[string]string{"COMPOSE_FILE": ""}))
	assert.Equal(t, []string{"compose.yml", "compose.pg.yml"},
		ComposeFiles(map[string]string{"COMPOSE_FILE": "compose.yml::compose.pg.yml:"}))
}

func TestReadEnvFileNamesTheFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.env")
	require.NoError(t, os.WriteFile(path, []byte("A=1\nB='x\n"), 0o600))
	_, err := ReadEnvFile(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path+" line 2")
	_, err = ReadEnvFile(filepath.Join(t.TempDir(), "missing.env"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestSetValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		content, key, value string
		want                string
	}{
		{name: "a value is replaced in place keeping comments and order",
			content: "## top\nTYPE=app\n#DOMAIN=old\nDOMAIN=a.example\nX=1\n", key: "DOMAIN", value: "b.example",
			want: "## top\nTYPE=app\n#DOMAIN=old\nDOMAIN=b.example\nX=1\n"},
		{name: "the length modifier survives",
			content: "SECRET_DB_VERSION=v1 # length=32\n", key: "SECRET_DB_VERSION", value: "v2",
			want: "SECRET_DB_VERSION=v2 # length=32\n"},
		{name: "a quoted value is replaced with its quotes and export kept",
			content: "export A=\"x y\"   # note\n", key: "A", value: "z",
			want: "export A=z   # note\n"},
		{name: "a missing key is appended with a final newline",
			content: "A=1", key: "B", value: "2", want: "A=1\nB=2\n"},
		{name: "an empty value is filled",
			content: "A=\nB=2\n", key: "A", value: "1", want: "A=1\nB=2\n"},
		{name: "every assignment of a repeated key is rewritten",
			content: "A=1\nB=2\nA=3\n", key: "A", value: "9", want: "A=9\nB=2\nA=9\n"},
		{name: "a value that needs quoting is double-quoted and escaped",
			content: "A=1\n", key: "A", value: `say "hi" $HOME # not a comment`,
			want: "A=\"say \\\"hi\\\" \\$HOME # not a comment\"\n"},
		{name: "a value ending in a double quote is single-quoted",
			content: "A=1\n", key: "A", value: `say "hi"`, want: "A='say \"hi\"'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := SetValue(tt.content, tt.key, tt.value)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			env, err := ParseEnv(got)
			require.NoError(t, err)
			v, _ := env.Get(tt.key)
			assert.Equal(t, tt.value, v, "the value reads back unchanged")
		})
	}
}

func TestSetValueRefusesWhatCannotRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ key, value, wantErr string }{
		{"BAD KEY", "x", "invalid key"},
		{"A", "two\nlines", "newline"},
		{"A", `ends in \`, "cannot be written"},
		{"A", `it's "quoted"`, "cannot be written"},
	} {
		_, err := SetValue("A=1\n", tc.key, tc.value)
		assert.ErrorContains(t, err, tc.wantErr, "%s=%q", tc.key, tc.value)
	}
}

func FuzzSetValueRoundTrips(f *testing.F) {
	for _, s := range []string{"plain", `a "b" c`, "$X ${Y}", `back\slash`, "it's", "# hash", " lead", `\$`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		out, err := SetValue("A=1 # length=3\nB=2\n", "A", value)
		if err != nil {
			return
		}
		env, err := ParseEnv(out)
		require.NoError(t, err, "%q", out)
		got, _ := env.Get("A")
		// godotenv trims white space around an unquoted value; quoted values keep it.
		assert.Equal(t, value, got, "%q", out)
		b, _ := env.Get("B")
		assert.Equal(t, "2", b)
	})
}

func TestAbraShExports(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "abra.sh")
	require.NoError(t, os.WriteFile(path, []byte(`#!/bin/bash
export PG_BACKUP_VERSION=v2
export  ENTRYPOINT_CONF_VERSION=v10
  export INDENTED=v1
export QUOTED="v1"
export COMPUTED=$(date)
export_thing=1
rm -rf / # never run
app_cmd() {
  export INSIDE=v9
}
`), 0o600))
	got, err := AbraShExports(path)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"PG_BACKUP_VERSION": "v2", "ENTRYPOINT_CONF_VERSION": "v10"}, got)

	missing, err := AbraShExports(filepath.Join(dir, "nope.sh"))
	require.NoError(t, err, "a recipe without abra.sh has no exports")
	assert.Empty(t, missing)

	bad := filepath.Join(dir, "bad.sh")
	require.NoError(t, os.WriteFile(bad, []byte("export A=v1\nexport B=x=y\n"), 0o600))
	_, err = AbraShExports(bad)
	assert.ErrorContains(t, err, bad+" line 2")
}

func FuzzParseEnv(f *testing.F) {
	sample, err := os.ReadFile("testdata/recipe/.env.sample")
	require.NoError(f, err)
	for _, s := range []string{string(sample), "A=\"x\\\"\"", "export", "export A", "A='", "=", "A=$", "A=${", "---\nA=1\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		env, err := ParseEnv(content)
		if err != nil {
			return
		}
		for _, v := range env.Vars {
			assert.NotEmpty(t, v.Key)
			assert.Positive(t, v.Line)
		}
	})
}
