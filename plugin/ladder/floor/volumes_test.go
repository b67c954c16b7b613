package floor_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"coopcloud.tech/cc-ci/internal/swarm"
	"coopcloud.tech/cc-ci/plugin/ladder/floor"
	"coopcloud.tech/cc-ci/plugin/ladder/floor/fakedocker"
	"github.com/docker/docker/api/types/mount"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const stack = "samp-1a2b3c_ci_local"

func vol(name, target string) mount.Mount {
	return mount.Mount{Type: mount.TypeVolume, Source: stack + "_" + name, Target: target}
}

func roVol(name, target string) mount.Mount {
	m := vol(name, target)
	m.ReadOnly = true
	return m
}

func svc(name string, mounts ...mount.Mount) swarm.StackService {
	return swarm.StackService{Name: stack + "_" + name, Labels: map[string]string{}, Mounts: mounts, Desired: 1}
}

// recipeFake is a stack like a real recipe's: an app with a data volume and an uploads volume
// that a worker also mounts (read-only), a db with its own volume, and a tmpfs and an anonymous
// volume, which are no named volumes.
func recipeFake() *fakedocker.Fake {
	return &fakedocker.Fake{
		Services: []swarm.StackService{
			svc("app", vol("data", "/var/lib/app"), vol("uploads", "/srv/uploads"),
				mount.Mount{Type: mount.TypeTmpfs, Target: "/tmp"}, mount.Mount{Type: mount.TypeVolume, Target: "/cache"}),
			svc("db", vol("db", "/var/lib/postgresql/data")),
			svc("worker", roVol("uploads", "/uploads")),
		},
		Containers: map[string]string{stack + "_app": "c-app", stack + "_db": "c-db", stack + "_worker": "c-worker"},
		Volumes: map[string]fakedocker.Files{
			stack + "_data":    {"app.db": {Content: []byte("rows"), Meta: swarm.FileMeta{Mode: 0o600}}},
			stack + "_uploads": {},
			stack + "_db":      {"PG_VERSION": {Content: []byte("16\n")}},
		},
	}
}

func newFloor(fake *fakedocker.Fake) (*floor.Floor, *bytes.Buffer) {
	var out bytes.Buffer
	return &floor.Floor{Docker: fake, Stack: stack, Out: &out}, &out
}

// upgradeContainers acts out an upgrade's redeploy: every task gets a new container.
func upgradeContainers(fake *fakedocker.Fake) {
	for s, id := range fake.Containers {
		fake.Containers[s] = id + "-v2"
	}
}

func TestMarkVolumesMarksEachNamedVolumeOnceAndAGoodUpgradeKeepsThem(t *testing.T) {
	t.Parallel()
	fake := recipeFake()
	f, out := newFloor(fake)

	n, err := f.MarkVolumes(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 3, n, "data, db and uploads; tmpfs and anonymous volumes are not named volumes")
	assert.Empty(t, f.Uncovered())
	for _, v := range []string{"data", "db", "uploads"} {
		marker, ok := fake.Volumes[stack+"_"+v][floor.MarkerVolume]
		require.True(t, ok, "volume %s holds the marker at its root", v)
		assert.Contains(t, string(marker.Content), "cc-ci data floor")
		assert.Equal(t, swarm.FileMeta{Mode: 0o644}, marker.Meta)
	}
	assert.Equal(t, "rows", string(fake.Volumes[stack+"_data"]["app.db"].Content), "app data untouched")
	assert.Len(t, writes(fake), 3, "uploads is mounted twice but marked once")
	assert.Contains(t, out.String(), "marked volume uploads at /srv/uploads/.ccci-floor-volume (service app)")

	// The upgrade: new containers, the worker now mounts uploads elsewhere, the app is gone and a
	// renamed service mounts its volumes.
	upgradeContainers(fake)
	fake.Services[0].Name = stack + "_web"
	fake.Containers[stack+"_web"] = "c-web"
	fake.Services[2].Mounts[0].Target = "/mnt/uploads"
	require.NoError(t, f.CheckVolumes(t.Context()))
	assert.Contains(t, out.String(), "volume data holds its mark after the upgrade (/var/lib/app/.ccci-floor-volume, service web)")
}

// A marker is written through a read-write mount, whichever service comes first.
func TestMarkVolumesWritesThroughAReadWriteMount(t *testing.T) {
	t.Parallel()
	fake := &fakedocker.Fake{
		Services:   []swarm.StackService{svc("a-reader", roVol("shared", "/ro")), svc("b-writer", vol("shared", "/rw"))},
		Containers: map[string]string{stack + "_a-reader": "c-r", stack + "_b-writer": "c-w"},
	}
	f, _ := newFloor(fake)
	n, err := f.MarkVolumes(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, []string{"WriteFile c-w /rw/.ccci-floor-volume"}, writes(fake))
	require.NoError(t, f.CheckVolumes(t.Context()))
}

func TestCheckVolumesReportsEachLossWithVolumeServiceAndWhatWasFound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		upgrade func(fake *fakedocker.Fake)
		want    []string // in the error, in order
	}{
		{name: "a renamed volume is no longer mounted",
			upgrade: func(fake *fakedocker.Fake) { fake.Services[1].Mounts[0] = vol("pgdata", "/var/lib/postgresql/data") },
			want: []string{"data lost across the upgrade", "volume db (service db, /var/lib/postgresql/data/.ccci-floor-volume)",
				"want the marker written before the upgrade", "found no service mounts the volume any more (was mounted at /var/lib/postgresql/data)"}},
		{name: "a volume re-created empty has no marker",
			upgrade: func(fake *fakedocker.Fake) { fake.Volumes[stack+"_data"] = fakedocker.Files{} },
			want:    []string{"volume data (service app, /var/lib/app/.ccci-floor-volume)", "found no such file: the volume was re-created or wiped"}},
		{name: "a wipe on start removes the marker",
			upgrade: func(fake *fakedocker.Fake) { delete(fake.Volumes[stack+"_uploads"], floor.MarkerVolume) },
			want:    []string{"volume uploads", "no such file"}},
		{name: "a volume replaced by other data holds another marker",
			upgrade: func(fake *fakedocker.Fake) {
				fake.Volumes[stack+"_db"][floor.MarkerVolume] = fakedocker.File{Content: []byte("cc-ci data floor volume marker 0000 (safe to delete)\n")}
			},
			want: []string{"volume db", `other content ("cc-ci data floor volume marker 0000 (safe to delete)\n")`, "the volume was re-created or its data replaced"}},
		{name: "a volume only a service scaled to zero mounts is lost",
			upgrade: func(fake *fakedocker.Fake) { fake.Services[1].Desired = 0; delete(fake.Containers, stack+"_db") },
			want:    []string{"volume db", "only services that swarm does not keep running mount it: db"}},
		{name: "the marker's path turned into a directory",
			upgrade: func(fake *fakedocker.Fake) {
				fake.Volumes[stack+"_db"][floor.MarkerVolume] = fakedocker.File{Dir: true}
			},
			want: []string{"volume db", "is a directory"}},
		{name: "two volumes lost are both listed",
			upgrade: func(fake *fakedocker.Fake) {
				fake.Volumes[stack+"_data"] = fakedocker.Files{}
				fake.Volumes[stack+"_db"] = fakedocker.Files{}
			},
			want: []string{"volume data", "; volume db"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := recipeFake()
			f, _ := newFloor(fake)
			_, err := f.MarkVolumes(t.Context())
			require.NoError(t, err)
			upgradeContainers(fake)
			tt.upgrade(fake)

			err = f.CheckVolumes(t.Context())
			var lost *floor.LostError
			require.ErrorAs(t, err, &lost)
			assert.True(t, lost.DataLost())
			assertInOrder(t, err.Error(), tt.want)
		})
	}
}

func TestLostErrorListsEachLoss(t *testing.T) {
	t.Parallel()
	fake := recipeFake()
	f, _ := newFloor(fake)
	_, err := f.MarkVolumes(t.Context())
	require.NoError(t, err)
	fake.Volumes[stack+"_data"] = fakedocker.Files{}
	fake.Services[1].Mounts = nil

	var lost *floor.LostError
	require.ErrorAs(t, f.CheckVolumes(t.Context()), &lost)
	assert.Equal(t, "the upgrade", lost.Step)
	require.Len(t, lost.Losses, 2)
	assert.Equal(t, floor.Loss{Volume: "data", Service: "app", Path: "/var/lib/app/.ccci-floor-volume",
		Want: lost.Losses[0].Want, Got: "no such file: the volume was re-created or wiped"}, lost.Losses[0])
	assert.Equal(t, "db", lost.Losses[1].Volume)
	assert.Equal(t, "db", lost.Losses[1].Service, "the service that mounted it before")
	assert.Regexp(t, `^the marker written before the upgrade \(cc-ci data floor volume marker [0-9a-f]{32} \(safe to delete\)\)$`,
		lost.Losses[0].Want)
}

// A marker left by an earlier run (or an old copy of the volume) never counts: each run writes a
// new random value.
func TestAStaleMarkerFromAnEarlierRunIsALoss(t *testing.T) {
	t.Parallel()
	fake := recipeFake()
	earlier, _ := newFloor(fake)
	_, err := earlier.MarkVolumes(t.Context())
	require.NoError(t, err)
	old := fakedocker.Copy(fake.Volumes)

	f, _ := newFloor(fake)
	_, err = f.MarkVolumes(t.Context())
	require.NoError(t, err)
	assert.NotEqual(t, old[stack+"_data"][floor.MarkerVolume].Content, fake.Volumes[stack+"_data"][floor.MarkerVolume].Content,
		"markers are random per run")
	fake.Volumes = old // the upgrade brought back an old copy of every volume

	var lost *floor.LostError
	require.ErrorAs(t, f.CheckVolumes(t.Context()), &lost)
	assert.Len(t, lost.Losses, 3)
}

func TestNothingToMarkIsZeroNeverAPass(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fake      *fakedocker.Fake
		uncovered []string
	}{
		{name: "a stateless stack has no named volume",
			fake: &fakedocker.Fake{Services: []swarm.StackService{svc("app", mount.Mount{Type: mount.TypeTmpfs, Target: "/tmp"})},
				Containers: map[string]string{stack + "_app": "c1"}}},
		{name: "a volume only a service scaled to zero mounts cannot be marked",
			fake:      &fakedocker.Fake{Services: []swarm.StackService{{Name: stack + "_backup", Mounts: []mount.Mount{vol("data", "/d")}}}},
			uncovered: []string{"volume data: only services that swarm does not keep running mount it: backup"}},
		{name: "a job's volume cannot be marked",
			fake: &fakedocker.Fake{Services: []swarm.StackService{{Name: stack + "_cron", Mounts: []mount.Mount{vol("data", "/d")}, Desired: 1, Job: true}},
				Containers: map[string]string{stack + "_cron": "c1"}},
			uncovered: []string{"volume data: only services that swarm does not keep running mount it: cron"}},
		{name: "a volume mounted read-only everywhere cannot be marked",
			fake: &fakedocker.Fake{Services: []swarm.StackService{svc("app", roVol("data", "/d"))},
				Containers: map[string]string{stack + "_app": "c1"}},
			uncovered: []string{"volume data: every running service that mounts it mounts it read-only"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, _ := newFloor(tt.fake)
			n, err := f.MarkVolumes(t.Context())
			require.NoError(t, err)
			assert.Zero(t, n)
			assert.Equal(t, tt.uncovered, f.Uncovered())
			assert.Empty(t, writes(tt.fake))

			err = f.CheckVolumes(t.Context())
			assert.ErrorIs(t, err, floor.ErrNothingMarked, "checking nothing is never a pass")
			assert.False(t, isLost(err))
		})
	}
}

// Infrastructure faults are plain errors, never a *LostError, so the ladder reports them as
// unverified instead of blaming the recipe.
func TestVolumeInfrastructureFaultsAreNotLosses(t *testing.T) {
	t.Parallel()
	apiDown := errors.New("Cannot connect to the Docker daemon at unix:///var/run/docker.sock")
	tests := []struct {
		name   string
		break_ func(fake *fakedocker.Fake)
		mark   bool // the fault hits the mark (else the check)
		want   string
	}{
		{name: "listing services fails at mark", mark: true,
			break_: func(fake *fakedocker.Fake) { fake.Fail = map[string]error{"StackServices": apiDown} }, want: "mark volumes: Cannot connect"},
		{name: "writing the marker fails", mark: true,
			break_: func(fake *fakedocker.Fake) { fake.Fail = map[string]error{"WriteFile": apiDown} }, want: "mark volume data through service app: Cannot connect"},
		{name: "a service that should run has no running task at mark", mark: true,
			break_: func(fake *fakedocker.Fake) { delete(fake.Containers, stack+"_db") },
			want:   "mark volume db: db: no running task, although swarm should keep one running"},
		{name: "listing services fails at check",
			break_: func(fake *fakedocker.Fake) { fake.Fail = map[string]error{"StackServices": apiDown} }, want: "check volumes: Cannot connect"},
		{name: "reading the marker fails",
			break_: func(fake *fakedocker.Fake) { fake.Fail = map[string]error{"ReadFile": apiDown} }, want: "check volume data through service app: Cannot connect"},
		{name: "finding the container fails",
			break_: func(fake *fakedocker.Fake) { fake.Fail = map[string]error{"RunningContainer": apiDown} },
			want:   "check volume data: find a running container of service app: Cannot connect"},
		{name: "a service that should run has no running task at check",
			break_: func(fake *fakedocker.Fake) { fake.Containers = map[string]string{} },
			want:   "check volume data: app: no running task"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := recipeFake()
			f, _ := newFloor(fake)
			if tt.mark {
				tt.break_(fake)
				_, err := f.MarkVolumes(t.Context())
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.want)
				assert.False(t, isLost(err))
				return
			}
			_, err := f.MarkVolumes(t.Context())
			require.NoError(t, err)
			tt.break_(fake)
			err = f.CheckVolumes(t.Context())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.False(t, isLost(err), "%v", err)
		})
	}
}

// A proven loss stands even when another volume could not be checked.
func TestALossAndAnInfrastructureFaultTogetherAreALoss(t *testing.T) {
	t.Parallel()
	fake := recipeFake()
	f, _ := newFloor(fake)
	_, err := f.MarkVolumes(t.Context())
	require.NoError(t, err)
	fake.Volumes[stack+"_data"] = fakedocker.Files{}
	delete(fake.Containers, stack+"_db")

	err = f.CheckVolumes(t.Context())
	var lost *floor.LostError
	require.ErrorAs(t, err, &lost)
	assert.Len(t, lost.Losses, 1)
	assert.ErrorIs(t, err, swarm.ErrNoRunningTask, "the fault is reported too")
}

// writes lists the WriteFile calls, without their content.
func writes(fake *fakedocker.Fake) []string {
	var out []string
	for _, c := range fake.Calls {
		if strings.HasPrefix(c, "WriteFile ") {
			fields := strings.Fields(c)
			out = append(out, strings.Join(fields[:3], " "))
		}
	}
	return out
}

func isLost(err error) bool {
	var lost interface{ DataLost() bool }
	return errors.As(err, &lost) && lost.DataLost()
}

func assertInOrder(t *testing.T, s string, parts []string) {
	t.Helper()
	rest := s
	for _, p := range parts {
		i := strings.Index(rest, p)
		if !assert.GreaterOrEqual(t, i, 0, "%q not found (in order) in:\n%s", p, s) {
			return
		}
		rest = rest[i+len(p):]
	}
}
