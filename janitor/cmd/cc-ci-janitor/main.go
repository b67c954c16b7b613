// Command cc-ci-janitor does one janitor pass (DESIGN.md 7) and exits: it tears down what killed
// CI runs left on the swarm, never touching a live run. A systemd timer runs it every few minutes.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"coopcloud.tech/cc-ci/internal/cliapp"
	"coopcloud.tech/cc-ci/internal/swarm"
	"coopcloud.tech/cc-ci/janitor/reap"
)

func main() {
	os.Exit(realMain(os.Args, os.Stdout, os.Stderr))
}

// realMain runs the CLI; exit codes: 0 the pass ran (skips and held locks included), 1 the pass
// could not run or a reap failed, 2 bad settings.
func realMain(args []string, stdout, stderr io.Writer) int {
	var s reap.Settings
	code := 0
	app := &cli.App{
		Name:  "cc-ci-janitor",
		Usage: "one pass: tear down what killed cc-ci runs left on the swarm, never touching a live run",
		Description: "Candidates are the lockfiles in the lock dir, the CI-named stacks on the swarm and CI-named app\n" +
			".env files. Each lock is probed without waiting: held -> left alone (logged, with a warning past\n" +
			"twice the deadline); free -> torn down while the lock is held, then the lockfile is unlinked.\n" +
			"warm-* and canonical apps are never probed. Exit codes: 0 pass done (skips and held locks\n" +
			"included), 1 the pass could not run or a reap failed, 2 bad settings.",
		HideHelpCommand: true,
		UsageText:       "cc-ci-janitor [--dry-run] [settings]   (every setting is also read from the env var named in brackets)",
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
			code = pass(&s, stdout, stderr)
			return nil
		},
	}
	// Exit codes are ours: bad settings 2, never the cli library's os.Exit.
	cliapp.Harden(app)
	return cliapp.Run(app, args, stderr, func() int { return code })
}

// pass connects to the local swarm and runs one pass. SIGTERM (systemd stopping the unit) ends
// it between candidates; a reap under way is cut short by its context and keeps its lockfile.
func pass(s *reap.Settings, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log := s.Logger(stdout)
	docker, err := swarm.New(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "cc-ci-janitor: %v\n", err)
		return 1
	}
	sum, err := reap.New(*s, docker, log).Pass(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "cc-ci-janitor: %v\n", err)
	}
	if cerr := docker.Close(); cerr != nil {
		log.Warn("close docker client", "err", cerr)
	}
	return reap.ExitCode(sum, err)
}
