// Command abra is the FAKE abra, TEST SUPPORT code: a test double for Co-op Cloud's abra CLI
// (DESIGN.md section 9) that really deploys to the local swarm with `docker stack deploy` and
// implements backupbot's label semantics for backups. It understands exactly the command lines
// internal/abra builds (see cli.go), records every call to a JSON-lines log, and never touches
// the network: recipes must already be checked out under $ABRA_DIR/recipes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one abra call and returns its exit code: 0 on success, 1 on any error (usage
// errors included, like abra).
func run(ctx context.Context, argv []string, environ []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "FAKE abra (cc-ci test double): %s\n", strings.Join(argv, " "))
	f := newFake(environ, stdout, stderr)
	defer f.close()
	if err := f.logCall(argv); err != nil {
		fmt.Fprintf(stderr, "FATA %v\n", err)
		return 1
	}
	if f.abraDir == "" {
		fmt.Fprintln(stderr, "FATA ABRA_DIR is not set: the FAKE abra only works in an explicit ABRA_DIR")
		return 1
	}
	cmd, in, err := parseArgs(argv, commands())
	if err == nil {
		err = cmd.run(ctx, f, in)
	}
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "FATA %s\n", ue.Error())
		} else {
			fmt.Fprintf(stderr, "FATA %v\n", err)
		}
		return 1
	}
	return 0
}
