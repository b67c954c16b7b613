package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"coopcloud.tech/cc-ci/janitor/reap"
)

// flags binds every setting exactly once, to its CCCI_* env var and its --flag. The defaults are
// the plugin's (DESIGN.md 3), so both agree on where locks and .env files live.
func flags(s *reap.Settings) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "lock-dir", Usage: "directory of per-app lockfiles app-<domain>.lock (the plugin's)", Value: "/run/lock/cc-ci", EnvVars: []string{"CCCI_APP_LOCK_DIR"}, Destination: &s.LockDir},
		&cli.StringFlag{Name: "abra-dir", Usage: "canonical abra dir; an app's .env is servers/<server>/<domain>.env in it", Value: "/var/lib/cc-ci/abra", EnvVars: []string{"CCCI_ABRA_DIR"}, Destination: &s.AbraDir},
		&cli.StringFlag{Name: "server", Usage: "abra server name of the local swarm", Value: "default", EnvVars: []string{"CCCI_SERVER"}, Destination: &s.Server},
		&cli.StringFlag{Name: "domain-suffix", Usage: "DNS suffix of CI apps (maps stack names back to domains; must be the plugin's)", Value: "ci.coopcloud.tech", EnvVars: []string{"CCCI_DOMAIN_SUFFIX"}, Destination: &s.DomainSuffix},
		&cli.DurationFlag{Name: "deadline", Usage: "the plugin's run deadline: a lock held over twice this is logged as a possible leaked run (and never taken)", Value: 60 * time.Minute, EnvVars: []string{"CCCI_DEADLINE"}, Destination: &s.Deadline},
		&cli.BoolFlag{Name: "dry-run", Usage: "list what the pass would do; only probe locks (a momentary shared flock), touch and remove nothing", EnvVars: []string{"CCCI_JANITOR_DRY_RUN"}, Destination: &s.DryRun},
		&cli.StringFlag{Name: "log-format", Usage: "text or json (one line per candidate: domain, decision, reason, duration)", Value: reap.FormatText, EnvVars: []string{"CCCI_LOG_FORMAT"}, Destination: &s.LogFormat},
		&cli.StringFlag{Name: "log-level", Usage: "debug (also lists the warm-* and canonical names it ignores), info, warn or error", Value: "info", EnvVars: []string{"CCCI_LOG_LEVEL"}, Destination: &s.LogLevel},
	}
}
