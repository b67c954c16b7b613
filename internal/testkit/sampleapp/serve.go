package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// fallbackBody is what traefik answers for an unknown host. The Fallback variant serves it with
// status 200 on every page, like an app whose proxy fell back to a default page.
const fallbackBody = "404 page not found\n"

// maxValue caps a stored value; the store is for test data only.
const maxValue = 1 << 20

// options are the web app's settings, read from its environment.
type options struct {
	version, domain, title string
	// fallback (APP_FALLBACK=1) answers every page with fallbackBody.
	fallback bool
	// baseURL (APP_BASE_URL) is the app's canonical URL: like many apps, it redirects / to it
	// when asked under another host name (a recipe that wires a placeholder here is broken).
	baseURL string
	// loginURL (APP_LOGIN_URL) is a single sign-on login page: / redirects there, as an app
	// behind SSO does for a visitor without a session.
	loginURL string
	// requireAuth (APP_REQUIRE_AUTH=1) answers every page but /healthz with 401 and a Basic
	// challenge, like an app that wants a login at /.
	requireAuth bool
}

func optionsFrom(getenv func(string) string) options {
	return options{version: getenv("APP_VERSION"), domain: getenv("DOMAIN"),
		title: envOr(getenv, "APP_TITLE", "cc-ci sample app"), fallback: getenv("APP_FALLBACK") == "1",
		baseURL: getenv("APP_BASE_URL"), loginURL: getenv("APP_LOGIN_URL"), requireAuth: getenv("APP_REQUIRE_AUTH") == "1"}
}

// serve runs the web app until ctx ends. It refuses to start without its secret
// (APP_SECRET_FILE, default the api_key secret), like an app that needs its credentials. With
// DB_HOST set its data lives in the db service; otherwise in the store on its own volume, which it
// initialises on first boot. APP_FAIL_ONCE=1 makes the very first start on a volume exit 1, like
// an app that starts before its database is up (swarm ignores depends_on) and is restarted.
func serve(ctx context.Context, st store, getenv func(string) string, stdout io.Writer) error {
	if err := allocAtStart(getenv, stdout); err != nil { // APP_ALLOC_MB: see alloc.go
		return err
	}
	secret := envOr(getenv, "APP_SECRET_FILE", defaultSecretPath)
	if _, err := readSecret(secret); err != nil {
		return fmt.Errorf("secret %s missing (%s): %w", filepath.Base(secret), secret, err)
	}
	var data kv
	remote, isRemote, err := remoteFrom(getenv)
	switch {
	case err != nil:
		return err
	case isRemote:
		data = remote
	default:
		if getenv("APP_FAIL_ONCE") == "1" {
			if err := failOnce(filepath.Dir(st.path)); err != nil {
				return err
			}
		}
		if err := st.init(); err != nil {
			return fmt.Errorf("initialise the store: %w", err)
		}
		st.mu = &sync.Mutex{}
		data = localKV{st}
	}
	o := optionsFrom(getenv)
	fmt.Fprintf(stdout, "cc-ci sample app %s listening on %s (domain %q)\n", o.version, listenAddr, o.domain)
	return listen(ctx, listenAddr, newHandler(data, o))
}

// failOnce returns an error the first time it is called for dir (it leaves a marker there).
func failOnce(dir string) error {
	marker := filepath.Join(dir, ".ccci-started-before")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	if err := writeAtomic(marker, []byte("started\n")); err != nil {
		return err
	}
	return errors.New("database not reachable yet on first start: exiting so that the orchestrator restarts the app")
}

// listen serves h on addr until ctx ends, then shuts down gracefully.
func listen(ctx context.Context, addr string, h http.Handler) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", addr, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// newHandler returns the app's routes; with o.requireAuth it wants a login for everything but
// /healthz.
func newHandler(data kv, o options) http.Handler {
	if o.requireAuth {
		return requireAuth(appHandler(data, o))
	}
	return appHandler(data, o)
}

// appHandler returns the app's pages; with o.fallback it answers everything with fallbackBody.
func appHandler(data kv, o options) http.Handler {
	if o.fallback {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, fallbackBody)
		})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if to := o.redirect(r.Host); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		n, err := data.count(r.Context())
		if err != nil {
			http.Error(w, "database unavailable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html>\n<html><head><title>%[1]s</title></head>\n"+
			"<body><h1>%[1]s</h1>\n<p>version <span id=\"version\">%[2]s</span></p>\n"+
			"<p>domain <span id=\"domain\">%[3]s</span></p>\n<p><span id=\"count\">%[4]d</span> entries</p>\n</body></html>\n",
			html.EscapeString(o.title), html.EscapeString(o.version), html.EscapeString(o.domain), n)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if _, err := data.count(r.Context()); err != nil {
			http.Error(w, "database unavailable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	kvRoutes(mux, data)
	notesRoutes(mux, data, o)
	return mux
}

// authRealm is the Basic realm the app names when it wants a login.
const authRealm = "sample"

// requireAuth answers 401 with a Basic challenge for every path but /healthz (the orchestrator's
// healthcheck never logs in). No credentials are ever accepted: the app only has to look like one
// that wants a login, so INSTALL passes only when an overlay declares the 401.
func requireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="`+authRealm+`"`)
		http.Error(w, "401 Unauthorized: sign in to continue", http.StatusUnauthorized)
	})
}

// redirect returns where / sends a visitor who asked for host, or "" to serve the page.
func (o options) redirect(host string) string {
	if o.loginURL != "" {
		return o.loginURL
	}
	if o.baseURL == "" {
		return ""
	}
	u, err := url.Parse(o.baseURL)
	if err != nil || u.Host == "" {
		return ""
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if strings.EqualFold(u.Hostname(), host) {
		return ""
	}
	return strings.TrimRight(o.baseURL, "/") + "/"
}

// kvRoutes serves GET and PUT /kv/{key} from data.
func kvRoutes(mux *http.ServeMux, data kv) {
	mux.HandleFunc("GET /kv/{key}", func(w http.ResponseWriter, r *http.Request) {
		v, ok, err := data.get(r.Context(), r.PathValue("key"))
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
		if err := data.put(r.Context(), r.PathValue("key"), string(body)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
}

// healthcheck exits 0 only when the server answers 200 on /healthz.
func healthcheck(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 8*time.Second) // within the recipes' healthcheck timeout (10 s): a loaded box can take seconds
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
