package policy

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/appconfig"
)

func TestCheckRefusesEveryConstruct(t *testing.T) {
	t.Parallel()
	home, err := os.UserHomeDir()
	require.NoError(t, err)
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name:  "a short-syntax bind of the Docker socket is the socket, and only that",
			files: map[string]string{"compose.yml": app("    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n", "")},
			want:  []string{"app|docker-socket|volumes|/var/run/docker.sock:/var/run/docker.sock|compose.yml"},
		},
		{
			name: "a long-syntax read-only bind of /run/docker.sock is the socket",
			files: map[string]string{"compose.yml": app(`    volumes:
      - type: bind
        source: /run/docker.sock
        target: /var/run/docker.sock
        read_only: true
`, "")},
			want: []string{"app|docker-socket|volumes|/run/docker.sock:/var/run/docker.sock:ro|compose.yml"},
		},
		{
			name:  "a socket path spelt with .. and // is cleaned and still the socket",
			files: map[string]string{"compose.yml": app("    volumes:\n      - //var/run/../run/docker.sock:/s\n", "")},
			want:  []string{"app|docker-socket|volumes|/var/run/docker.sock:/s|compose.yml"},
		},
		{
			name:  "the rootless socket under /run/user is the socket",
			files: map[string]string{"compose.yml": app("    volumes:\n      - /run/user/1000/docker.sock:/s\n", "")},
			want:  []string{"app|docker-socket|volumes|/run/user/1000/docker.sock:/s|compose.yml"},
		},
		{
			name:  "a parent of the socket is the socket and a host path",
			files: map[string]string{"compose.yml": app("    volumes:\n      - /var/run:/host-run\n", "")},
			want: []string{
				"app|docker-socket|volumes|/var/run:/host-run|compose.yml",
				"app|host-path|volumes|/var/run:/host-run|compose.yml",
			},
		},
		{
			name:  "the host's root is the socket and a host path",
			files: map[string]string{"compose.yml": app("    volumes:\n      - /:/host:ro\n", "")},
			want: []string{
				"app|docker-socket|volumes|/:/host:ro|compose.yml",
				"app|host-path|volumes|/:/host:ro|compose.yml",
			},
		},
		{
			name:  "a file named docker.sock elsewhere is refused as both",
			files: map[string]string{"compose.yml": app("    volumes:\n      - /srv/proxy/docker.sock:/s\n", "")},
			want: []string{
				"app|docker-socket|volumes|/srv/proxy/docker.sock:/s|compose.yml",
				"app|host-path|volumes|/srv/proxy/docker.sock:/s|compose.yml",
			},
		},
		{
			name:  "use_api_socket hands the app the socket",
			files: map[string]string{"compose.yml": app("    use_api_socket: true\n", "")},
			want:  []string{"app|docker-socket|use_api_socket|true|compose.yml"},
		},
		{
			name:  "a short-syntax bind of a host path",
			files: map[string]string{"compose.yml": app("    volumes:\n      - /srv/data:/data\n", "")},
			want:  []string{"app|host-path|volumes|/srv/data:/data|compose.yml"},
		},
		{
			name:  "a relative bind into the recipe is a host path, shown relative",
			files: map[string]string{"compose.yml": app("    volumes:\n      - ./conf:/etc/app:ro\n", "")},
			want:  []string{"app|host-path|volumes|./conf:/etc/app:ro|compose.yml"},
		},
		{
			name:  "a bind of the home directory is a host path",
			files: map[string]string{"compose.yml": app("    volumes:\n      - ~/.ssh:/keys\n", "")},
			want:  []string{"app|host-path|volumes|" + filepath.Join(home, ".ssh") + ":/keys|compose.yml"},
		},
		{
			name: "an env-expanded source that the env makes a host path",
			files: map[string]string{
				".env.sample": "TYPE=canary\nDATA_DIR=/srv/canary\n",
				"compose.yml": app("    volumes:\n      - ${DATA_DIR}:/data\n", ""),
			},
			want: []string{"app|host-path|volumes|/srv/canary:/data|compose.yml"},
		},
		{
			name: "an env-expanded source that the env makes a named volume is fine",
			files: map[string]string{
				".env.sample": "TYPE=canary\nDATA_DIR=data\n",
				"compose.yml": app("    volumes:\n      - ${DATA_DIR}:/data\n", "volumes:\n  data:\n"),
			},
		},
		{
			name: "a named volume whose local driver binds a host directory is a host path",
			files: map[string]string{"compose.yml": app("    volumes:\n      - data:/data\n",
				"volumes:\n  data:\n    driver: local\n    driver_opts:\n      type: none\n      o: bind\n      device: /srv/data\n")},
			want: []string{"app|host-path|volumes|data:/data|compose.yml"},
		},
		{
			name: "a named volume whose driver binds the socket's directory is the socket and a host path",
			files: map[string]string{"compose.yml": app("    volumes:\n      - run:/r\n",
				"volumes:\n  run:\n    driver_opts: {type: none, o: \"bind,ro\", device: /run}\n")},
			want: []string{"app|docker-socket|volumes|run:/r|compose.yml", "app|host-path|volumes|run:/r|compose.yml"},
		},
		{
			name: "a named volume whose driver_opts mount a network share or an overlay of /etc",
			files: map[string]string{"compose.yml": app("    volumes: [\"share:/share\", \"etc:/etc2\"]\n", `volumes:
  share:
    driver_opts: {type: nfs, o: "addr=10.0.0.1,rw", device: ":/export"}
  etc:
    driver: local
    driver_opts: {type: overlay, o: "lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w", device: overlay}
`)},
			want: []string{"app|host-path|volumes|share:/share|compose.yml", "app|host-path|volumes|etc:/etc2|compose.yml"},
		},
		{
			name: "an image mount is not a named volume",
			files: map[string]string{"compose.yml": app(
				"    volumes:\n      - type: image\n        source: alpine:3.20\n        target: /img\n", "")},
			want: []string{"app|host-path|volumes|alpine:3.20:/img|compose.yml"},
		},
		{
			name: "an external network named host",
			files: map[string]string{"compose.yml": app("    networks:\n      - host\n",
				"networks:\n  host:\n    external: true\n")},
			want: []string{"app|host-network|networks|host|compose.yml"},
		},
		{
			name: "a network that takes the name host under another key",
			files: map[string]string{"compose.yml": app("    networks:\n      - outside\n",
				"networks:\n  outside:\n    external: true\n    name: host\n")},
			want: []string{"app|host-network|networks|outside|compose.yml"},
		},
		{
			name:  "cap_add",
			files: map[string]string{"compose.yml": app("    cap_add: [NET_ADMIN, SYS_TIME]\n", "")},
			want:  []string{"app|cap-add|cap_add|NET_ADMIN,SYS_TIME|compose.yml"},
		},
		{
			name:  "sysctls, in a stable order",
			files: map[string]string{"compose.yml": app("    sysctls:\n      net.ipv4.ip_forward: 1\n      net.core.somaxconn: 1024\n", "")},
			want:  []string{"app|sysctls|sysctls|net.core.somaxconn=1024,net.ipv4.ip_forward=1|compose.yml"},
		},
		{
			name: "a port published in host mode",
			files: map[string]string{"compose.yml": app(
				"    ports:\n      - target: 80\n        published: 8080\n        protocol: tcp\n        mode: host\n", "")},
			want: []string{"app|host-port|ports|8080:80/tcp|compose.yml"},
		},
		{
			name: "the keys swarm ignores, each on its own",
			files: map[string]string{"compose.yml": app(`    privileged: true
    devices: ["/dev/fuse:/dev/fuse"]
    network_mode: host
    pid: host
    ipc: host
    userns_mode: host
    security_opt: ["seccomp:unconfined"]
`, "")},
			want: []string{
				"app|privileged|privileged|true|compose.yml",
				"app|devices|devices|/dev/fuse:/dev/fuse:rwm|compose.yml",
				"app|network-mode|network_mode|host|compose.yml",
				"app|pid|pid|host|compose.yml",
				"app|ipc|ipc|host|compose.yml",
				"app|userns-mode|userns_mode|host|compose.yml",
				"app|security-opt|security_opt|seccomp:unconfined|compose.yml",
			},
		},
		{
			name: "a config, a secret and an env_file read from outside the recipe",
			files: map[string]string{"compose.yml": app(`    configs: [stolen]
    secrets: [key]
    env_file: [/etc/environment]
`, `configs:
  stolen:
    file: /etc/passwd
secrets:
  key:
    file: ../../../root/.ssh/id_ed25519
`)},
			want: []string{
				"app|host-file|configs|stolen|compose.yml",
				"app|host-file|secrets|key|compose.yml",
				"app|host-file|env_file|/etc/environment|compose.yml",
			},
		},
		{
			name: "a pre_start hook and a compose job are checked like services, without repeating what they inherit",
			files: map[string]string{"compose.yml": app(`    cap_add: [NET_ADMIN]
    pre_start:
      - image: busybox
        volumes: ["/etc:/host-etc"]
`, `jobs:
  once:
    image: busybox
    triggers: {manual: true}
    privileged: true
`)},
			want: []string{
				"app|cap-add|cap_add|NET_ADMIN|compose.yml",
				"app|host-path|pre_start[0].volumes|/etc:/host-etc|compose.yml",
				"once|privileged|privileged|true|compose.yml",
			},
		},
		{
			name: "named and anonymous volumes, tmpfs, configs and secrets of the recipe, ingress ports and overlay networks are never refused",
			files: map[string]string{
				"app.conf": "listen 80;\n",
				"compose.yml": app(`    volumes:
      - data:/data
      - /var/cache/app
      - type: tmpfs
        target: /tmp
    tmpfs: [/run/app]
    configs:
      - source: conf
        target: /etc/app.conf
    secrets: [db_password]
    ports: ["8080:80"]
    networks: [proxy, internal]
    privileged: false
`, `volumes:
  data:
    labels: {backupbot.backup: "true"}
configs:
  conf:
    file: ./app.conf
secrets:
  db_password:
    external: true
    name: ${STACK_NAME}_db_password_v1
networks:
  proxy:
    external: true
  internal:
`),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			refused, allowed := check(t, load(t, tt.files), Allowances{})
			assert.Equal(t, tt.want, brief(refused))
			assert.Empty(t, allowed, "nothing is allowed without an allowance")
		})
	}
}

func TestHostFileFollowsSymlinksOutOfTheRecipe(t *testing.T) {
	t.Parallel()
	outside := filepath.Join(t.TempDir(), "runner-secret")
	require.NoError(t, os.WriteFile(outside, []byte("token\n"), 0o600))
	dir := writeRecipe(t, map[string]string{
		"compose.yml": app("    configs: [conf, ok]\n", "configs:\n  conf:\n    file: ./innocent.conf\n  ok:\n    file: ./real.conf\n"),
		"real.conf":   "x\n",
	})
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "innocent.conf")))
	refused, _ := check(t, loadDir(t, dir), Allowances{})
	require.Equal(t, []string{"app|host-file|configs|conf|compose.yml"}, brief(refused),
		"the symlink that leads out is refused, the plain file is not")
	assert.Equal(t, "./innocent.conf", refused[0].Source)
	assert.Contains(t, refused[0].Detail, "a symlink to "+outside)
}

func TestCheckWithoutAConfigIsAnError(t *testing.T) {
	t.Parallel()
	_, _, err := Check(context.Background(), nil, "canary", Allowances{})
	require.Error(t, err, "nothing to check must never read as nothing refused")
	_, _, err = Check(context.Background(), &appconfig.Config{}, "canary", Allowances{})
	require.Error(t, err)
}

func TestABindThroughASymlinkIsJudgedWhereItLeads(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	dir := writeRecipe(t, map[string]string{
		"compose.yml": app("    volumes: [\"./conf:/etc/app\", \"./root:/host\", \"./real:/real\"]\n", ""),
		"real/x":      "x\n",
	})
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "conf")))
	require.NoError(t, os.Symlink("/", filepath.Join(dir, "root")))
	cfg := loadDir(t, dir)
	allow := allowances(t, "canary:\n  - {construct: host-path, source: ./conf, reason: its own config dir}\n"+
		"  - {construct: host-path, source: ./real, reason: its own data dir}\n")
	refused, allowed := check(t, cfg, allow)
	assert.Equal(t, []string{
		"app|host-path|volumes|./conf:/etc/app|compose.yml",
		"app|docker-socket|volumes|./root:/host|compose.yml",
		"app|host-path|volumes|./root:/host|compose.yml",
	}, brief(refused), "an allowance for ./conf does not follow ./conf out of the recipe")
	assert.Equal(t, []string{"app|host-path|volumes|./real:/real|compose.yml"}, brief(allowed))
	require.NotEmpty(t, refused)
	assert.Equal(t, outside, refused[0].Source)
	assert.Contains(t, refused[0].Reason(allowPath), "binds ./conf, a symlink to "+outside+": it mounts a path of the CI host")
	assert.Contains(t, refused[1].Reason(allowPath), "binds ./root, a symlink to /: it mounts a directory that holds the Docker socket")
}

func TestAServiceBehindAComposeProfileIsStillChecked(t *testing.T) {
	t.Parallel()
	cfg := load(t, map[string]string{"compose.yml": app("",
		"  sidecar:\n    image: busybox\n    profiles: [debug]\n    volumes: [\"/var/run/docker.sock:/s\"]\n")})
	require.NotContains(t, cfg.Project.Services, "sidecar", "compose-go leaves the profiled service out")
	refused, _ := check(t, cfg, Allowances{})
	assert.Equal(t, []string{"sidecar|docker-socket|volumes|/var/run/docker.sock:/s|compose.yml"}, brief(refused))
}
