package fakedrone

import (
	"context"
	"fmt"

	"github.com/drone/drone-go/drone"
)

// Builds returns copies of the repository's builds, oldest first, each with its stage and step.
func (s *Server) Builds(owner, name string) []drone.Build {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.repos[owner+"/"+name]
	if rs == nil {
		return nil
	}
	out := make([]drone.Build, 0, len(rs.builds))
	for _, rec := range rs.builds {
		out = append(out, rec.snapshot(true))
	}
	return out
}

// CreateCount is how many builds the API created, over all repositories.
func (s *Server) CreateCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creates
}

// CancelCount is how many cancel requests (DELETE on a build) found their build, whether or not
// it was still running.
func (s *Server) CancelCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancels
}

// WebhookCounts reports how many webhooks were sent (a POST was attempted, whatever its outcome)
// and how many were dropped by DropWebhooks.
func (s *Server) WebhookCounts() (sent, dropped int) { return s.hooks.counts() }

// Log is the step log of a build so far, as one string (the logs endpoint serves it only once the
// step is over, as Drone does).
func (s *Server) Log(owner, name string, number int64) string {
	s.mu.Lock()
	rec := s.lookupLocked(owner, name, number)
	s.mu.Unlock()
	if rec == nil {
		return ""
	}
	return rec.log.text()
}

// WaitCreated waits until build number of owner/name exists and returns it.
func (s *Server) WaitCreated(ctx context.Context, owner, name string, number int64) (drone.Build, error) {
	return s.wait(ctx, owner, name, number, "created", func(*record) bool { return true })
}

// WaitFinished waits until build number of owner/name has a final status and its runner (if it
// ran) has returned, so whatever the step left behind is complete, and returns the build.
func (s *Server) WaitFinished(ctx context.Context, owner, name string, number int64) (drone.Build, error) {
	return s.wait(ctx, owner, name, number, "finished", func(r *record) bool { return r.finished })
}

// wait blocks until done holds for the build, woken by notifyLocked on every change.
func (s *Server) wait(ctx context.Context, owner, name string, number int64, what string,
	done func(*record) bool) (drone.Build, error) {
	for {
		s.mu.Lock()
		if rec := s.lookupLocked(owner, name, number); rec != nil && done(rec) {
			b := rec.snapshot(true)
			s.mu.Unlock()
			return b, nil
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return drone.Build{}, fmt.Errorf("wait for build %s/%s#%d %s: %w", owner, name,
				number, what, context.Cause(ctx))
		case <-changed:
		}
	}
}

// lookupLocked finds a build without creating its repository.
func (s *Server) lookupLocked(owner, name string, number int64) *record {
	rs := s.repos[owner+"/"+name]
	if rs == nil || number < 1 || number > int64(len(rs.builds)) {
		return nil
	}
	return rs.builds[number-1]
}
