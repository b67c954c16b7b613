// Command cc-ci-plugin is the Drone plugin that runs one recipe through the cc-ci ladder.
// The process Drone starts is a thin wrapper; it re-executes itself as the guarded child that does
// the real run (DESIGN.md 4.1).
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"coopcloud.tech/cc-ci/internal/cliapp"
	"coopcloud.tech/cc-ci/internal/lifetime"
	"coopcloud.tech/cc-ci/plugin/run"
)

func main() {
	os.Exit(realMain(os.Args, os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	var s run.Settings
	code := 0
	app := &cli.App{
		Name:      "cc-ci-plugin",
		Usage:     "deploy a Co-op Cloud recipe at a commit on the local swarm and climb install -> upgrade -> backup/restore",
		UsageText: "cc-ci-plugin [settings]   (every setting is also read from the env var named in brackets)",
		Flags:     flags(&s),
		Writer:    stdout,
		ErrWriter: stderr,
		Action: func(c *cli.Context) error {
			if err := cliapp.NoArgs(c); err != nil {
				return err
			}
			if err := cliapp.Validated(c, s.Validate()); err != nil {
				return err
			}
			if !lifetime.IsChild() {
				// Wrapper: the guarded child re-validates (cheap, pure) and does the run.
				c, err := lifetime.Wrap(context.Background(), lifetime.WrapOptions{Stdout: stdout, Stderr: stderr})
				if err != nil {
					return cli.Exit(fmt.Sprintf("cc-ci-plugin: start guarded run: %v", err), 3)
				}
				code = c
				return nil
			}
			code = run.Guarded(&s, stdout)
			return nil
		},
	}
	// Exit codes are ours (DESIGN.md 3): bad input 2, never the cli library's os.Exit.
	cliapp.Harden(app)
	return cliapp.Run(app, args, stderr, func() int { return code })
}
