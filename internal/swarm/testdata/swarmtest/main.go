// Command swarmtest is the one binary of the swarm package's test image (FROM scratch). Its first
// argument picks a behaviour, so one image serves every test stack:
//
//	serve   answer HTTP on :8080 until SIGTERM; GET /health answers 200, or 500 when
//	        SWARMTEST_HEALTH=bad (so a healthcheck can make the task unhealthy)
//	crash   print a recognisable line to stdout and stderr and exit 1, at once or, given a
//	        duration argument ("crash 1500ms"), after serving that long
//	probe   healthcheck: GET http://127.0.0.1:8080/health, exit 0 on 200, else 1
//	once    "once <marker path>": on the first start (no marker file yet) create the marker, print a
//	        recognisable line and exit 1; from the second start on, serve. An app that starts
//	        before its database is ready and exits once (swarm ignores depends_on).
//	grow    "grow <MiB> <duration>": idle that long, then allocate and touch that many MiB, so
//	        under a smaller memory limit the kernel OOM-kills it after the stack has converged.
package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	mode := "serve"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "serve":
		os.Exit(serve())
	case "crash":
		fmt.Println("swarmtest: starting, about to crash")
		if len(os.Args) > 2 {
			d, err := time.ParseDuration(os.Args[2])
			if err != nil {
				fmt.Fprintln(os.Stderr, "swarmtest:", err)
				os.Exit(2)
			}
			time.Sleep(d)
		}
		fmt.Fprintln(os.Stderr, "swarmtest: crashing on purpose (exit 1)")
		os.Exit(1)
	case "probe":
		os.Exit(probe())
	case "once":
		os.Exit(once())
	case "grow":
		os.Exit(grow())
	default:
		fmt.Fprintf(os.Stderr, "swarmtest: unknown mode %q\n", mode)
		os.Exit(2)
	}
}

// serve runs until SIGTERM and then exits 0 at once: PID 1 in a scratch image has no default
// signal handling, and without this every teardown would wait out the 10 s stop grace period.
func serve() int {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		if os.Getenv("SWARMTEST_HEALTH") == "bad" {
			http.Error(w, "unhealthy on purpose", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Println("swarmtest: serving on :8080")
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "swarmtest:", err)
		return 1
	}
	return 0
}

func once() int {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "swarmtest: once needs a marker path")
		return 2
	}
	marker := os.Args[2]
	if _, err := os.Stat(marker); !errors.Is(err, fs.ErrNotExist) {
		return serve()
	}
	if err := os.WriteFile(marker, []byte("started once\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "swarmtest:", err)
		return 2
	}
	fmt.Fprintln(os.Stderr, "swarmtest: first start, database not ready yet (exit 1)")
	return 1
}

func probe() int {
	client := &http.Client{Timeout: 20 * time.Second} // within the healthcheck timeout (30 s): a loaded box can take seconds
	resp, err := client.Get("http://127.0.0.1:8080/health")
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "probe: status", resp.StatusCode)
		return 1
	}
	return 0
}

// ballast keeps grow's allocation reachable, so it stays resident until the kernel intervenes.
var ballast []byte

func grow() int {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "swarmtest: grow needs <MiB> <duration>")
		return 2
	}
	mib, err := strconv.Atoi(os.Args[2])
	if err != nil || mib <= 0 || mib > 4096 {
		fmt.Fprintln(os.Stderr, "swarmtest: grow: MiB from 1 to 4096, got", os.Args[2])
		return 2
	}
	d, err := time.ParseDuration(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, "swarmtest:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	fmt.Printf("swarmtest: running, will grow by %d MiB after %s\n", mib, d)
	select {
	case <-ctx.Done():
		return 0
	case <-time.After(d):
	}
	fmt.Printf("swarmtest: growing by %d MiB now\n", mib)
	buf := make([]byte, mib<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	ballast = buf
	fmt.Println("swarmtest: grown; holding the memory")
	<-ctx.Done()
	return 0
}
