package generate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drone/drone-go/drone"
	"golang.org/x/sys/unix"

	"coopcloud.tech/cc-ci/dashboard-gen/render"
	"coopcloud.tech/cc-ci/dashboard-gen/source"
	"coopcloud.tech/cc-ci/dashboard-gen/state"
)

// Stats is what one run did, for its last log line and the benchmark.
type Stats struct {
	Full    bool          // every page was rendered (first run, new look, or --full)
	Listed  int           // builds Drone listed as new (any repo build, not only recipe runs)
	Changed int           // recipe runs new or changed since the last run
	Files   int           // files written
	Waited  time.Duration // time spent waiting on Drone's API, summed over concurrent requests
	// The phases: listing builds (Drone's API only), reading results and rendering run pages, and
	// the shared pages with the state (no API at all).
	List, Runs, Shared time.Duration
	Total              time.Duration
}

// Execute brings the site in s.Out up to date with Drone.
func (s *Settings) Execute(ctx context.Context, log *slog.Logger) (Stats, error) {
	begin := time.Now()
	unlock, err := lock(s.StatePath+".lock", log)
	if err != nil {
		return Stats{}, err
	}
	defer unlock()

	src := &source.Source{
		Drone: drone.NewClient(s.DroneURL, &http.Client{Timeout: s.Timeout,
			Transport: source.Transport{Ctx: ctx, Token: s.token}}),
		Owner: s.owner, Name: s.name, RunsDir: s.RunsDir, LinkBase: strings.TrimRight(s.DroneURL, "/"), Log: log,
	}
	if err := render.RemoveLeftovers(s.Out); err != nil {
		return Stats{}, err
	}
	site, err := render.New(s.Out, s.Title, s.BaseURL, s.GiteaURL)
	if err != nil {
		return Stats{}, err
	}
	st, full, err := s.load(log)
	if err == nil && full {
		err = site.Rebuild()
	}
	if err != nil {
		return Stats{}, errors.Join(err, site.Close())
	}
	stats, err := s.update(ctx, src, site, st, full, log)
	if cerr := site.Close(); cerr != nil {
		// What is left is the old or unpublished files in the staging directory: disk space, not
		// the site (the next run removes them).
		log.Warn("clean up after a full run", "err", cerr)
	}
	stats.Waited, stats.Total = src.Waited(), time.Since(begin)
	return stats, err
}

// load reads the state, or starts afresh when the pages were rendered another way, the site is
// gone, or --full asks for it.
func (s *Settings) load(log *slog.Logger) (*state.State, bool, error) {
	fp := s.fingerprint()
	st, err := state.Load(s.StatePath)
	if err != nil {
		return nil, false, err
	}
	_, statErr := os.Stat(filepath.Join(s.Out, "index.html"))
	why := ""
	switch {
	case s.Full:
		why = "--full"
	case st.Fingerprint == "":
		why = "no state yet"
	case st.Fingerprint != fp:
		why = "the pages' look or the settings that shape them changed"
	case errors.Is(statErr, fs.ErrNotExist):
		why = "the site has no index.html"
	}
	if why == "" {
		return st, false, nil
	}
	log.Info("rendering every page", "why", why)
	return state.New(fp), true, nil
}

// fingerprint names the templates and the settings that shape a page.
func (s *Settings) fingerprint() string {
	return render.Fingerprint(s.DroneURL, s.DroneRepo, s.BaseURL, s.Title, s.GiteaURL)
}

// update reads what is new, renders what it touches and saves the state.
func (s *Settings) update(ctx context.Context, src *source.Source, site *render.Site, st *state.State, full bool,
	log *slog.Logger) (Stats, error) {
	stats := Stats{Full: full}
	phase := time.Now()
	listed, err := src.Newer(ctx, st.Newest)
	if err != nil {
		return stats, err
	}
	stats.Listed = len(listed)
	builds, newest := pending(ctx, src, st, listed, log)
	if err := ctx.Err(); err != nil {
		return stats, fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
	stats.List, phase = time.Since(phase), time.Now()
	changed, err := s.readAndRender(ctx, src, site, st, builds)
	stats.Changed, stats.Runs, phase = len(changed), time.Since(phase), time.Now()
	if err != nil {
		return stats, err
	}
	if err := ctx.Err(); err != nil {
		// Stopped while reading: runs read half-way are not recorded; the next run reads them.
		return stats, fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
	recipesChanged := !slices.Equal(st.Recipes, s.recipes)
	if len(changed) == 0 && !recipesChanged && !full && newest == st.Newest {
		log.Info("nothing new", "newest", st.Newest)
		stats.Shared = time.Since(phase)
		return stats, nil
	}
	st.Newest, st.Recipes = max(st.Newest, newest), s.recipes
	st.Settle(changed)
	if err := s.renderShared(site, st, changed, full, recipesChanged); err != nil {
		return stats, err
	}
	stats.Files = site.Written()
	if err := site.Sync(); err != nil {
		return stats, err
	}
	if err := site.Publish(); err != nil {
		return stats, err
	}
	data, err := st.Encode()
	if err != nil {
		return stats, err
	}
	// Last: the state claims only pages that are on disk.
	if err := state.Save(s.StatePath, data); err != nil {
		return stats, fmt.Errorf("save state: %w", err)
	}
	stats.Shared = time.Since(phase)
	return stats, nil
}

// pending is the recipe builds to read: the listed ones and every run the state holds unsettled
// that the list did not cover (asked for one by one). It also returns the newest build number
// seen.
func pending(ctx context.Context, src *source.Source, st *state.State, listed []*drone.Build,
	log *slog.Logger) ([]*drone.Build, int64) {
	newest := st.Newest
	seen := map[int64]bool{}
	var out []*drone.Build
	for _, b := range listed {
		newest = max(newest, b.Number)
		seen[b.Number] = true
		if source.IsRecipeRun(b) {
			out = append(out, b)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(st.Unsettled)) {
		if seen[n] {
			continue
		}
		b, err := src.Build(ctx, n)
		if err != nil {
			// Kept as it was: asked again next run.
			log.Warn("ask Drone about an unfinished run", "build", n, "err", err)
			continue
		}
		out = append(out, b)
	}
	return out, newest
}

// readAndRender reads each build's results and renders its run page, two per CPU at once (a
// build without results.json waits on Drone for its step log); it returns the runs that are new
// or changed. A build whose summary did not change (still running) is not rendered again.
func (s *Settings) readAndRender(ctx context.Context, src *source.Source, site *render.Site, st *state.State,
	builds []*drone.Build) ([]state.Run, error) {
	var (
		mu      sync.Mutex
		changed []state.Run
	)
	err := inParallel(runtime.GOMAXPROCS(0)*2, len(builds), func(i int) error {
		b := builds[i]
		builds[i] = nil // a large first run need not keep every build it has read in memory
		read := src.Read(ctx, b)
		if prev, ok := st.Unsettled[b.Number]; ok && !read.Run.Settled() && prev.Status == read.Run.Status &&
			prev.Results == read.Run.Results && prev.Problem == read.Run.Problem {
			return nil // still going: its page already says so
		}
		if err := site.Run(&read.Run, read.Results, read.JSON, read.Screenshot); err != nil {
			return err
		}
		mu.Lock()
		changed = append(changed, read.Run)
		mu.Unlock()
		return nil
	})
	return changed, err
}

// inParallel calls do(0) ... do(n-1) on up to workers goroutines at once, and joins their
// errors.
func inParallel(workers, n int, do func(i int) error) error {
	var (
		next atomic.Int64
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := do(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// renderShared writes the pages that many runs feed: the recipe pages and badges of the recipes
// whose runs changed (every recipe on a full run), api/results.json, the feed and the index. A
// touched recipe's other runs are read back from api/results.json; every other recipe is known
// by its summary alone.
func (s *Settings) renderShared(site *render.Site, st *state.State, changed []state.Run, full, recipesChanged bool) error {
	var prev []byte
	if !full {
		// Mapped, not read: its lines are only copied to the new file. The old file stays
		// readable through the mapping after the new one is renamed over it.
		data, unmap, err := mapFile(filepath.Join(s.Out, "api", "results.json"))
		if err != nil {
			return err
		}
		defer unmap()
		prev = data
	}
	api := state.ParseAPI(prev)
	if err := api.Merge(changed); err != nil {
		return err
	}
	byRecipe := map[string][]state.Run{}
	for _, r := range changed {
		byRecipe[r.Recipe] = append(byRecipe[r.Recipe], r)
	}
	if full || recipesChanged {
		for _, name := range s.recipes {
			if _, ok := byRecipe[name]; !ok {
				byRecipe[name] = nil
			}
		}
	}
	if full {
		if err := site.Static(); err != nil {
			return err
		}
	}
	if err := renderRecipes(site, st, api, byRecipe, full); err != nil {
		return err
	}
	if err := site.API(api); err != nil {
		return err
	}
	recipes := render.FromSummaries(st.Summaries, st.Recipes)
	if err := site.Feed(recipes, s.DroneRepo); err != nil {
		return err
	}
	return site.Index(recipes)
}

// renderRecipes writes the page and badge of each recipe in byRecipe, several at once (a full
// run renders every recipe's whole history), and records each one's summary in st. On a full
// run byRecipe holds every run; else each recipe's runs are read back from api.
func renderRecipes(site *render.Site, st *state.State, api *state.API, byRecipe map[string][]state.Run, full bool) error {
	names := slices.Collect(maps.Keys(byRecipe))
	sums := make([]*state.Summary, len(names))
	err := inParallel(runtime.GOMAXPROCS(0), len(names), func(i int) error {
		var err error
		sums[i], err = renderRecipe(site, api, names[i], byRecipe[names[i]], full)
		return err
	})
	for i, sum := range sums {
		if sum != nil {
			st.Summaries[names[i]] = sum
		}
	}
	return err
}

// renderRecipe writes one recipe's page and badge and returns its summary (nil without runs).
func renderRecipe(site *render.Site, api *state.API, name string, runs []state.Run, full bool) (*state.Summary, error) {
	if !full {
		var err error
		if runs, err = api.Recipe(name); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(runs, func(a, b state.Run) int { return cmp.Compare(a.Build, b.Build) })
	r := render.NewRecipe(name, runs)
	if err := site.Recipe(r); err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, nil
	}
	return r.Summary(), nil
}

// lock takes the generator's lock, waiting for a run already going (the timer's, or one the
// bridge started after a build): two runs at once would race on the state file.
func lock(path string, log *slog.Logger) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		log.Info("another run is generating the site; waiting for it", "lock", path)
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
	}
	return func() { _ = f.Close() }, nil // closing releases the lock
}

// mapFile maps the file at path read-only; a missing or empty file is nil.
func mapFile(path string) ([]byte, func(), error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, func() {}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close() // the mapping outlives the descriptor
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if fi.Size() == 0 {
		return nil, func() {}, nil
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("map %s: %w", path, err)
	}
	return data, func() { _ = unix.Munmap(data) }, nil
}
