// Package fakeswarm is TEST SUPPORT: a FAKE of the two swarm calls the janitor makes (Stacks and
// Teardown), seeded through exported fields and recording every teardown, so the janitor's rules
// can be tested with real locks and real files but without a Docker engine. It keeps the real
// contract: Teardown removes the stack from the listing and the .env file from disk, and is
// idempotent. The end-to-end suite (janitor/e2e) runs the same pass against the real swarm.
package fakeswarm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sync"

	"coopcloud.tech/cc-ci/internal/swarm"
)

// Swarm is the fake. Set the exported fields before the pass starts; it is safe for concurrent
// use by several janitors.
type Swarm struct {
	// Present is the stack list Stacks returns; Teardown removes a stack from it.
	Present []string
	// StacksErr, when set, is what Stacks returns.
	StacksErr error
	// TeardownErr, when set, is what Teardown returns (after recording the call, removing nothing).
	TeardownErr error
	// OnTeardown, when set, runs inside Teardown before anything is removed, e.g. to block the
	// reap until the test releases it, or to check that the app's lock is held.
	OnTeardown func(ctx context.Context, stack string) error

	mu        sync.Mutex
	teardowns []Call
	listings  int
}

// Call is one recorded Teardown.
type Call struct {
	Stack   string
	EnvPath string
}

// Stacks returns a copy of Present.
func (s *Swarm) Stacks(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listings++
	if s.StacksErr != nil {
		return nil, s.StacksErr
	}
	return slices.Clone(s.Present), nil
}

// Teardown records the call, runs OnTeardown, then removes the stack from Present and the file at
// envPath, reporting what it removed like the real one.
func (s *Swarm) Teardown(ctx context.Context, stack, envPath string) (swarm.TeardownReport, error) {
	s.mu.Lock()
	s.teardowns = append(s.teardowns, Call{Stack: stack, EnvPath: envPath})
	hook, fail := s.OnTeardown, s.TeardownErr
	s.mu.Unlock()
	if hook != nil {
		if err := hook(ctx, stack); err != nil {
			return swarm.TeardownReport{}, fmt.Errorf("teardown of stack %s: %w", stack, err)
		}
	}
	if fail != nil {
		return swarm.TeardownReport{}, fmt.Errorf("teardown of stack %s: %w", stack, fail)
	}
	var r swarm.TeardownReport
	s.mu.Lock()
	if i := slices.Index(s.Present, stack); i >= 0 {
		s.Present = slices.Delete(s.Present, i, i+1)
		r.Services = []string{stack + "_app"}
	}
	s.mu.Unlock()
	if envPath != "" {
		switch err := os.Remove(envPath); {
		case err == nil:
			r.EnvRemoved = true
		case !errors.Is(err, fs.ErrNotExist):
			return r, fmt.Errorf("teardown of stack %s: remove env file %s: %w", stack, envPath, err)
		}
	}
	return r, nil
}

// Teardowns returns the recorded Teardown calls in order.
func (s *Swarm) Teardowns() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.teardowns)
}

// TeardownsOf returns how many times stack was torn down.
func (s *Swarm) TeardownsOf(stack string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.teardowns {
		if c.Stack == stack {
			n++
		}
	}
	return n
}

// Listings returns how many times Stacks was called.
func (s *Swarm) Listings() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listings
}
