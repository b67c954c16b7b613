// Command app is the cc-ci sample app, TEST SUPPORT code: the binary inside the test images that
// the test recipes deploy (see package testkit). It is deliberately tiny, and plays every part a
// recipe needs:
//
//   - serve: the web app (a page, a notes form for browser checks, a health endpoint, a
//     key-value API). Its data lives in a JSON file on the data volume (the sample recipe) or,
//     with DB_HOST set, in the db service (the realistic "notes" recipe), reached over HTTP on
//     the stack's internal network.
//   - db: a database stand-in holding the key-value store on its volume, behind a password.
//   - worker: a background job that talks to the db, like a recipe's cron or queue worker.
//   - migrate, dump, load: what an entrypoint and backupbot's hooks call.
//
// Knobs that some known-bad variants switch on are read from the environment (see options).
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
	defaultDataDir    = "/data"
	defaultSecretPath = "/run/secrets/api_key"
	defaultDBPassword = "/run/secrets/db_password"
	defaultDBPort     = "7000"
	listenAddr        = ":8080"
	healthURL         = "http://127.0.0.1:8080/healthz"
	crashMessage      = "fatal: sample app crashed on purpose (known-bad variant)"
	usage             = "usage: app serve | db | worker | migrate | dump <file> | load <file> | healthcheck [url] | crash"
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
		err = serve(ctx, st, getenv, stdout)
	case args[0] == "db" && len(args) == 1:
		err = serveDB(ctx, st, getenv, stdout)
	case args[0] == "worker" && len(args) == 1:
		err = worker(ctx, getenv, stdout)
	case args[0] == "migrate" && len(args) == 1:
		err = st.migrate()
	case args[0] == "dump" && len(args) == 2:
		err = st.dump(args[1])
	case args[0] == "load" && len(args) == 2:
		err = st.load(args[1])
	case args[0] == "healthcheck" && len(args) <= 2:
		url := healthURL
		if len(args) == 2 {
			url = args[1]
		}
		err = healthcheck(ctx, url)
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

// envOr returns getenv(key), or def when it is empty.
func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
