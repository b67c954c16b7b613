package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"coopcloud.tech/cc-ci/plugin/run"
)

// flags binds every setting exactly once: PLUGIN_* first (Drone's convention), then the CCCI_*
// build parameter the bridge sets, then the --flag for runs by hand.
func flags(s *run.Settings) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "recipe", Usage: "recipe name (catalogue name, e.g. gitea)", EnvVars: []string{"PLUGIN_RECIPE", "CCCI_RECIPE"}, Destination: &s.Recipe},
		&cli.StringFlag{Name: "src", Usage: "clone URL or path of the recipe repo (default https://git.coopcloud.tech/coop-cloud/<recipe>.git)", EnvVars: []string{"PLUGIN_SRC", "CCCI_SRC"}, Destination: &s.Src},
		&cli.StringFlag{Name: "ref", Usage: "full 40-hex commit SHA under test (the pinned PR head)", EnvVars: []string{"PLUGIN_REF", "CCCI_REF"}, Destination: &s.Ref},
		&cli.StringFlag{Name: "pr", Usage: "pull request number (part of the app's name)", EnvVars: []string{"PLUGIN_PR", "CCCI_PR"}, Destination: &s.PR},
		&cli.StringFlag{Name: "repo", Usage: "forge repo owner/name", EnvVars: []string{"PLUGIN_REPO", "CCCI_REPO"}, Destination: &s.Repo},
		&cli.StringFlag{Name: "mode", Usage: "cold (full ladder) or quick", Value: run.ModeCold, EnvVars: []string{"PLUGIN_MODE", "CCCI_MODE"}, Destination: &s.Mode},
		&cli.StringFlag{Name: "forge", Usage: "github or gitea (recorded in results)", EnvVars: []string{"PLUGIN_FORGE", "CCCI_FORGE"}, Destination: &s.Forge},
		&cli.StringFlag{Name: "lock-dir", Usage: "directory of per-app lockfiles", Value: "/run/lock/cc-ci", EnvVars: []string{"PLUGIN_LOCK_DIR", "CCCI_APP_LOCK_DIR"}, Destination: &s.LockDir},
		&cli.StringFlag{Name: "runs-dir", Usage: "directory of per-run dirs (results.json, summary.md, abra/)", Value: "/var/lib/cc-ci/runs", EnvVars: []string{"PLUGIN_RUNS_DIR", "CCCI_RUNS_DIR"}, Destination: &s.RunsDir},
		&cli.StringFlag{Name: "abra-dir", Usage: "canonical abra dir (servers/, catalogue/)", Value: "/var/lib/cc-ci/abra", EnvVars: []string{"PLUGIN_ABRA_DIR", "CCCI_ABRA_DIR"}, Destination: &s.AbraDir},
		&cli.StringFlag{Name: "overlays-dir", Usage: "directory of per-recipe overlays, <dir>/<recipe>/ (empty: none)", EnvVars: []string{"PLUGIN_OVERLAYS_DIR", "CCCI_OVERLAYS_DIR"}, Destination: &s.OverlaysDir},
		&cli.StringFlag{Name: "domain-suffix", Usage: "DNS suffix of test apps", Value: "ci.coopcloud.tech", EnvVars: []string{"PLUGIN_DOMAIN_SUFFIX", "CCCI_DOMAIN_SUFFIX"}, Destination: &s.DomainSuffix},
		&cli.StringFlag{Name: "frontdoor", Usage: "URL of the proxy in front of the apps (requests carry the app's Host header)", Value: "http://127.0.0.1", EnvVars: []string{"PLUGIN_FRONTDOOR", "CCCI_FRONTDOOR_URL"}, Destination: &s.FrontDoor},
		&cli.StringFlag{Name: "server", Usage: "abra server name of the local swarm", Value: "default", EnvVars: []string{"PLUGIN_SERVER", "CCCI_SERVER"}, Destination: &s.Server},
		&cli.StringFlag{Name: "abra-bin", Usage: "abra binary (looked up on PATH)", Value: "abra", EnvVars: []string{"PLUGIN_ABRA_BIN", "CCCI_ABRA_BIN"}, Destination: &s.AbraBin},
		&cli.StringFlag{Name: "build-number", Usage: "Drone build number (run id drone-<n>; empty: manual-<pid>)", EnvVars: []string{"DRONE_BUILD_NUMBER"}, Destination: &s.BuildNumber},
		&cli.DurationFlag{Name: "deadline", Usage: "whole-run deadline; on expiry: teardown, exit 142", Value: 60 * time.Minute, EnvVars: []string{"PLUGIN_DEADLINE", "CCCI_DEADLINE"}, Destination: &s.Deadline},
		&cli.DurationFlag{Name: "step-timeout", Usage: "timeout of one abra call or convergence wait", Value: 10 * time.Minute, EnvVars: []string{"PLUGIN_STEP_TIMEOUT", "CCCI_STEP_TIMEOUT"}, Destination: &s.StepTimeout},
		&cli.StringFlag{Name: "upgrade-base", Usage: "explicit upgrade base (a release tag or a commit of the recipe); default: the base chain of DESIGN 4.4", EnvVars: []string{"PLUGIN_UPGRADE_BASE", "CCCI_UPGRADE_BASE"}, Destination: &s.UpgradeBase},
		&cli.Int64Flag{Name: "limit-memory", Usage: "memory limit of each service of a test app, in MiB (the recipe's own limit, capped by this; 0: 1024)", EnvVars: []string{"PLUGIN_LIMIT_MEMORY", "CCCI_LIMIT_MEMORY"}, Destination: &s.LimitMemoryMiB},
		&cli.Float64Flag{Name: "limit-cpus", Usage: "CPU limit of each service of a test app (0: 1)", EnvVars: []string{"PLUGIN_LIMIT_CPUS", "CCCI_LIMIT_CPUS"}, Destination: &s.LimitCPUs},
		&cli.Int64Flag{Name: "limit-pids", Usage: "pids limit of each service of a test app, applied to compose files of version 3.9 or later (0: 512)", EnvVars: []string{"PLUGIN_LIMIT_PIDS", "CCCI_LIMIT_PIDS"}, Destination: &s.LimitPids},
		&cli.Int64Flag{Name: "run-memory", Usage: "memory of all of a test app's services together, in MiB (0: 4096)", EnvVars: []string{"PLUGIN_RUN_MEMORY", "CCCI_RUN_MEMORY"}, Destination: &s.RunMemoryMiB},
		&cli.StringFlag{Name: "chromium", Usage: "chromium binary for browser checks and screenshots (empty: chromium or chromium-browser on PATH)", EnvVars: []string{"PLUGIN_CHROMIUM", "CCCI_CHROMIUM"}, Destination: &s.ChromiumBin},
		&cli.DurationFlag{Name: "ready-timeout", Usage: "how long the app may take to answer as itself through the front door", Value: 2 * time.Minute, EnvVars: []string{"PLUGIN_READY_TIMEOUT", "CCCI_READY_TIMEOUT"}, Destination: &s.ReadyTimeout},
	}
}
