package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckNamesTheFileAConstructComesFrom(t *testing.T) {
	t.Parallel()
	const base = "version: \"3.8\"\nservices:\n  app:\n    image: nginx:1.27\n    volumes:\n      - data:/data\nvolumes:\n  data:\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name: "the socket in the second file COMPOSE_FILE selects names that file",
			files: map[string]string{
				".env.sample":       "TYPE=canary\nCOMPOSE_FILE=\"compose.yml\"\nCOMPOSE_FILE=\"$COMPOSE_FILE:compose.proxy.yml\"\n",
				"compose.yml":       base,
				"compose.proxy.yml": "services:\n  app:\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n",
			},
			want: []string{"app|docker-socket|volumes|/var/run/docker.sock:/var/run/docker.sock:ro|compose.proxy.yml"},
		},
		{
			name: "a key an override file adds to a service of the first names the override",
			files: map[string]string{
				".env.sample":     "TYPE=canary\nCOMPOSE_FILE=compose.yml:compose.cap.yml\n",
				"compose.yml":     base,
				"compose.cap.yml": "services:\n  app:\n    cap_add: [NET_ADMIN]\n",
			},
			want: []string{"app|cap-add|cap_add|NET_ADMIN|compose.cap.yml"},
		},
		{
			name: "a construct repeated in both files names both",
			files: map[string]string{
				".env.sample":       "TYPE=canary\nCOMPOSE_FILE=compose.yml:compose.again.yml\n",
				"compose.yml":       "services:\n  app:\n    image: nginx:1.27\n    privileged: true\n",
				"compose.again.yml": "services:\n  app:\n    privileged: true\n",
			},
			want: []string{"app|privileged|privileged|true|compose.yml and compose.again.yml"},
		},
		{
			name: "a construct only the merge makes is named as the merge",
			files: map[string]string{
				".env.sample":     "TYPE=canary\nCOMPOSE_FILE=compose.yml:compose.net.yml\n",
				"compose.yml":     "services:\n  app:\n    image: nginx:1.27\n    networks: [outside]\n",
				"compose.net.yml": "networks:\n  outside:\n    external: true\n    name: host\n",
			},
			want: []string{"app|host-network|networks|outside|the merge of compose.yml and compose.net.yml"},
		},
		{
			name: "a host path a later file overrides with a named volume is not refused: the merge is what deploys",
			files: map[string]string{
				".env.sample":     "TYPE=canary\nCOMPOSE_FILE=compose.yml:compose.vol.yml\n",
				"compose.yml":     "services:\n  app:\n    image: nginx:1.27\n    volumes: [\"/srv/data:/data\"]\n",
				"compose.vol.yml": "services:\n  app:\n    volumes: [\"data:/data\"]\nvolumes:\n  data:\n",
			},
		},
		{
			name: "a file interpolated with the same env: the second file's ${DATA_DIR} is named",
			files: map[string]string{
				".env.sample":      "TYPE=canary\nDATA_DIR=/srv/canary\nCOMPOSE_FILE=compose.yml:compose.data.yml\n",
				"compose.yml":      base,
				"compose.data.yml": "services:\n  app:\n    volumes: [\"${DATA_DIR}:/srv\"]\n",
			},
			want: []string{"app|host-path|volumes|/srv/canary:/srv|compose.data.yml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := load(t, tt.files)
			require.Greater(t, len(cfg.ComposeFiles), 1, "the fixture selects several files")
			refused, _ := check(t, cfg, Allowances{})
			assert.Equal(t, tt.want, brief(refused))
		})
	}
}
