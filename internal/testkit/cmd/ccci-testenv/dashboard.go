package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
)

// dashboardIndex is where bridge-demo leaves the dashboard's index.html under its work dir.
func dashboardIndex(work string) string {
	return filepath.Join(work, "dashboard", "site", "index.html")
}

// renderDashboard runs the real cc-ci-dashboard once against the FAKE Drone's API and the demo's
// runs dir, as the systemd timer would, and prints where the site is. Its log goes to out.
func renderDashboard(ctx context.Context, c demoConfig, droneURL string, out io.Writer) error {
	fmt.Fprintf(out, "\n=== the REAL cc-ci-dashboard reads the FAKE Drone's builds and the runs dir\n")
	dir := filepath.Join(c.work, "dashboard")
	cmd := exec.CommandContext(ctx, c.dashboard)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"CCCI_DRONE_SERVER=" + droneURL,
		"CCCI_DRONE_REPO=" + demoDroneRepo,
		"CCCI_DRONE_TOKEN=" + fakedrone.DefaultToken,
		"CCCI_RUNS_DIR=" + filepath.Join(c.work, "runs"),
		"CCCI_DASHBOARD_OUT=" + filepath.Join(dir, "site"),
		"CCCI_DASHBOARD_STATE=" + filepath.Join(dir, "state"),
		"CCCI_DASHBOARD_TITLE=cc-ci demo results (FAKE GitHub, FAKE Drone)",
		"CCCI_RECIPES=" + c.recipe,
	}
	pw := &prefixWriter{w: out, prefix: "  [cc-ci-dashboard] "}
	cmd.Stdout, cmd.Stderr = pw, pw
	err := cmd.Run()
	pw.flush()
	if err != nil {
		return fmt.Errorf("%s: %w", c.dashboard, err)
	}
	fmt.Fprintf(out, "dashboard: %s\n", dashboardIndex(c.work))
	return nil
}
