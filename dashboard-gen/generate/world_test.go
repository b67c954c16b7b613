package generate_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/dashboard-gen/fakehistory"
	"coopcloud.tech/cc-ci/dashboard-gen/generate"
	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
)

const (
	owner = "coop-cloud"
	name  = "cc-ci"
)

// world is a FAKE Drone holding a history, a runs dir with the results the plugin left, and the
// settings of a generator that reads them.
type world struct {
	drone    *fakedrone.Server
	runsDir  string
	settings generate.Settings
}

// newWorld seeds runs into a fresh FAKE Drone and their results.json into a runs dir.
func newWorld(t testing.TB, runs []fakehistory.Run, recipes ...string) *world {
	t.Helper()
	dir := t.TempDir()
	w := &world{drone: fakedrone.New(fakedrone.Config{}), runsDir: filepath.Join(dir, "runs")}
	t.Cleanup(w.drone.Close)
	w.seed(t, runs...)
	token := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(token, []byte(fakedrone.DefaultToken+"\n"), 0o600))
	w.settings = generate.Settings{DroneURL: w.drone.URL, DroneRepo: owner + "/" + name, DroneTokenFile: token,
		RunsDir: w.runsDir, Out: filepath.Join(dir, "site"), StatePath: filepath.Join(dir, "state.json"),
		Title: "cc-ci test results", Timeout: 10 * time.Second, LogFormat: "text", LogLevel: "warn"}
	for i, r := range recipes {
		if i > 0 {
			w.settings.Recipes += ","
		}
		w.settings.Recipes += r
	}
	require.NoError(t, w.settings.Validate())
	return w
}

// seed adds runs to the FAKE Drone and their results to the runs dir.
func (w *world) seed(t testing.TB, runs ...fakehistory.Run) {
	t.Helper()
	numbers, err := w.drone.Seed(owner, name, fakehistory.Histories(runs)...)
	require.NoError(t, err)
	for i, n := range numbers {
		require.Equal(t, runs[i].Number, n, "a run's results name the build number it was made for")
	}
	require.NoError(t, fakehistory.WriteRunsDir(w.runsDir, runs))
}

// generate runs the generator once.
func (w *world) generate(t testing.TB) generate.Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stats, err := w.settings.Execute(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	return stats
}

// read is a file of the site.
func (w *world) read(t testing.TB, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(w.settings.Out, rel))
	require.NoError(t, err)
	return string(data)
}
