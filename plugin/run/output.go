package run

import (
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"sync"

	"coopcloud.tech/cc-ci/internal/abra"
)

// logWriter is the Drone log: every write goes to stdout and, once the run dir exists, to
// log.txt. It has its own lock (never the runner's), so output from abra's pty never waits on
// the teardown funnel.
type logWriter struct {
	mu     sync.Mutex
	stdout io.Writer
	file   *os.File
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.stdout.Write(p)
	if w.file != nil {
		// log.txt is a copy; a full disk must not stop the Drone log.
		_, _ = w.file.Write(p)
	}
	return n, err
}

// tee starts copying to f.
func (w *logWriter) tee(f *os.File) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.file = f
}

// stepAbra holds the runner's step token for the length of every abra call, so the teardown
// funnel never races a call that is still creating things. It also counts `app new` per domain,
// for the deploy-count guard (one per app).
type stepAbra struct {
	c    *abra.Client
	step chan struct{}

	mu   sync.Mutex
	news map[string]int
}

// do runs call while holding the step token; an aborted run gets its cause, not a new call.
func (s *stepAbra) do(ctx context.Context, call func() error) error {
	select {
	case s.step <- struct{}{}:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	defer func() { <-s.step }()
	return call()
}

func (s *stepAbra) AppNew(ctx context.Context, recipe, version, server, domain string, chaos bool) error {
	return s.do(ctx, func() error {
		s.mu.Lock()
		if s.news == nil {
			s.news = map[string]int{}
		}
		s.news[domain]++
		s.mu.Unlock()
		if chaos {
			return s.c.AppNewChaos(ctx, recipe, server, domain)
		}
		return s.c.AppNew(ctx, recipe, version, server, domain)
	})
}

func (s *stepAbra) Deploy(ctx context.Context, domain, version string, chaos bool) error {
	return s.do(ctx, func() error { return s.c.Deploy(ctx, domain, version, chaos) })
}

func (s *stepAbra) SecretGenerate(ctx context.Context, domain, secret, version string) error {
	return s.do(ctx, func() error { return s.c.SecretGenerateOne(ctx, domain, secret, version) })
}

func (s *stepAbra) BackupCreate(ctx context.Context, domain string) (string, error) {
	var snapshot string
	err := s.do(ctx, func() error {
		var err error
		snapshot, err = s.c.BackupCreateSnapshot(ctx, domain)
		return err
	})
	return snapshot, err
}

func (s *stepAbra) Restore(ctx context.Context, domain, snapshot string) error {
	return s.do(ctx, func() error { return s.c.RestoreSnapshot(ctx, domain, snapshot) })
}

// Lint runs `abra recipe lint`; abra's table is returned also when abra fails.
func (s *stepAbra) Lint(ctx context.Context, recipe string) (string, error) {
	var out string
	err := s.do(ctx, func() error {
		res, err := s.c.RecipeLint(ctx, recipe)
		out = res.Output
		if out == "" {
			var ae *abra.Error
			if errors.As(err, &ae) {
				out = ae.Output
			}
		}
		return err
	})
	return out, err
}

// AppNews counts `app new` calls per domain.
func (s *stepAbra) AppNews() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.news)
}
