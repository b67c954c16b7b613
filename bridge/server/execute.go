package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/drone/drone-go/drone"
	"golang.org/x/oauth2"

	"coopcloud.tech/cc-ci/bridge/enroll"
	"coopcloud.tech/cc-ci/bridge/event"
	"coopcloud.tech/cc-ci/bridge/forge"
	"coopcloud.tech/cc-ci/bridge/intake"
	"coopcloud.tech/cc-ci/bridge/metrics"
	"coopcloud.tech/cc-ci/bridge/poll"
	"coopcloud.tech/cc-ci/bridge/store"
	"coopcloud.tech/cc-ci/bridge/trigger"
)

// shutdownGrace is how long in-flight webhooks get to finish on SIGTERM.
const shutdownGrace = 20 * time.Second

// apiTimeout bounds every forge and Drone call, so a hung API never stalls a worker for good.
const apiTimeout = 30 * time.Second

// Execute listens on s.Listen and serves until ctx ends.
func (s *Settings) Execute(ctx context.Context, log *slog.Logger) error {
	ln, err := net.Listen("tcp", s.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.Listen, err)
	}
	return s.Serve(ctx, ln, log)
}

// Serve runs the bridge on ln until ctx ends, then shuts down gracefully.
func (s *Settings) Serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	en, err := enroll.Load(s.Enrolment)
	if err != nil {
		_ = ln.Close()
		return err
	}
	st, err := store.Open(s.StorePath)
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer func() {
		if cerr := st.Close(); cerr != nil {
			log.Error("close store", "err", cerr)
		}
	}()
	forges, bots, err := s.forges(ctx)
	if err != nil {
		_ = ln.Close()
		return err
	}
	m := metrics.New()
	dc := drone.NewClient(s.DroneURL, (&oauth2.Config{}).Client(
		context.WithValue(context.Background(), oauth2.HTTPClient, s.apiClient()),
		&oauth2.Token{AccessToken: string(s.secrets.droneToken)}))
	svc := trigger.New(trigger.Config{
		DroneRepo: s.DroneRepo, DroneBranch: s.DroneBranch, DroneURL: s.DroneURL,
		RunsDir: s.RunsDir, RunsURL: s.RunsURL, DashboardURL: s.DashboardURL,
		AllowList: s.allowList(), Workers: s.Workers, RetryMin: s.RetryMin, RetryMax: s.RetryMax,
		Reconcile: s.Reconcile, Retention: s.Retention, Recipe: en.Lookup, Bots: bots,
	}, st, forges, dc, m, log)
	hooks, err := intake.New(intake.Config{
		GitHubSecret: s.secrets.githubHook, GiteaSecret: s.secrets.giteaHook, DroneSecret: s.secrets.droneHook,
		MaxBody: s.MaxBody, Bots: bots,
		Enrolled: func(f, repo string) bool { _, ok := en.Lookup(f, repo); return ok },
		Log:      log, Outcome: m.Delivery, Now: time.Now,
	}, svc, svc)
	if err != nil {
		_ = ln.Close()
		return err
	}
	poller := &poll.Poller{Forges: forges, Repos: en.Repos, Bots: bots, Sink: svc, Cursors: st,
		Every: s.PollEvery, Lookback: s.PollLookback, Log: log, Metrics: m, Now: time.Now}

	mux := http.NewServeMux()
	mux.HandleFunc("/hooks/github", hooks.GitHub)
	mux.HandleFunc("/hooks/gitea", hooks.Gitea)
	mux.HandleFunc("/hooks/drone", hooks.Drone)
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if err := st.Ping(); err != nil {
			http.Error(w, "store unreadable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}

	work, stopWork := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { svc.Run(work) })
	wg.Go(func() { poller.Run(work) })
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("cc-ci-bridge listening", "addr", ln.Addr().String(), "forges", len(forges), "drone_repo", s.DroneRepo)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	log.Info("shutting down: answering in-flight webhooks; the queue stays in the store")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	stopWork()
	wg.Wait()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	return nil
}

// forges builds a client for every configured forge and learns each bot's login.
func (s *Settings) forges(ctx context.Context) (map[string]forge.Forge, map[string]string, error) {
	hc := s.apiClient()
	forges := map[string]forge.Forge{}
	bots := map[string]string{}
	if len(s.secrets.githubToken) > 0 {
		g, err := forge.NewGitHub(s.GitHubAPI, string(s.secrets.githubToken), hc)
		if err != nil {
			return nil, nil, fmt.Errorf("github client: %w", err)
		}
		forges[event.GitHub] = g
		bots[event.GitHub] = s.GitHubBot
	}
	if len(s.secrets.giteaToken) > 0 {
		g, err := forge.NewGitea(s.GiteaURL, string(s.secrets.giteaToken), hc)
		if err != nil {
			return nil, nil, fmt.Errorf("gitea client: %w", err)
		}
		forges[event.Gitea] = g
		bots[event.Gitea] = s.GiteaBot
	}
	for name, f := range forges {
		if bots[name] != "" {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, apiTimeout)
		login, err := f.BotLogin(cctx)
		cancel()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: learn the bot's login (or set --%s-bot): %w", name, name, err)
		}
		bots[name] = login
	}
	return forges, bots, nil
}

// apiClient is the HTTP client of forge and Drone calls: bounded, and keeping a connection per
// worker alive (the default keeps 2 per host, so 8 workers would reconnect all the time).
func (s *Settings) apiClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 2 * s.Workers
	return &http.Client{Timeout: apiTimeout, Transport: t}
}
