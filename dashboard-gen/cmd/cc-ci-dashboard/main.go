// Command cc-ci-dashboard is the static results dashboard generator (DESIGN.md 8): it reads the
// cc-ci repo's builds from Drone (every page) and each run's results.json, and writes a static
// site: every recipe's level, its history, one page per run, badges, a JSON export and an Atom
// feed of verdict changes. It runs from a systemd timer and on demand; each run renders only
// what is new since the last.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"coopcloud.tech/cc-ci/dashboard-gen/generate"
	"coopcloud.tech/cc-ci/internal/cliapp"
)

func main() {
	os.Exit(realMain(os.Args, os.Stdout, os.Stderr))
}

// realMain runs the CLI; exit codes: 0 the site is up to date, 1 it could not be brought up to
// date (the last complete site stays served), 2 bad settings.
func realMain(args []string, stdout, stderr io.Writer) int {
	var s generate.Settings
	code := 0
	app := &cli.App{
		Name:  "cc-ci-dashboard",
		Usage: "write the static cc-ci results site from Drone's builds and the runs' results.json",
		Description: "Writes <out>/index.html, recipe/<recipe>.html, run/<run-id>.html (+ .json, .png),\n" +
			"badge/<recipe>.svg, api/results.json and feed.xml. Each run reads only builds newer than the\n" +
			"last it saw (and those it saw unfinished) and rewrites only the pages they touch; files are\n" +
			"replaced atomically, so a web server never serves half a page. The Drone token comes from\n" +
			"--drone-token-file or $" + generate.EnvDroneToken + ", never a flag.\n" +
			"Exit codes: 0 the site is up to date, 1 it could not be brought up to date, 2 bad settings.",
		HideHelpCommand: true,
		UsageText:       "cc-ci-dashboard [settings]   (every setting is also read from the env var named in brackets)",
		Flags:           flags(&s),
		Writer:          stdout,
		ErrWriter:       stderr,
		Action: func(c *cli.Context) error {
			if err := cliapp.NoArgs(c); err != nil {
				return err
			}
			if err := cliapp.Validated(c, s.Validate()); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			log := s.Logger(stderr)
			stats, err := s.Execute(ctx, log)
			if err != nil {
				fmt.Fprintf(stderr, "cc-ci-dashboard: %v\n", err)
				code = 1
				return nil
			}
			log.Info("site up to date", "out", s.Out, "full", stats.Full, "listed", stats.Listed, "changed", stats.Changed,
				"files", stats.Files, "api_wait_ms", ms(stats.Waited), "list_ms", ms(stats.List), "runs_ms", ms(stats.Runs),
				"shared_ms", ms(stats.Shared), "total_ms", ms(stats.Total))
			return nil
		},
	}
	cliapp.Harden(app)
	return cliapp.Run(app, args, stderr, func() int { return code })
}

// ms is a duration in milliseconds, with a fraction: an incremental run takes a few.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
