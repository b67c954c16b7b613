package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// serveDB runs the database stand-in of the notes recipe until ctx ends: the key-value store on
// its volume (DATA_DIR), served on DB_PORT to clients that send the password of the db_password
// secret (DB_PASSWORD_FILE) as a bearer token. Like a database image, it refuses to start without
// its password and initialises an empty store on first boot. /healthz needs no password, for the
// container's own healthcheck.
func serveDB(ctx context.Context, st store, getenv func(string) string, stdout io.Writer) error {
	pwFile := envOr(getenv, "DB_PASSWORD_FILE", defaultDBPassword)
	pw, err := readSecret(pwFile)
	if err != nil {
		return fmt.Errorf("db password missing (%s): %w", pwFile, err)
	}
	st.mu = &sync.Mutex{}
	if err := st.init(); err != nil {
		return fmt.Errorf("initialise the store: %w", err)
	}
	addr := ":" + envOr(getenv, "DB_PORT", defaultDBPort)
	fmt.Fprintf(stdout, "cc-ci sample db listening on %s (store %s)\n", addr, st.path)
	return listen(ctx, addr, newDBHandler(st, pw))
}

// newDBHandler serves the store: /healthz openly, /kv and /kv/{key} with the password only.
func newDBHandler(st store, password string) http.Handler {
	data := localKV{st}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if _, err := st.count(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /kv", func(w http.ResponseWriter, _ *http.Request) {
		n, err := st.count()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]int{"keys": n})
	})
	kvRoutes(mux, data)
	want := []byte("Bearer " + password)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			http.Error(w, "password authentication failed", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// worker is the notes recipe's background job: every WORKER_INTERVAL (default 30s) it counts the
// entries in the db and logs the figure. It waits up to a minute for the db at start (swarm
// ignores depends_on, so it may start first) and exits non-zero only if the db never answers:
// a wrong password or an unreachable db makes it crash-loop, as a real worker would.
func worker(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	db, ok, err := remoteFrom(getenv)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("DB_HOST is not set: the worker needs the db")
	}
	interval, err := time.ParseDuration(envOr(getenv, "WORKER_INTERVAL", "30s"))
	if err != nil || interval <= 0 {
		return fmt.Errorf("WORKER_INTERVAL %q is not a positive duration", getenv("WORKER_INTERVAL"))
	}
	if err := waitForDB(ctx, db, time.Minute, time.Second); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "worker: connected to %s, running every %s\n", db.base, interval)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if n, err := db.count(ctx); err != nil {
			fmt.Fprintf(stdout, "worker: %v\n", err)
		} else {
			fmt.Fprintf(stdout, "worker: %d entries\n", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// waitForDB retries a count until it succeeds or patience runs out.
func waitForDB(ctx context.Context, db kv, patience, every time.Duration) error {
	deadline := time.Now().Add(patience)
	for {
		_, err := db.count(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("db did not answer within %s: %w", patience, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}
