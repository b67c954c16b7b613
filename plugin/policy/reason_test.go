package policy

import (
	"strings"
	"testing"
	"unicode"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/appconfig"
)

const allowPath = "recipes/policy-allowances.yml"

func TestReasonNamesServiceKeyFileAndTheWayToAllowIt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		compose string
		want    string
	}{
		{
			name:    "the Docker socket",
			compose: app("    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n", ""),
			want:    "service app: volumes: /var/run/docker.sock:/var/run/docker.sock in compose.yml mounts the Docker socket, which gives the app the CI host; an operator allows it for this recipe in recipes/policy-allowances.yml (construct docker-socket)",
		},
		{
			name:    "a key swarm ignores says so",
			compose: app("    privileged: true\n", ""),
			want:    "service app: privileged: true in compose.yml is ignored by docker swarm, so the app would not get it: remove it so the recipe says what it really gets, or an operator allows it for this recipe in recipes/policy-allowances.yml (construct privileged)",
		},
		{
			name:    "a volume whose driver binds a host directory says how",
			compose: app("    volumes: [\"data:/data\"]\n", "volumes:\n  data:\n    driver_opts: {type: none, o: bind, device: /srv/data}\n"),
			want:    "service app: volumes: data:/data in compose.yml uses volume data, whose local driver binds /srv/data (driver_opts o=bind): it mounts a path of the CI host into the app: only named volumes, tmpfs, configs and secrets may be mounted; an operator allows it for this recipe in recipes/policy-allowances.yml (construct host-path)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			refused, _ := check(t, load(t, map[string]string{"compose.yml": tt.compose}), Allowances{})
			require.Len(t, refused, 1)
			assert.Equal(t, tt.want, refused[0].Reason(allowPath))
		})
	}
}

func TestAllowedNamesTheAllowanceAndItsReason(t *testing.T) {
	t.Parallel()
	cfg := load(t, map[string]string{"compose.yml": app("    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n", "")})
	refused, allowed := check(t, cfg, allowances(t, "canary:\n  - construct: docker-socket\n    service: app\n    reason: the proxy reads the swarm's services\n"))
	assert.Empty(t, refused)
	require.Len(t, allowed, 1)
	require.NotNil(t, allowed[0].AllowedBy)
	assert.Equal(t, "service app: volumes: /var/run/docker.sock:/var/run/docker.sock in compose.yml mounts the Docker socket, which gives the app the CI host: allowed by recipes/policy-allowances.yml (recipe canary, service app, construct docker-socket): the proxy reads the swarm's services",
		allowed[0].Allowed(allowPath))
}

// plainLine fails unless s is one line with no control or format character (a newline, an
// escape sequence or a bidi override would let a value rewrite what the reader sees).
func plainLine(t *testing.T, s string) {
	t.Helper()
	for _, c := range s {
		if unicode.IsControl(c) || unicode.Is(unicode.Cf, c) {
			t.Fatalf("reason holds %U: %q", c, s)
		}
	}
}

func TestHostileValuesMakePlainReasons(t *testing.T) {
	t.Parallel()
	t.Run("a path with markup, a newline and a bidi override, from the env", func(t *testing.T) {
		t.Parallel()
		cfg := load(t, map[string]string{
			".env.sample": "TYPE=canary\nDATA_DIR=\"/srv/<script>alert(1)</script>\\nservice app is fine \u202etxt.exe\"\n",
			"compose.yml": app("    volumes:\n      - ${DATA_DIR}:/data\n", ""),
		})
		refused, _ := check(t, cfg, Allowances{})
		require.Len(t, refused, 1)
		r := refused[0].Reason(allowPath)
		plainLine(t, r)
		assert.Contains(t, r, `volumes: "/srv/<script>alert(1)</script>\nservice app is fine \u202etxt.exe:/data" in compose.yml`,
			"the value is quoted whole, its newline and override escaped")
	})
	t.Run("a compose file name with markup", func(t *testing.T) {
		t.Parallel()
		const name = "compose.<img src=x onerror=alert(1)>.yml"
		cfg := load(t, map[string]string{
			".env.sample": "TYPE=canary\nCOMPOSE_FILE=compose.yml:" + name + "\n",
			"compose.yml": app("", ""),
			name:          "services:\n  app:\n    cap_add: [ALL]\n",
		})
		refused, _ := check(t, cfg, Allowances{})
		require.Len(t, refused, 1)
		r := refused[0].Reason(allowPath)
		plainLine(t, r)
		assert.Contains(t, r, `in "compose.<img src=x onerror=alert(1)>.yml" adds`)
	})
	t.Run("a service name with markup and a newline, which compose-go itself would refuse", func(t *testing.T) {
		t.Parallel()
		const svc = "<b>app</b>\n\x1b[31mred"
		cfg := &appconfig.Config{ComposeFiles: []string{"compose.yml"}, Project: &types.Project{
			Name: stack, WorkingDir: t.TempDir(),
			Services: types.Services{svc: {Name: svc, ContainerSpec: types.ContainerSpec{Privileged: true}}},
		}}
		refused, _ := check(t, cfg, Allowances{})
		require.Len(t, refused, 1)
		r := refused[0].Reason(allowPath)
		plainLine(t, r)
		assert.True(t, strings.HasPrefix(r, `service "<b>app</b>\n\x1b[31mred": privileged: true in compose.yml`), r)
	})
	t.Run("a value too long for a reason is cut", func(t *testing.T) {
		t.Parallel()
		long := "/srv/" + strings.Repeat("a", 500)
		cfg := load(t, map[string]string{"compose.yml": app("    volumes:\n      - "+long+":/data\n", "")})
		refused, _ := check(t, cfg, Allowances{})
		require.Len(t, refused, 1)
		assert.Equal(t, long+":/data", refused[0].Value, "the finding keeps the value whole")
		r := refused[0].Reason(allowPath)
		assert.Less(t, len([]rune(r)), 450, r)
		assert.Contains(t, r, "…")
	})
}
