package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// fallbackBody is what traefik answers for an unknown host. The Fallback variant serves it with
// status 200 on every page, like an app whose proxy fell back to a default page.
const fallbackBody = "404 page not found\n"

// maxValue caps a stored value; the store is for test data only.
const maxValue = 1 << 20

// serve runs the HTTP server until ctx ends. It refuses to start without the api_key secret,
// like an app that needs its credentials.
func serve(ctx context.Context, st store, getenv func(string) string, secret string, stdout io.Writer) error {
	if _, err := os.ReadFile(secret); err != nil {
		return fmt.Errorf("secret api_key missing (%s): %w", secret, err)
	}
	st.mu = &sync.Mutex{}
	srv := &http.Server{
		Addr:              listenAddr,
		Handler:           newHandler(st, getenv("APP_VERSION"), getenv("DOMAIN"), getenv("APP_FALLBACK") == "1"),
		ReadHeaderTimeout: 10 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Fprintf(stdout, "cc-ci sample app %s listening on %s (domain %q)\n", getenv("APP_VERSION"), listenAddr, getenv("DOMAIN"))
	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", listenAddr, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// newHandler returns the app's routes; fallback answers everything with fallbackBody.
func newHandler(st store, version, domain string, fallback bool) http.Handler {
	if fallback {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, fallbackBody)
		})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html>\n<html><head><title>cc-ci sample app</title></head>\n"+
			"<body><h1>cc-ci sample app</h1>\n<p>version <span id=\"version\">%s</span></p>\n"+
			"<p>domain <span id=\"domain\">%s</span></p>\n</body></html>\n",
			html.EscapeString(version), html.EscapeString(domain))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /kv/{key}", func(w http.ResponseWriter, r *http.Request) {
		v, ok, err := st.get(r.PathValue("key"))
		switch {
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		case !ok:
			http.Error(w, "no such key", http.StatusNotFound)
		default:
			_, _ = io.WriteString(w, v)
		}
	})
	mux.HandleFunc("PUT /kv/{key}", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxValue))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "value too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := st.put(r.PathValue("key"), string(body)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}

// healthcheck exits 0 only when the server answers 200 on /healthz.
func healthcheck(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: status %s", url, resp.Status)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("read %s: %w", url, err)
	}
	return nil
}
