package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"coopcloud.tech/cc-ci/dashboard-gen/generate"
)

// flags binds every setting exactly once, to its CCCI_* env var and its --flag. The Drone token
// has only a -file flag: the value itself comes from the named file or from $CCCI_DRONE_TOKEN.
func flags(s *generate.Settings) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "drone-url", Usage: "Drone server URL (its API, and the build links on the pages)", EnvVars: []string{"CCCI_DRONE_SERVER"}, Destination: &s.DroneURL},
		&cli.StringFlag{Name: "drone-repo", Usage: "the cc-ci repo in Drone (owner/name) whose builds are the recipe runs", EnvVars: []string{"CCCI_DRONE_REPO"}, Destination: &s.DroneRepo},
		&cli.StringFlag{Name: "drone-token-file", Usage: "file holding the Drone API token (or the token in $" + generate.EnvDroneToken + "; none: anonymous, public repos only)", EnvVars: []string{"CCCI_DRONE_TOKEN_FILE"}, Destination: &s.DroneTokenFile},
		&cli.StringFlag{Name: "runs-dir", Usage: "the plugin's runs dir, read for <run-id>/results.json and screenshot.png (else the step log is read)", Value: "/var/lib/cc-ci/runs", EnvVars: []string{"CCCI_RUNS_DIR"}, Destination: &s.RunsDir},
		&cli.StringFlag{Name: "out", Usage: "directory the static site is written to (serve it as it is)", Value: "/var/lib/cc-ci/dashboard/site", EnvVars: []string{"CCCI_DASHBOARD_OUT"}, Destination: &s.Out},
		&cli.StringFlag{Name: "state", Usage: "state file remembering what is rendered (remove it to render everything anew)", Value: "/var/lib/cc-ci/dashboard/state", EnvVars: []string{"CCCI_DASHBOARD_STATE"}, Destination: &s.StatePath},
		&cli.StringFlag{Name: "url", Usage: "public URL of the site, for the feed's links and the badge snippet (empty: relative links)", EnvVars: []string{"CCCI_DASHBOARD_URL"}, Destination: &s.BaseURL},
		&cli.StringFlag{Name: "title", Usage: "the site's name, in every page's header", Value: "cc-ci recipe results", EnvVars: []string{"CCCI_DASHBOARD_TITLE"}, Destination: &s.Title},
		&cli.StringFlag{Name: "recipes", Usage: "comma-separated recipes listed on the index even before their first run", EnvVars: []string{"CCCI_RECIPES"}, Destination: &s.Recipes},
		&cli.StringFlag{Name: "gitea-url", Usage: "Gitea/Forgejo base URL, for links to PRs of recipes there (empty: no link)", EnvVars: []string{"CCCI_GITEA_URL"}, Destination: &s.GiteaURL},
		&cli.BoolFlag{Name: "full", Usage: "render every page anew, reading every build again", EnvVars: []string{"CCCI_DASHBOARD_FULL"}, Destination: &s.Full},
		&cli.DurationFlag{Name: "timeout", Usage: "longest wait for one Drone API request", Value: 30 * time.Second, EnvVars: []string{"CCCI_DASHBOARD_TIMEOUT"}, Destination: &s.Timeout},
		&cli.StringFlag{Name: "log-format", Usage: "text or json", Value: "text", EnvVars: []string{"CCCI_LOG_FORMAT"}, Destination: &s.LogFormat},
		&cli.StringFlag{Name: "log-level", Usage: "debug, info, warn or error", Value: "info", EnvVars: []string{"CCCI_LOG_LEVEL"}, Destination: &s.LogLevel},
	}
}
