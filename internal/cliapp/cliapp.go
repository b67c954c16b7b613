// Package cliapp is what every cc-ci binary's command line has in common: settings errors that
// name the setting and the fix (exit 2), and exit codes that are the binary's own, never the cli
// library's.
package cliapp

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// ExitBadInput is the exit code for bad settings or usage (DESIGN.md 3).
const ExitBadInput = 2

// ConfigError is bad input: its message lists every problem, each naming the setting and the fix.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return "invalid settings:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// Problems collects every validation failure, so one run reports them all.
type Problems []string

// Add records one problem.
func (p *Problems) Add(format string, a ...any) { *p = append(*p, fmt.Sprintf(format, a...)) }

// Err is nil without problems, else a *ConfigError listing them.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return &ConfigError{Problems: p}
}

// IsConfigError reports whether err is (or wraps) a *ConfigError.
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}

// Harden makes app leave exit codes to Run: usage errors become exit 2 with a pointer to --help,
// and the library never calls os.Exit itself.
func Harden(app *cli.App) {
	app.ExitErrHandler = func(*cli.Context, error) {}
	app.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
		return cli.Exit(fmt.Sprintf("%s: %v (see --help)", app.Name, err), ExitBadInput)
	}
}

// NoArgs refuses positional arguments: every setting is a --flag or an env var.
func NoArgs(c *cli.Context) error {
	if c.NArg() == 0 {
		return nil
	}
	return cli.Exit(fmt.Sprintf("%s: unexpected arguments %q: every setting is a --flag or env var (see --help)", c.App.Name, c.Args().Slice()), ExitBadInput)
}

// Validated returns nil, or a cli exit error (code 2) carrying the settings problem.
func Validated(c *cli.Context, err error) error {
	if err == nil {
		return nil
	}
	return cli.Exit(c.App.Name+": "+err.Error(), ExitBadInput)
}

// Run runs app and returns its exit code: the code of an exit error (printed to stderr), 2 for
// any other error, else code() — the binary's own result.
func Run(app *cli.App, args []string, stderr io.Writer, code func() int) int {
	err := app.Run(args)
	if err == nil {
		return code()
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		fmt.Fprintln(stderr, err)
		return ec.ExitCode()
	}
	fmt.Fprintf(stderr, "%s: %v\n", app.Name, err)
	return ExitBadInput
}

// Undocumented returns every flag that has no env var, or whose name or env vars are missing
// from help (the --help text): STYLE rule 3, each setting bound to an env var and documented.
func Undocumented(flags []cli.Flag, help string) []string {
	var bad []string
	for _, f := range flags {
		name := f.Names()[0]
		ev, ok := f.(interface{ GetEnvVars() []string })
		if !ok || len(ev.GetEnvVars()) == 0 {
			bad = append(bad, "--"+name+" has no env var")
			continue
		}
		if !strings.Contains(help, "--"+name) {
			bad = append(bad, "--"+name+" is not in --help")
		}
		for _, e := range ev.GetEnvVars() {
			if !strings.Contains(help, "$"+e) {
				bad = append(bad, "$"+e+" of --"+name+" is not in --help")
			}
		}
	}
	return bad
}
