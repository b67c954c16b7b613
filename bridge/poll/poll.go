// Package poll is the catch-up loop: webhooks can be lost (GitHub does not redeliver on its own,
// and the bridge may have been down), so every few minutes it lists the recent comments on the
// open PRs of every enrolled repo and feeds any `!testme` the bridge has not seen through the same
// path as a webhook. The store's request key (the comment) makes this exactly-once.
package poll

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/bridge/command"
	"coopcloud.tech/cc-ci/bridge/event"
	"coopcloud.tech/cc-ci/bridge/forge"
)

// sink takes a comment found by the poll; created is false when the bridge already had it.
type sink interface {
	Catch(ctx context.Context, ev event.Event) (created bool, err error)
}

// cursors stores each repo's high-water mark, so a restart resumes where the last pass ended.
type cursors interface {
	Cursor(name string) (time.Time, error)
	SetCursor(name string, t time.Time) error
}

// counter counts comments caught up.
type counter interface{ Reconcile(action string) }

// Poller is the catch-up loop.
type Poller struct {
	Forges   map[string]forge.Forge
	Repos    func(forge string) []string // enrolled repos of a forge
	Bots     map[string]string           // each forge's bot login
	Sink     sink
	Cursors  cursors
	Every    time.Duration // between passes
	Lookback time.Duration // how far back the very first pass looks (no cursor yet)
	Log      *slog.Logger
	Metrics  counter
	Now      func() time.Time
}

// skew is how far before the cursor each pass looks again: forge and bridge clocks differ, and a
// comment created during the previous listing must not fall between two passes. Re-seeing a
// comment costs nothing: the store knows it.
const skew = 2 * time.Minute

// Run does a pass at once and then every p.Every until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	t := time.NewTicker(p.Every)
	defer t.Stop()
	for {
		if err := p.Once(ctx); err != nil && ctx.Err() == nil {
			p.Log.Warn("poll pass incomplete", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Once does one pass over every enrolled repo of every configured forge.
func (p *Poller) Once(ctx context.Context) error {
	var errs []error
	n := 0
	for name, f := range p.Forges {
		for _, repo := range p.Repos(name) {
			n++
			if err := p.repo(ctx, f, repo); err != nil {
				errs = append(errs, err)
			}
		}
	}
	p.Log.Debug("poll pass done", "repos", n, "errors", len(errs))
	return errors.Join(errs...)
}

// repo catches up one repo; its cursor advances only when every PR was read.
func (p *Poller) repo(ctx context.Context, f forge.Forge, repo string) error {
	name := f.Name() + "/" + repo
	started := p.Now()
	since, err := p.Cursors.Cursor(name)
	if err != nil {
		return fmt.Errorf("poll cursor %s: %w", name, err)
	}
	if since.IsZero() {
		since = started.Add(-p.Lookback)
	}
	from := since.Add(-skew)
	prs, err := f.OpenPullRequests(ctx, repo)
	if err != nil {
		return fmt.Errorf("poll %s: %w", name, err)
	}
	owner, _, _ := strings.Cut(repo, "/")
	for _, pr := range prs {
		cs, err := f.Comments(ctx, repo, pr.Number, from)
		if err != nil {
			return fmt.Errorf("poll %s#%d: %w", name, pr.Number, err)
		}
		for _, c := range cs {
			// Edits are not commands (as on the webhook path): only comments created in the
			// window and never edited count; a maintainer whose edit added `!testme` comments anew.
			if c.Created.Before(from) || c.Updated.Sub(c.Created) > time.Second ||
				strings.EqualFold(c.Author, p.Bots[f.Name()]) {
				continue
			}
			if _, ok := command.Parse(c.Body); !ok {
				continue
			}
			ev := event.Event{Forge: f.Name(), DeliveryID: "poll-" + started.UTC().Format("20060102T150405"),
				Kind: event.Comment, Repo: repo, Owner: owner, PR: pr.Number, PROpen: pr.Open,
				CommentID: c.ID, Body: c.Body, Author: c.Author, CloneURL: pr.CloneURL, Received: p.Now(),
				Created: c.Created, Polled: true}
			created, err := p.Sink.Catch(ctx, ev)
			if err != nil {
				return fmt.Errorf("poll %s#%d: store comment %d: %w", name, pr.Number, c.ID, err)
			}
			if created {
				p.Metrics.Reconcile("comment_caught_up")
				p.Log.Info("poll found a !testme whose webhook never came", "forge", f.Name(), "repo", repo,
					"pr", pr.Number, "comment", c.ID)
			}
		}
	}
	return p.Cursors.SetCursor(name, started)
}
