package floor_test

import (
	"errors"
	"fmt"
	"testing"

	"coopcloud.tech/cc-ci/internal/swarm"
	"coopcloud.tech/cc-ci/plugin/ladder/floor"
	"coopcloud.tech/cc-ci/plugin/ladder/floor/fakedocker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var dbFileMeta = swarm.FileMeta{Mode: 0o600, UID: 70, GID: 70}

// backupFake is a recipe with today's volume-based backup labels: the app's volume is limited to
// a database file and an uploads directory, the db's to a dump its pre-hook writes (absent before
// the first backup). A worker mounts the app's volume too, so a backup reaches the same places
// through it.
func backupFake() *fakedocker.Fake {
	app := svc("app", vol("data", "/var/lib/app"))
	app.Labels = map[string]string{"backupbot.backup": "true",
		"backupbot.backup.volumes.data.path": "app.db,uploads",
		"backupbot.restore.post-hook":        "/app migrate"}
	db := svc("db", vol("db", "/var/lib/db"))
	db.Labels = map[string]string{"backupbot.backup.volumes.db.path": "dump.sql",
		"backupbot.backup.pre-hook": "/app dump /var/lib/db/dump.sql"}
	return &fakedocker.Fake{
		Services:   []swarm.StackService{app, db, svc("worker", vol("data", "/w"))},
		Containers: map[string]string{stack + "_app": "c-app", stack + "_db": "c-db", stack + "_worker": "c-worker"},
		Volumes: map[string]fakedocker.Files{
			stack + "_data": {
				"app.db":          {Content: []byte("SQLite format 3\x00 rows"), Meta: dbFileMeta},
				"uploads":         {Dir: true, Meta: swarm.FileMeta{Mode: 0o755}},
				"uploads/cat.png": {Content: []byte("png")},
				"cache.bin":       {Content: []byte("not backed up")},
			},
			stack + "_db": {"PG_VERSION": {Content: []byte("16")}},
		},
	}
}

// backUp acts out the backup of backupFake: the db's pre-hook writes its dump, then the volumes
// are copied.
func backUp(fake *fakedocker.Fake) map[string]fakedocker.Files {
	fake.Volumes[stack+"_db"]["dump.sql"] = fakedocker.File{Content: []byte("COPY notes FROM stdin;"), Meta: swarm.FileMeta{Mode: 0o640, UID: 999}}
	return fakedocker.Copy(fake.Volumes)
}

// markAndBackUp marks, backs up and mutates, as the ladder does.
func markAndBackUp(t *testing.T, fake *fakedocker.Fake, f *floor.Floor) map[string]fakedocker.Files {
	t.Helper()
	n, err := f.MarkBackupPaths(t.Context())
	require.NoError(t, err)
	require.Equal(t, 3, n)
	snapshot := backUp(fake)
	require.NoError(t, f.MutateBackupPaths(t.Context()))
	return snapshot
}

func TestBackupPathsMarkedChangedAndProvenBackAfterARestore(t *testing.T) {
	t.Parallel()
	fake := backupFake()
	f, out := newFloor(fake)

	n, err := f.MarkBackupPaths(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 3, n, "app.db, uploads and the dump to come; the worker reaches the same places and adds none")
	assert.Empty(t, f.Uncovered())
	assert.Contains(t, out.String(), "dump.sql in volume db is absent before the backup (/var/lib/db/dump.sql, service db): what the backup writes there will be its mark")
	data := fake.Volumes[stack+"_data"]
	assert.Contains(t, string(data["uploads/"+floor.MarkerBackup].Content), "cc-ci data floor backup marker")
	assert.Equal(t, "SQLite format 3\x00 rows", string(data["app.db"].Content), "a labelled file is only read")
	assert.NotContains(t, data, floor.MarkerVolume)
	assert.Equal(t, []string{"WriteFile c-app /var/lib/app/uploads/.ccci-floor-backup"}, writes(fake))
	snapshot := backUp(fake)

	require.NoError(t, f.MutateBackupPaths(t.Context()))
	assert.Empty(t, f.Uncovered())
	data = fake.Volumes[stack+"_data"]
	assert.NotEqual(t, snapshot[stack+"_data"]["uploads/"+floor.MarkerBackup].Content, data["uploads/"+floor.MarkerBackup].Content)
	assert.Contains(t, string(data["app.db"].Content), "overwrote this file after the backup")
	assert.Equal(t, dbFileMeta, data["app.db"].Meta, "an overwritten file keeps its mode and owner")
	dump := fake.Volumes[stack+"_db"]["dump.sql"]
	assert.Contains(t, string(dump.Content), "overwrote this file after the backup", "what the backup wrote is adopted, then changed")
	assert.Equal(t, swarm.FileMeta{Mode: 0o640, UID: 999}, dump.Meta)

	fake.Volumes = fakedocker.Copy(snapshot) // the restore
	upgradeContainers(fake)                  // and it restarted the services
	require.NoError(t, f.CheckBackupPaths(t.Context()))
	assert.Contains(t, out.String(), "app.db in volume data holds its mark after the restore (/var/lib/app/app.db, service app)")
	assert.Contains(t, out.String(), "dump.sql in volume db holds its mark after the restore (/var/lib/db/dump.sql, service db)")
}

func TestCheckBackupPathsReportsWhatTheRestoreDidNotBringBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		restore func(fake *fakedocker.Fake, snapshot map[string]fakedocker.Files)
		want    []string
	}{
		{name: "a restore that does nothing leaves the changed values",
			restore: func(*fakedocker.Fake, map[string]fakedocker.Files) {},
			want: []string{"data lost across the restore", "volume data (service app, /var/lib/app/app.db)",
				`want its content at backup time ("SQLite format 3\x00 rows")`,
				"found the value written after the backup: the restore did not put the backed-up data back",
				"volume data (service app, /var/lib/app/uploads/.ccci-floor-backup)", "want the marker written before the backup (cc-ci data floor backup marker"}},
		{name: "an empty backup restores nothing into a wiped volume",
			restore: func(fake *fakedocker.Fake, _ map[string]fakedocker.Files) {
				fake.Volumes[stack+"_data"] = fakedocker.Files{"uploads": {Dir: true}}
			},
			want: []string{"app.db", "found no such file: the backup does not hold it, or the restore does not put it back (or the restore post-hook \"/app migrate\" removes it)",
				"uploads/.ccci-floor-backup", "no such file"}},
		{name: "a restore of another snapshot brings back other content",
			restore: func(fake *fakedocker.Fake, snapshot map[string]fakedocker.Files) {
				fake.Volumes = fakedocker.Copy(snapshot)
				fake.Volumes[stack+"_data"]["app.db"] = fakedocker.File{Content: []byte("an older database")}
			},
			want: []string{"app.db", `found other content ("an older database"): the restore put back something other than this run's backup`}},
		{name: "a restored directory that lost its marker",
			restore: func(fake *fakedocker.Fake, snapshot map[string]fakedocker.Files) {
				fake.Volumes = fakedocker.Copy(snapshot)
				delete(fake.Volumes[stack+"_data"], "uploads/"+floor.MarkerBackup)
			},
			want: []string{"uploads/.ccci-floor-backup", "no such file"}},
		{name: "a restore that leaves the volume unmounted",
			restore: func(fake *fakedocker.Fake, snapshot map[string]fakedocker.Files) {
				fake.Volumes = fakedocker.Copy(snapshot)
				fake.Services[0].Mounts, fake.Services[2].Mounts = nil, nil
			},
			want: []string{"app.db", "found no service mounts the volume any more"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := backupFake()
			f, _ := newFloor(fake)
			snapshot := markAndBackUp(t, fake, f)
			tt.restore(fake, snapshot)

			err := f.CheckBackupPaths(t.Context())
			var lost *floor.LostError
			require.ErrorAs(t, err, &lost)
			assert.True(t, lost.DataLost())
			assert.Equal(t, "the restore", lost.Step)
			assertInOrder(t, err.Error(), tt.want)
		})
	}
}

// Legacy labels name absolute paths, which may lie outside every volume: such a path is reached
// in the labelled service's own containers.
func TestLegacyBackupPathLabels(t *testing.T) {
	t.Parallel()
	app := svc("app", vol("data", "/var/lib/app"))
	app.Labels = map[string]string{"backupbot.backup": "true", "backupbot.backup.path": "/etc/app/config.yml,/var/lib/app"}
	fake := &fakedocker.Fake{
		Services:   []swarm.StackService{app},
		Containers: map[string]string{stack + "_app": "c-app"},
		Rootfs: map[string]fakedocker.Files{"c-app": {"/etc": {Dir: true}, "/etc/app": {Dir: true},
			"/etc/app/config.yml": {Content: []byte("listen: 8080\n")}}},
	}
	f, _ := newFloor(fake)
	n, err := f.MarkBackupPaths(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Contains(t, fake.Volumes[stack+"_data"], floor.MarkerBackup, "the volume root is a covered directory")
	require.NoError(t, f.MutateBackupPaths(t.Context()))
	assert.Contains(t, string(fake.Rootfs["c-app"]["/etc/app/config.yml"].Content), "overwrote this file")

	var lost *floor.LostError
	require.ErrorAs(t, f.CheckBackupPaths(t.Context()), &lost)
	require.Len(t, lost.Losses, 2)
	assert.Equal(t, floor.Loss{Service: "app", Path: "/etc/app/config.yml", Want: `its content at backup time ("listen: 8080\n")`,
		Got: "the value written after the backup: the restore did not put the backed-up data back"}, lost.Losses[0])
	assert.Contains(t, lost.Error(), "/etc/app/config.yml in service app: want")
}

func TestNoBackupPathToMarkIsZeroNeverAPass(t *testing.T) {
	t.Parallel()
	bad := backupFake()
	bad.Services[0].Labels["backupbot.backup.volumes.nosuch.path"] = "x"
	idle := backupFake()
	idle.Services = idle.Services[:1]
	idle.Services[0].Desired = 0
	tests := []struct {
		name      string
		fake      *fakedocker.Fake
		uncovered string
	}{
		{name: "no service opted into backups", fake: recipeFake(), uncovered: "no service declares backupbot.backup=true"},
		{name: "labels the backup cannot read", fake: bad, uncovered: `the backup labels cannot be read: service samp-1a2b3c_ci_local_app: label backupbot.backup.volumes.nosuch.path names volume "nosuch"`},
		{name: "only a service scaled to zero mounts the covered paths", fake: idle,
			uncovered: "app.db in volume data: only services that swarm does not keep running mount it: app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, _ := newFloor(tt.fake)
			n, err := f.MarkBackupPaths(t.Context())
			require.NoError(t, err)
			assert.Zero(t, n)
			require.NotEmpty(t, f.Uncovered())
			assert.Contains(t, f.Uncovered()[0], tt.uncovered)
			assert.Empty(t, writes(tt.fake))
			assert.ErrorIs(t, f.MutateBackupPaths(t.Context()), floor.ErrNothingMarked)
			err = f.CheckBackupPaths(t.Context())
			assert.ErrorIs(t, err, floor.ErrNothingMarked, "checking nothing is never a pass")
			assert.False(t, isLost(err))
		})
	}
}

// A place the backup itself changed (a pre-hook regenerates a dump, a post-hook clears a
// directory) cannot prove anything: it is dropped as uncovered, never reported as lost.
func TestAPlaceTheBackupItselfChangesIsDropped(t *testing.T) {
	t.Parallel()
	fake := backupFake()
	f, _ := newFloor(fake)
	n, err := f.MarkBackupPaths(t.Context())
	require.NoError(t, err)
	require.Equal(t, 3, n)
	fake.Volumes[stack+"_data"]["app.db"] = fakedocker.File{Content: []byte("regenerated by the pre-hook")}
	snapshot := backUp(fake)

	require.NoError(t, f.MutateBackupPaths(t.Context()))
	require.Len(t, f.Uncovered(), 1)
	assert.Contains(t, f.Uncovered()[0], `app.db in volume data changed during the backup itself (now other content ("regenerated by the pre-hook"))`)
	assert.Equal(t, "regenerated by the pre-hook", string(fake.Volumes[stack+"_data"]["app.db"].Content), "a dropped place is not changed")
	fake.Volumes = snapshot
	require.NoError(t, f.CheckBackupPaths(t.Context()))

	// When the backup changed every place, nothing is left to prove.
	fake = backupFake()
	f, _ = newFloor(fake)
	_, err = f.MarkBackupPaths(t.Context())
	require.NoError(t, err)
	fake.Volumes[stack+"_data"] = fakedocker.Files{"uploads": {Dir: true}}
	err = f.MutateBackupPaths(t.Context())
	assert.ErrorIs(t, err, floor.ErrNothingMarked)
	assert.Equal(t, []string{
		"app.db in volume data changed during the backup itself (now no such file): a backup hook rewrites it, so the floor cannot tell what the snapshot holds",
		"uploads in volume data changed during the backup itself (now no such file): a backup hook rewrites it, so the floor cannot tell what the snapshot holds",
		"dump.sql in volume db is absent before and after the backup: the backup writes nothing there"}, f.Uncovered())
	assert.ErrorIs(t, f.CheckBackupPaths(t.Context()), floor.ErrNothingMarked)
}

func TestBackupInfrastructureFaultsAreNotLosses(t *testing.T) {
	t.Parallel()
	apiDown := errors.New("Error response from daemon: i/o timeout")
	tests := []struct {
		name string
		step string // mark, mutate or check: where the fault hits
		fail string // the fake's method that fails
		want string
	}{
		{name: "stat fails at mark", step: "mark", fail: "StatPath", want: "mark app.db in volume data through service app: Error response"},
		{name: "read fails at mark", step: "mark", fail: "ReadFile", want: "read app.db in volume data through service app: Error response"},
		{name: "write fails at mark", step: "mark", fail: "WriteFile", want: "mark uploads in volume data through service app: Error response"},
		{name: "list fails at mutate", step: "mutate", fail: "StackServices", want: "mutate backup paths: Error response"},
		{name: "write fails at mutate", step: "mutate", fail: "WriteFile", want: "mutate app.db in volume data through service app: Error response"},
		{name: "read fails at check", step: "check", fail: "ReadFile", want: "check app.db in volume data through service app: Error response"},
		{name: "no container at check", step: "check", fail: "RunningContainer", want: "check app.db in volume data: find a running container of service app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := backupFake()
			f, _ := newFloor(fake)
			var err error
			for _, step := range []string{"mark", "mutate", "check"} {
				if step == tt.step {
					fake.Fail = map[string]error{tt.fail: apiDown}
				}
				switch step {
				case "mark":
					_, err = f.MarkBackupPaths(t.Context())
				case "mutate":
					err = f.MutateBackupPaths(t.Context())
				case "check":
					err = f.CheckBackupPaths(t.Context())
				}
				if step == tt.step {
					break
				}
				require.NoError(t, err, step)
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.False(t, isLost(err), "%v", err)
		})
	}
}

// A directory the backup's pre-hook creates (the legacy sample recipe's /data/dump) is proven by
// the files the backup wrote into it, up to a few.
func TestADirectoryTheBackupCreatesIsProvenByItsFiles(t *testing.T) {
	t.Parallel()
	app := svc("app", vol("data", "/data"))
	app.Labels = map[string]string{"backupbot.backup": "true", "backupbot.backup.path": "/data/dump",
		"backupbot.backup.pre-hook": "/app dump /data/dump/dump.json"}
	fake := &fakedocker.Fake{Services: []swarm.StackService{app}, Containers: map[string]string{stack + "_app": "c-app"},
		Volumes: map[string]fakedocker.Files{stack + "_data": {"db.json": {Content: []byte("{}")}}}}
	f, _ := newFloor(fake)
	n, err := f.MarkBackupPaths(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Empty(t, writes(fake), "nothing is created before the backup")

	files := fake.Volumes[stack+"_data"]
	files["dump"] = fakedocker.File{Dir: true}
	files["dump/dump.json"] = fakedocker.File{Content: []byte(`{"k":"v"}`)}
	for i := range 12 {
		files[fmt.Sprintf("dump/part-%02d", i)] = fakedocker.File{Content: []byte{byte(i)}}
	}
	snapshot := fakedocker.Copy(fake.Volumes)
	require.NoError(t, f.MutateBackupPaths(t.Context()))
	assert.Len(t, writes(fake), 8, "at most 8 files of the directory are adopted")
	assert.Contains(t, string(files["dump/dump.json"].Content), "overwrote this file after the backup")

	var lost *floor.LostError
	require.ErrorAs(t, f.CheckBackupPaths(t.Context()), &lost, "a restore that does nothing")
	assert.Len(t, lost.Losses, 8)
	assert.Equal(t, "/data/dump/dump.json", lost.Losses[0].Path)
	assert.Equal(t, "data", lost.Losses[0].Volume)

	fake.Volumes = fakedocker.Copy(snapshot)
	require.NoError(t, f.CheckBackupPaths(t.Context()))
}

// A path absent before the backup that the backup does not write either proves nothing.
func TestAPathTheBackupDoesNotWriteIsDropped(t *testing.T) {
	t.Parallel()
	fake := backupFake()
	f, _ := newFloor(fake)
	n, err := f.MarkBackupPaths(t.Context())
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.NoError(t, f.MutateBackupPaths(t.Context()), "no pre-hook ran: the dump is not there")
	assert.Equal(t, []string{"dump.sql in volume db is absent before and after the backup: the backup writes nothing there"}, f.Uncovered())
	assert.NotContains(t, fake.Volumes[stack+"_db"], "dump.sql", "nothing is created")

	only := backupFake()
	only.Services = only.Services[1:2]
	only.Services[0].Labels["backupbot.backup"] = "true"
	f, _ = newFloor(only)
	n, err = f.MarkBackupPaths(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	assert.ErrorIs(t, f.CheckBackupPaths(t.Context()), floor.ErrNothingMarked, "checking before the mutation settles nothing")
	assert.ErrorIs(t, f.MutateBackupPaths(t.Context()), floor.ErrNothingMarked)
	assert.ErrorIs(t, f.CheckBackupPaths(t.Context()), floor.ErrNothingMarked)
}
