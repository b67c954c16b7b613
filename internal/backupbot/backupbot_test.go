package backupbot

import (
	"testing"

	"github.com/docker/docker/api/types/mount"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServiceTarget(t *testing.T) {
	t.Parallel()
	data := []Mount{{Volume: "data", Target: "/var/lib/app"}}
	two := []Mount{{Volume: "data", Target: "/var/lib/app"}, {Volume: "uploads", Target: "/srv/uploads/"}}
	tests := []struct {
		name    string
		labels  map[string]string
		mounts  []Mount
		wantOK  bool
		want    Target
		wantErr string
	}{
		{name: "a service without backupbot labels did not opt in", labels: map[string]string{"traefik.enable": "true"},
			mounts: data},
		{name: "backupbot.backup=false did not opt in", labels: map[string]string{LabelBackup: "false"}, mounts: data},
		{name: "an empty backupbot.backup did not opt in", labels: map[string]string{LabelBackup: " "}, mounts: data},
		{name: "a non-boolean backupbot.backup is an error naming the label",
			labels: map[string]string{LabelBackup: "yes"}, mounts: data, wantErr: `label backupbot.backup="yes": set it to true or false`},
		{name: "opted in with no other label, every volume is covered whole",
			labels: map[string]string{LabelBackup: "true"}, mounts: two, wantOK: true,
			want: Target{Service: "s_app", Paths: []string{"/srv/uploads", "/var/lib/app"}}},
		{name: "backupbot.backup is read case-insensitively", labels: map[string]string{LabelBackup: "True"},
			mounts: data, wantOK: true, want: Target{Service: "s_app", Paths: []string{"/var/lib/app"}}},
		{name: "volumes.<vol>=false leaves that volume out",
			labels: map[string]string{LabelBackup: "true", LabelVolumes + "uploads": "false"}, mounts: two, wantOK: true,
			want: Target{Service: "s_app", Paths: []string{"/var/lib/app"}}},
		{name: "volumes.<vol>=true keeps the volume",
			labels: map[string]string{LabelBackup: "true", LabelVolumes + "uploads": "true"}, mounts: two, wantOK: true,
			want: Target{Service: "s_app", Paths: []string{"/srv/uploads", "/var/lib/app"}}},
		{name: "volumes.<vol>.path limits a volume to relative paths, comma-separated, leading slash read as the root",
			labels: map[string]string{LabelBackup: "true", LabelVolumes + "data.path": "dump.sql, /conf/,a/./b"},
			mounts: two, wantOK: true,
			want: Target{Service: "s_app", Paths: []string{"/srv/uploads", "/var/lib/app/a/b", "/var/lib/app/conf", "/var/lib/app/dump.sql"}}},
		{name: "a volume name holding dots is matched whole",
			labels: map[string]string{LabelBackup: "true", LabelVolumes + "my.data.path": "x"},
			mounts: []Mount{{Volume: "my.data", Target: "/d"}}, wantOK: true, want: Target{Service: "s_app", Paths: []string{"/d/x"}}},
		{name: "a volume actually named <x>.path can be excluded",
			labels: map[string]string{LabelBackup: "true", LabelVolumes + "cache.path": "false"},
			mounts: []Mount{{Volume: "cache.path", Target: "/c"}, {Volume: "data", Target: "/d"}}, wantOK: true,
			want: Target{Service: "s_app", Paths: []string{"/d"}}},
		{name: "a path of . is the whole volume", labels: map[string]string{LabelBackup: "true", LabelVolumes + "data.path": "."},
			mounts: data, wantOK: true, want: Target{Service: "s_app", Paths: []string{"/var/lib/app"}}},
		{name: "a path that leaves the volume with .. is an error naming the label",
			labels:  map[string]string{LabelBackup: "true", LabelVolumes + "data.path": "dump,../../etc/shadow"},
			mounts:  data,
			wantErr: `label backupbot.backup.volumes.data.path: path "../../etc/shadow" leaves the volume`},
		{name: "a .. hidden after a leading slash still leaves the volume",
			labels: map[string]string{LabelBackup: "true", LabelVolumes + "data.path": "/a/../../x"}, mounts: data,
			wantErr: "leaves the volume"},
		{name: "a .. that stays inside the volume is allowed",
			labels: map[string]string{LabelBackup: "true", LabelVolumes + "data.path": "a/../b"}, mounts: data,
			wantOK: true, want: Target{Service: "s_app", Paths: []string{"/var/lib/app/b"}}},
		{name: "an empty path label is an error naming the label",
			labels: map[string]string{LabelBackup: "true", LabelVolumes + "data.path": " , "}, mounts: data,
			wantErr: "label backupbot.backup.volumes.data.path is empty"},
		{name: "a path with a newline is an error",
			labels: map[string]string{LabelBackup: "true", LabelVolumes + "data.path": "a\nb"}, mounts: data,
			wantErr: "control character"},
		{name: "a path label naming a volume the service does not mount is an error naming the label",
			labels: map[string]string{LabelBackup: "true", LabelVolumes + "db.path": "dump"}, mounts: data,
			wantErr: `label backupbot.backup.volumes.db.path names volume "db", which no service of the stack mounts`},
		{name: "an exclude label naming an unmounted volume is an error",
			labels: map[string]string{LabelBackup: "true", LabelVolumes + "db": "false"}, mounts: data,
			wantErr: `label backupbot.backup.volumes.db names volume "db"`},
		{name: "a label with no volume name is an error",
			labels: map[string]string{LabelBackup: "true", LabelVolumes: "false"}, mounts: data,
			wantErr: `names volume ""`},
		{name: "an exclude label that is not a boolean is an error naming the fix",
			labels: map[string]string{LabelBackup: "true", LabelVolumes + "data": "/dump"}, mounts: data,
			wantErr: `label backupbot.backup.volumes.data="/dump": set it to false`},
		{name: "the legacy path label covers exactly its absolute paths",
			labels: map[string]string{LabelBackup: "true", LabelPath: "/data/dump/, /etc/app.conf"}, mounts: data,
			wantOK: true, want: Target{Service: "s_app", Paths: []string{"/data/dump", "/etc/app.conf"}, Legacy: true}},
		{name: "the legacy path label alone with no volumes still covers its paths",
			labels: map[string]string{LabelBackup: "true", LabelPath: "/data"}, wantOK: true,
			want: Target{Service: "s_app", Paths: []string{"/data"}, Legacy: true}},
		{name: "an empty legacy path label is an error naming the label",
			labels: map[string]string{LabelBackup: "true", LabelPath: ""}, mounts: data,
			wantErr: "label backupbot.backup.path is empty"},
		{name: "a relative legacy path is an error", labels: map[string]string{LabelBackup: "true", LabelPath: "data"},
			mounts: data, wantErr: `path "data" must be an absolute path`},
		{name: "a legacy path of / is an error", labels: map[string]string{LabelBackup: "true", LabelPath: "/"},
			mounts: data, wantErr: "must be an absolute path below /"},
		{name: "a legacy path with .. is an error", labels: map[string]string{LabelBackup: "true", LabelPath: "/data/../etc"},
			mounts: data, wantErr: `without ".."`},
		{name: "volume labels win over the legacy label on the same service, as backup-bot-two 2.x reads them",
			labels: map[string]string{LabelBackup: "true", LabelPath: "/nowhere", LabelVolumes + "data.path": "dump"},
			mounts: data, wantOK: true, want: Target{Service: "s_app", Paths: []string{"/var/lib/app/dump"}}},
		{name: "hooks are read and trimmed",
			labels: map[string]string{LabelBackup: "true", LabelPreHook: " dump ", LabelPostHook: "rm dump",
				LabelRestorePreHook: "stop", LabelRestorePostHook: "load"},
			mounts: data, wantOK: true,
			want: Target{Service: "s_app", Paths: []string{"/var/lib/app"}, PreHook: "dump", PostHook: "rm dump",
				RestorePreHook: "stop", RestorePostHook: "load"}},
		{name: "unknown backupbot labels are ignored, as backup-bot-two ignores them",
			labels: map[string]string{LabelBackup: "true", "backupbot.backup.frequency": "daily"}, mounts: data,
			wantOK: true, want: Target{Service: "s_app", Paths: []string{"/var/lib/app"}}},
		{name: "two mounts of one volume give one path each, deduplicated",
			labels: map[string]string{LabelBackup: "true"},
			mounts: []Mount{{Volume: "data", Target: "/a"}, {Volume: "data", Target: "/a/"}}, wantOK: true,
			want: Target{Service: "s_app", Paths: []string{"/a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := ServiceTarget("s_app", tt.labels, tt.mounts)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.False(t, ok)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestStackTargets(t *testing.T) {
	t.Parallel()
	app := Service{Name: "s_app", Labels: map[string]string{LabelBackup: "true", LabelVolumes + "db.path": "backup.sql"},
		Mounts: []Mount{{Volume: "content", Target: "/content"}}}
	db := Service{Name: "s_db", Labels: map[string]string{LabelPreHook: "pg_dump > /pg/backup.sql",
		LabelRestorePostHook: "psql < /pg/backup.sql"}, Mounts: []Mount{{Volume: "db", Target: "/pg"}}}
	cache := Service{Name: "s_cache", Mounts: []Mount{{Volume: "redis", Target: "/r"}}}
	web := Service{Name: "s_web", Labels: map[string]string{"traefik.enable": "true"}}
	tests := []struct {
		name     string
		services []Service
		wantOK   bool
		want     []Target
		wantErr  string
	}{
		{name: "no service opted in: no targets", services: []Service{cache, web}},
		{name: "one opted-in service enables the stack: every volume and hook of every service is covered",
			services: []Service{web, cache, db, app}, wantOK: true,
			want: []Target{
				{Service: "s_app", Paths: []string{"/content"}},
				{Service: "s_cache", Paths: []string{"/r"}},
				{Service: "s_db", Paths: []string{"/pg/backup.sql"}, PreHook: "pg_dump > /pg/backup.sql", RestorePostHook: "psql < /pg/backup.sql"},
			}},
		{name: "a volume label on one service naming another service's volume applies to it",
			services: []Service{app, db}, wantOK: true,
			want: []Target{
				{Service: "s_app", Paths: []string{"/content"}},
				{Service: "s_db", Paths: []string{"/pg/backup.sql"}, PreHook: "pg_dump > /pg/backup.sql", RestorePostHook: "psql < /pg/backup.sql"},
			}},
		{name: "a volume label naming a volume no service mounts is an error",
			services: []Service{app, web}, wantErr: "service s_app: label backupbot.backup.volumes.db.path names volume \"db\""},
		{name: "a bad backupbot.backup on any service is an error",
			services: []Service{app, {Name: "s_x", Labels: map[string]string{LabelBackup: "1"}}}, wantErr: "service s_x: label backupbot.backup=\"1\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := StackTargets(tt.services)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestMountsFromSpec(t *testing.T) {
	t.Parallel()
	got := MountsFromSpec("ex_org", []mount.Mount{
		{Type: mount.TypeVolume, Source: "ex_org_data", Target: "/data"},
		{Type: mount.TypeVolume, Source: "shared-external", Target: "/ext"},
		{Type: mount.TypeVolume, Source: "", Target: "/anon"},
		{Type: mount.TypeBind, Source: "/etc", Target: "/host-etc"},
		{Type: mount.TypeTmpfs, Target: "/tmp"},
		{Type: mount.TypeVolume, Source: "ex_orgother_x", Target: "/x"},
	})
	assert.Equal(t, []Mount{
		{Volume: "data", Target: "/data"},
		{Volume: "shared-external", Target: "/ext"},
		{Volume: "ex_orgother_x", Target: "/x"},
	}, got)
}
