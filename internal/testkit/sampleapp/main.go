// Command app is the cc-ci sample app, TEST SUPPORT code: the binary inside the ccci-sample
// images that the sample recipe deploys (see package testkit). It is deliberately tiny: a page,
// a health endpoint and a key-value store on the data volume, plus the subcommands the recipe's
// healthcheck and backupbot hooks call.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Fixed paths inside the container; DATA_DIR may move the store (handy when run by hand).
const (
	defaultDataDir = "/data"
	secretPath     = "/run/secrets/api_key"
	listenAddr     = ":8080"
	healthURL      = "http://127.0.0.1:8080/healthz"
	crashMessage   = "fatal: sample app crashed on purpose (known-bad variant)"
	usage          = "usage: app serve | dump <file> | load <file> | healthcheck | crash"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches one subcommand and returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	dataDir := getenv("DATA_DIR")
	if dataDir == "" {
		dataDir = defaultDataDir
	}
	st := store{path: dataDir + "/db.json"}
	var err error
	switch {
	case args[0] == "serve" && len(args) == 1:
		err = serve(ctx, st, getenv, secretPath, stdout)
	case args[0] == "dump" && len(args) == 2:
		err = st.dump(args[1])
	case args[0] == "load" && len(args) == 2:
		err = st.load(args[1])
	case args[0] == "healthcheck" && len(args) == 1:
		err = healthcheck(ctx, healthURL)
	case args[0] == "crash" && len(args) == 1:
		fmt.Fprintln(stderr, crashMessage)
		return 1
	default:
		fmt.Fprintln(stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "app %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
