package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"coopcloud.tech/cc-ci/bridge/server"
)

// flags binds every setting exactly once, to its CCCI_* env var and its --flag. Secrets have only
// *-file flags: the value itself comes from the named file or from the env var named in the usage.
func flags(s *server.Settings) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "listen", Usage: "address of the HTTP server (webhooks, /healthz, /metrics)", Value: ":8080", EnvVars: []string{"CCCI_BRIDGE_LISTEN"}, Destination: &s.Listen},
		&cli.StringFlag{Name: "store", Usage: "bbolt file holding the request queue and each PR's sticky comment (survives restarts)", Value: "/var/lib/cc-ci/bridge/bridge.db", EnvVars: []string{"CCCI_BRIDGE_STORE"}, Destination: &s.StorePath},
		&cli.StringFlag{Name: "enrolment", Usage: "YAML file mapping forge repos to recipes (docs/enroll-recipe.md)", Value: "/etc/cc-ci/enrolment.yml", EnvVars: []string{"CCCI_ENROLMENT"}, Destination: &s.Enrolment},
		&cli.StringFlag{Name: "github-api", Usage: "GitHub API base URL (empty: api.github.com; GitHub Enterprise: https://host/api/v3/)", EnvVars: []string{"CCCI_GITHUB_API"}, Destination: &s.GitHubAPI},
		&cli.StringFlag{Name: "github-bot", Usage: "login of the GitHub token's user (empty: asked from the API at start)", EnvVars: []string{"CCCI_GITHUB_BOT"}, Destination: &s.GitHubBot},
		&cli.StringFlag{Name: "github-token-file", Usage: "file holding the GitHub token (or the token in $" + server.EnvGitHubToken + ")", EnvVars: []string{"CCCI_GITHUB_TOKEN_FILE"}, Destination: &s.GitHubTokenFile},
		&cli.StringFlag{Name: "github-webhook-secret-file", Usage: "file holding the GitHub webhook secret (or the secret in $" + server.EnvGitHubSecret + ")", EnvVars: []string{"CCCI_GITHUB_WEBHOOK_SECRET_FILE"}, Destination: &s.GitHubSecretFile},
		&cli.StringFlag{Name: "gitea-url", Usage: "Gitea/Forgejo base URL, e.g. https://git.coopcloud.tech", EnvVars: []string{"CCCI_GITEA_URL"}, Destination: &s.GiteaURL},
		&cli.StringFlag{Name: "gitea-bot", Usage: "login of the Gitea token's user (empty: asked from the API at start)", EnvVars: []string{"CCCI_GITEA_BOT"}, Destination: &s.GiteaBot},
		&cli.StringFlag{Name: "gitea-token-file", Usage: "file holding the Gitea/Forgejo token (or the token in $" + server.EnvGiteaToken + ")", EnvVars: []string{"CCCI_GITEA_TOKEN_FILE"}, Destination: &s.GiteaTokenFile},
		&cli.StringFlag{Name: "gitea-webhook-secret-file", Usage: "file holding the Gitea/Forgejo webhook secret (or the secret in $" + server.EnvGiteaSecret + ")", EnvVars: []string{"CCCI_GITEA_WEBHOOK_SECRET_FILE"}, Destination: &s.GiteaSecretFile},
		&cli.StringFlag{Name: "drone-url", Usage: "Drone server URL (API and build links)", EnvVars: []string{"CCCI_DRONE_SERVER"}, Destination: &s.DroneURL},
		&cli.StringFlag{Name: "drone-repo", Usage: "the cc-ci repo in Drone (owner/name) whose recipe-test pipeline runs the plugin", EnvVars: []string{"CCCI_DRONE_REPO"}, Destination: &s.DroneRepo},
		&cli.StringFlag{Name: "drone-branch", Usage: "branch of --drone-repo to build", Value: "main", EnvVars: []string{"CCCI_DRONE_BRANCH"}, Destination: &s.DroneBranch},
		&cli.StringFlag{Name: "drone-token-file", Usage: "file holding the Drone API token (or the token in $" + server.EnvDroneToken + ")", EnvVars: []string{"CCCI_DRONE_TOKEN_FILE"}, Destination: &s.DroneTokenFile},
		&cli.StringFlag{Name: "drone-webhook-secret-file", Usage: "file holding DRONE_WEBHOOK_SECRET, which signs Drone's build webhook (or the secret in $" + server.EnvDroneSecret + ")", EnvVars: []string{"CCCI_DRONE_WEBHOOK_SECRET_FILE"}, Destination: &s.DroneSecretFile},
		&cli.StringFlag{Name: "runs-dir", Usage: "the plugin's runs dir, read for <run-id>/results.json (else the step log is read)", Value: "/var/lib/cc-ci/runs", EnvVars: []string{"CCCI_RUNS_DIR"}, Destination: &s.RunsDir},
		&cli.StringFlag{Name: "runs-url", Usage: "public URL of the runs dir, for results.json links (empty: no link)", EnvVars: []string{"CCCI_RUNS_URL"}, Destination: &s.RunsURL},
		&cli.StringFlag{Name: "dashboard-url", Usage: "public URL of the results dashboard (empty: no link)", EnvVars: []string{"CCCI_DASHBOARD_URL"}, Destination: &s.DashboardURL},
		&cli.StringFlag{Name: "allow", Usage: "comma-separated logins trusted to trigger runs besides org members and users with write access", EnvVars: []string{"CCCI_ALLOW_LIST"}, Destination: &s.AllowList},
		&cli.DurationFlag{Name: "poll-interval", Usage: "how often the catch-up loop looks for !testme comments whose webhook never came", Value: 60 * time.Second, EnvVars: []string{"CCCI_POLL_INTERVAL"}, Destination: &s.PollEvery},
		&cli.DurationFlag{Name: "poll-lookback", Usage: "how far back the first catch-up pass looks (later passes resume from the stored cursor)", Value: time.Hour, EnvVars: []string{"CCCI_POLL_LOOKBACK"}, Destination: &s.PollLookback},
		&cli.DurationFlag{Name: "reconcile", Usage: "how long a started build may go unheard before Drone is asked about it", Value: 30 * time.Second, EnvVars: []string{"CCCI_RECONCILE_INTERVAL"}, Destination: &s.Reconcile},
		&cli.DurationFlag{Name: "retry-min", Usage: "first retry delay after a Drone or forge failure (doubling)", Value: time.Second, EnvVars: []string{"CCCI_RETRY_MIN"}, Destination: &s.RetryMin},
		&cli.DurationFlag{Name: "retry-max", Usage: "longest retry delay", Value: time.Minute, EnvVars: []string{"CCCI_RETRY_MAX"}, Destination: &s.RetryMax},
		&cli.DurationFlag{Name: "retention", Usage: "how long finished requests stay in the store (a redelivery within it is still recognised)", Value: 30 * 24 * time.Hour, EnvVars: []string{"CCCI_BRIDGE_RETENTION"}, Destination: &s.Retention},
		&cli.IntFlag{Name: "workers", Usage: "PRs worked on at once (one PR's requests are always handled in order)", Value: 8, EnvVars: []string{"CCCI_BRIDGE_WORKERS"}, Destination: &s.Workers},
		&cli.Int64Flag{Name: "max-body", Usage: "largest webhook body accepted, in bytes (larger: 413)", Value: 1 << 20, EnvVars: []string{"CCCI_BRIDGE_MAX_BODY"}, Destination: &s.MaxBody},
		&cli.StringFlag{Name: "log-format", Usage: "text or json", Value: "text", EnvVars: []string{"CCCI_LOG_FORMAT"}, Destination: &s.LogFormat},
		&cli.StringFlag{Name: "log-level", Usage: "debug, info, warn or error", Value: "info", EnvVars: []string{"CCCI_LOG_LEVEL"}, Destination: &s.LogLevel},
	}
}
