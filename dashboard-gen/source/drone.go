// Package source reads what the dashboard shows: the cc-ci repo's builds from Drone's API, every
// page of them, and each finished recipe run's results, from the runs dir or else the build's
// step log, the way the bridge reads a verdict (bridge/trigger/verdict.go).
package source

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/drone/drone-go/drone"
)

// PerPage is the largest page Drone's build list serves (handler/api/repos/builds/list.go: a
// per_page outside 1..100 falls back to 25).
const PerPage = 100

// droneAPI is the part of drone-go's client the dashboard calls.
type droneAPI interface {
	BuildList(owner, name string, opts drone.ListOptions) ([]*drone.Build, error)
	Build(owner, name string, number int) (*drone.Build, error)
	Logs(owner, name string, build, stage, step int) ([]*drone.Line, error)
}

// Source reads one Drone repository's recipe runs.
type Source struct {
	Drone       droneAPI
	Owner, Name string
	// RunsDir is the plugin's runs dir, read for <run-id>/results.json.
	RunsDir string
	// LinkBase is Drone's public URL: a build's page is <LinkBase>/<owner>/<name>/<number>.
	LinkBase string
	Log      *slog.Logger

	waited atomic.Int64 // nanoseconds spent waiting on Drone's API
}

// Waited is the time spent waiting on Drone's API so far (the rest of a run is the generator's
// own work).
func (s *Source) Waited() time.Duration { return time.Duration(s.waited.Load()) }

// wait adds the time since begin to Waited.
func (s *Source) wait(begin time.Time) { s.waited.Add(int64(time.Since(begin))) }

// Newer returns every build numbered above after, newest first, paging through Drone's list
// until a page reaches after or the history ends (a short page). after 0 reads the whole
// history: drone-go returns one page per call, and the system cc-ci replaces lost everything
// past the first 100 builds by reading only one.
func (s *Source) Newer(ctx context.Context, after int64) ([]*drone.Build, error) {
	var out []*drone.Build
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("list builds: %w", context.Cause(ctx))
		}
		begin := time.Now()
		builds, err := s.Drone.BuildList(s.Owner, s.Name, drone.ListOptions{Page: page, Size: PerPage})
		s.wait(begin)
		if err != nil {
			return nil, fmt.Errorf("list builds of %s/%s, page %d: %w", s.Owner, s.Name, page, err)
		}
		for _, b := range builds {
			if b.Number <= after {
				return out, nil
			}
			out = append(out, b)
		}
		if len(builds) < PerPage {
			return out, nil
		}
	}
}

// Build asks Drone for one build: a run seen unfinished that the list did not cover again.
func (s *Source) Build(ctx context.Context, number int64) (*drone.Build, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get build %d: %w", number, context.Cause(ctx))
	}
	begin := time.Now()
	b, err := s.Drone.Build(s.Owner, s.Name, int(number))
	s.wait(begin)
	if err != nil {
		return nil, fmt.Errorf("get build %s/%s#%d: %w", s.Owner, s.Name, number, err)
	}
	return b, nil
}

// Link is the build's page in Drone's UI: its live log. (drone.Build.Link is not that: Drone
// sets it to the commit's page on the forge.)
func (s *Source) Link(number int64) string {
	if s.LinkBase == "" {
		return ""
	}
	return fmt.Sprintf("%s/%s/%s/%d", s.LinkBase, s.Owner, s.Name, number)
}

// Transport is the dashboard's HTTP transport to Drone. drone-go's client takes no context, so
// every request is given Ctx here: cancelling the run (SIGTERM from systemd) aborts a request in
// flight. A non-empty Token is sent as "Authorization: Bearer <token>", as the oauth2 transport
// of drone-go's README does; the token never reaches a log.
type Transport struct {
	Ctx   context.Context
	Token string
	Base  http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(t.Ctx)
	if t.Token != "" {
		r.Header.Set("Authorization", "Bearer "+t.Token)
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}
