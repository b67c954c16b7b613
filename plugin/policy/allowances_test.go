package policy

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAnAllowanceAllowsExactlyWhatItNames(t *testing.T) {
	t.Parallel()
	socketAndCaps := app("    cap_add: [NET_ADMIN]\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n", "")
	const socketForCanary = "canary:\n  - construct: docker-socket\n    reason: the proxy reads the swarm's services\n"
	tests := []struct {
		name        string
		allow       string
		compose     string
		wantRefused []string
		wantAllowed []string
	}{
		{
			name:        "the socket allowance allows the socket and leaves cap_add refused",
			allow:       socketForCanary,
			compose:     socketAndCaps,
			wantRefused: []string{"app|cap-add|cap_add|NET_ADMIN|compose.yml"},
			wantAllowed: []string{"app|docker-socket|volumes|/var/run/docker.sock:/var/run/docker.sock|compose.yml"},
		},
		{
			name:  "another recipe's allowance allows nothing here",
			allow: "other:\n  - construct: docker-socket\n    reason: not this recipe\n",
			wantRefused: []string{
				"app|docker-socket|volumes|/var/run/docker.sock:/var/run/docker.sock|compose.yml",
				"app|cap-add|cap_add|NET_ADMIN|compose.yml",
			},
			compose: socketAndCaps,
		},
		{
			name:  "an allowance for one service leaves another service refused",
			allow: "canary:\n  - construct: docker-socket\n    service: app\n    reason: the proxy reads the swarm\n",
			compose: app("    volumes: [\"/var/run/docker.sock:/s\"]\n",
				"  worker:\n    image: busybox\n    volumes: [\"/var/run/docker.sock:/s\"]\n"),
			wantRefused: []string{"worker|docker-socket|volumes|/var/run/docker.sock:/s|compose.yml"},
			wantAllowed: []string{"app|docker-socket|volumes|/var/run/docker.sock:/s|compose.yml"},
		},
		{
			name:        "the socket allowance does not allow the rest of the directory that holds it",
			allow:       socketForCanary,
			compose:     app("    volumes: [\"/var/run:/r\"]\n", ""),
			wantRefused: []string{"app|host-path|volumes|/var/run:/r|compose.yml"},
			wantAllowed: []string{"app|docker-socket|volumes|/var/run:/r|compose.yml"},
		},
		{
			name:        "a host-path allowance does not allow the socket",
			allow:       "canary:\n  - construct: host-path\n    reason: reads its data dir\n",
			compose:     app("    volumes: [\"/var/run/docker.sock:/s\", \"/srv/data:/data\"]\n", ""),
			wantRefused: []string{"app|docker-socket|volumes|/var/run/docker.sock:/s|compose.yml"},
			wantAllowed: []string{"app|host-path|volumes|/srv/data:/data|compose.yml"},
		},
		{
			name:        "a host-path allowance narrowed to one source allows that path only",
			allow:       "canary:\n  - construct: host-path\n    source: /srv//data/\n    reason: reads its data dir\n",
			compose:     app("    volumes: [\"/srv/data:/data\", \"/srv/other:/other\"]\n", ""),
			wantRefused: []string{"app|host-path|volumes|/srv/other:/other|compose.yml"},
			wantAllowed: []string{"app|host-path|volumes|/srv/data:/data|compose.yml"},
		},
		{
			name:        "a source inside the recipe is written as ./path",
			allow:       "canary:\n  - construct: host-path\n    source: ./conf\n    reason: mounts its own config dir\n",
			compose:     app("    volumes: [\"./conf:/etc/app\", \"./other:/o\"]\n", ""),
			wantRefused: []string{"app|host-path|volumes|./other:/o|compose.yml"},
			wantAllowed: []string{"app|host-path|volumes|./conf:/etc/app|compose.yml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			refused, allowed := check(t, load(t, map[string]string{"compose.yml": tt.compose}), allowances(t, tt.allow))
			assert.Equal(t, tt.wantRefused, brief(refused))
			assert.Equal(t, tt.wantAllowed, brief(allowed))
			for _, f := range allowed {
				require.NotNil(t, f.AllowedBy, "an allowed finding names its allowance")
				assert.Equal(t, "canary", f.AllowedBy.Recipe)
			}
			for _, f := range refused {
				assert.Nil(t, f.AllowedBy)
			}
		})
	}
}

func TestLoadAllowancesIsStrict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		wantErr []string
	}{
		{
			name:    "a misspelt key names the key, the line and the nearest valid key",
			content: "traefik:\n  - construct: docker-socket\n    reasn: reads the swarm\n",
			wantErr: []string{"line 3", `unknown key "reasn"`, `did you mean "reason"?`},
		},
		{
			name:    "a key that would scope an allowance to a pull request does not exist",
			content: "traefik:\n  - construct: docker-socket\n    pr: 12\n    reason: just this once\n",
			wantErr: []string{"line 3", `unknown key "pr"`},
		},
		{
			name:    "a misspelt construct names the nearest",
			content: "traefik:\n  - construct: docker-sock\n    reason: reads the swarm\n",
			wantErr: []string{"line 2", `unknown construct "docker-sock"`, `did you mean "docker-socket"?`},
		},
		{name: "a missing reason", content: "traefik:\n  - construct: docker-socket\n", wantErr: []string{"reason is required"}},
		{name: "a blank reason", content: "traefik:\n  - construct: docker-socket\n    reason: \"  \"\n", wantErr: []string{"reason is required"}},
		{name: "a null reason", content: "traefik:\n  - construct: docker-socket\n    reason:\n", wantErr: []string{"reason is required"}},
		{name: "a missing construct", content: "traefik:\n  - reason: why\n", wantErr: []string{"construct is required"}},
		{
			name:    "a reason of two lines",
			content: "traefik:\n  - construct: docker-socket\n    reason: |\n      one\n      two\n",
			wantErr: []string{"one line of plain text"},
		},
		{name: "a recipe name that is not one", content: "Traefik!:\n  - construct: docker-socket\n    reason: x\n", wantErr: []string{"line 1", "not a recipe name"}},
		{name: "a recipe without a list", content: "traefik:\n  construct: docker-socket\n", wantErr: []string{"line 2", "a list of allowances"}},
		{name: "a top level that is not a mapping", content: "- traefik\n", wantErr: []string{"line 1", "maps a recipe name"}},
		{
			name:    "the same recipe twice",
			content: "traefik:\n  - {construct: docker-socket, reason: x}\ntraefik:\n  - {construct: cap-add, reason: y}\n",
			wantErr: []string{"line 3", "listed twice"},
		},
		{
			name:    "the same allowance twice",
			content: "traefik:\n  - {construct: docker-socket, reason: x}\n  - {construct: docker-socket, reason: y}\n",
			wantErr: []string{"line 3", "the same allowance as line 2"},
		},
		{
			name:    "a key given twice",
			content: "traefik:\n  - {construct: docker-socket, construct: cap-add, reason: x}\n",
			wantErr: []string{"construct is given twice"},
		},
		{
			name:    "an alias hides what is allowed",
			content: "traefik:\n  - &a {construct: docker-socket, reason: x}\nghost:\n  - *a\n",
			wantErr: []string{"aliases"},
		},
		{
			name:    "a source on a construct that names no path",
			content: "traefik:\n  - {construct: cap-add, source: /x, reason: x}\n",
			wantErr: []string{"source narrows only"},
		},
		{name: "a relative source", content: "traefik:\n  - {construct: host-path, source: data, reason: x}\n", wantErr: []string{"absolute host path or ./path"}},
		{name: "a source that leaves the recipe", content: "traefik:\n  - {construct: host-path, source: ./../x, reason: x}\n", wantErr: []string{"leaves the recipe"}},
		{name: "a service name compose would refuse", content: "traefik:\n  - {construct: cap-add, service: \"a b\", reason: x}\n", wantErr: []string{"not a compose service name"}},
		{name: "a value that is a list", content: "traefik:\n  - {construct: [cap-add], reason: x}\n", wantErr: []string{"construct takes one value"}},
		{name: "two documents", content: "traefik: []\n---\nghost: []\n", wantErr: []string{"one YAML document"}},
		{name: "YAML that does not parse", content: "traefik: [\n", wantErr: []string{"line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), AllowFile)
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o644))
			_, err := LoadAllowances(path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), path, "the error names the file")
			for _, want := range tt.wantErr {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestLoadAllowancesReadsWhatIsWritten(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), AllowFile)
	require.NoError(t, os.WriteFile(path, []byte(`# reviewed
traefik:
  - construct: docker-socket
    service: app
    reason: >-
      traefik reads the swarm's
      services
  - construct: host-path
    source: /srv/certs/
    reason: keeps its certificates
ghost: []
`), 0o644))
	a, err := LoadAllowances(path)
	require.NoError(t, err)
	assert.Equal(t, []Allowance{
		{Recipe: "traefik", Construct: DockerSocket, Service: "app", Reason: "traefik reads the swarm's services", Line: 3},
		{Recipe: "traefik", Construct: HostPath, Source: "/srv/certs", Reason: "keeps its certificates", Line: 8},
	}, a.For("traefik"))
	assert.Empty(t, a.For("ghost"))
	assert.Empty(t, a.For("nope"))
}

func TestNoAllowancesFileAllowsNothing(t *testing.T) {
	t.Parallel()
	for name, content := range map[string]*string{"missing": nil, "empty": new(string), "comments only": ptr("# nothing yet\n")} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), AllowFile)
			if content != nil {
				require.NoError(t, os.WriteFile(path, []byte(*content), 0o644))
			}
			a, err := LoadAllowances(path)
			require.NoError(t, err)
			cfg := load(t, map[string]string{"compose.yml": app("    volumes: [\"/var/run/docker.sock:/s\"]\n", "")})
			refused, allowed, err := Check(context.Background(), cfg, "canary", a)
			require.NoError(t, err)
			assert.Len(t, refused, 1)
			assert.Empty(t, allowed)
		})
	}
	_, err := LoadAllowances(t.TempDir())
	assert.Error(t, err, "a path that cannot be read is an error, not an empty file")
}

func ptr(s string) *string { return &s }

// TestTheRepoAllowancesFile loads recipes/policy-allowances.yml strictly and checks it allows
// the Docker socket, and only that, to the two recipes that need it.
func TestTheRepoAllowancesFile(t *testing.T) {
	t.Parallel()
	a, err := LoadAllowances(filepath.Join("..", "..", "recipes", AllowFile))
	require.NoError(t, err)
	for recipe, service := range map[string]string{"traefik": "app", "backup-bot-two": ""} {
		got := a.For(recipe)
		require.Len(t, got, 1, recipe)
		assert.Equal(t, DockerSocket, got[0].Construct, recipe)
		assert.Equal(t, service, got[0].Service, recipe)
		assert.Empty(t, got[0].Source, recipe)
		assert.NotEmpty(t, got[0].Reason, recipe)
	}
	assert.Len(t, a.byRecipe, 2, "no other recipe is allowed anything")
}
