// Command cc-ci-bridge is the comment bridge (DESIGN.md 6): it takes `!testme` webhooks from
// GitHub and Gitea/Forgejo, starts one Drone build per request, and posts the verdict on the PR.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"coopcloud.tech/cc-ci/bridge/server"
	"coopcloud.tech/cc-ci/internal/cliapp"
)

func main() {
	os.Exit(realMain(os.Args, os.Stdout, os.Stderr))
}

// realMain runs the CLI; exit codes: 0 clean shutdown, 1 the server failed, 2 bad settings.
func realMain(args []string, stdout, stderr io.Writer) int {
	var s server.Settings
	code := 0
	app := &cli.App{
		Name:  "cc-ci-bridge",
		Usage: "turn !testme comments on recipe PRs into cc-ci Drone builds and post the verdict",
		Description: "POST /hooks/github, /hooks/gitea (Gitea and Forgejo) and /hooks/drone (Drone's build webhook)\n" +
			"take signed webhooks; GET /healthz and /metrics (Prometheus) are for operators. Secrets come\n" +
			"from files (--*-file, e.g. systemd credentials) or their environment variables, never flags.\n" +
			"SIGTERM answers in-flight webhooks and stops; the queue stays in --store for the next start.\n" +
			"Exit codes: 0 clean shutdown, 1 the server failed, 2 bad settings.",
		HideHelpCommand: true,
		UsageText:       "cc-ci-bridge [settings]   (every setting is also read from the env var named in brackets)",
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
			if err := s.Execute(ctx, s.Logger(stderr)); err != nil {
				fmt.Fprintf(stderr, "cc-ci-bridge: %v\n", err)
				code = 1
			}
			return nil
		},
	}
	cliapp.Harden(app)
	return cliapp.Run(app, args, stderr, func() int { return code })
}
