package render

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/dashboard-gen/state"
	"coopcloud.tech/cc-ci/internal/results"
)

// page is what the layout needs.
type page struct {
	Site      string
	Root      string // the way back to the site's root: "" or "../"
	Generated time.Time
}

// row is one recipe as the index and its page show it.
type row struct {
	Name, Key, Class, Badge, Streak string
	Current                         *state.Run
	Since                           time.Time
	Trend                           []Cell
	Notes                           []string
}

func newRow(r *Recipe, root string) row {
	return row{Name: r.Name, Key: r.Key, Class: LevelClass(r.Current), Badge: BadgeText(r.Current), Streak: r.Streak(),
		Current: r.Current, Since: r.Since, Trend: r.Trend(root), Notes: r.Notes()}
}

// Index writes index.html: one row per recipe.
func (s *Site) Index(recipes []*Recipe) error {
	rows := make([]row, 0, len(recipes))
	for _, r := range recipes {
		rows = append(rows, newRow(r, ""))
	}
	return s.execute("index", "index.html", struct {
		page
		Counts string
		Rows   []row
	}{page{s.Title, "", s.now()}, Counts(recipes), rows})
}

// Recipe writes recipe/<key>.html (its history, newest first) and badge/<key>.svg.
func (s *Site) Recipe(r *Recipe) error {
	runs := slices.Clone(r.Runs)
	slices.Reverse(runs)
	badgeURL := "badge/" + r.Key + ".svg"
	if s.BaseURL != "" {
		badgeURL = strings.TrimRight(s.BaseURL, "/") + "/" + badgeURL
	}
	if err := s.write("badge/"+r.Key+".svg", Badge(r.Name, r.Current)); err != nil {
		return err
	}
	p := recipePage{page: page{s.Title, "../", s.now()}, Row: newRow(r, "../"), Runs: runs, BadgeURL: badgeURL}
	return s.writeWith("recipe/"+r.Key+".html", func(b *bytes.Buffer) error { p.writeHTML(b, s.head); return nil })
}

// Run writes run/<run-id>.html and, before it (the page links to them), the run's results as
// run/<run-id>.json and its screenshot as run/<run-id>.png. res and data are nil for a run
// without usable results; screenshot is the path of the run's screenshot or "".
func (s *Site) Run(run *state.Run, res *results.Results, data []byte, screenshot string) error {
	base := "run/" + run.RunID
	if res != nil {
		if err := s.write(base+".json", data); err != nil {
			return err
		}
	}
	if screenshot != "" {
		png, err := os.ReadFile(screenshot)
		if err != nil {
			return fmt.Errorf("copy screenshot: %w", err)
		}
		if err := s.write(base+".png", png); err != nil {
			return err
		}
	}
	view := s.runView(run, res, s.now())
	return s.writeWith(base+".html", func(b *bytes.Buffer) error { view.writeHTML(b, s.head); return nil })
}

// API writes api/results.json: every run, one array (state.Run's schema), line by line.
func (s *Site) API(api *state.API) error { return s.stream("api/results.json", api.Write) }

var (
	// repoSlug is a forge owner/name, as the bridge's enrolment accepts it:
	// ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}/[A-Za-z0-9._-]{1,100}$, with the lengths checked apart
	// (validSlug; see recipeName).
	repoSlug = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+$`)
	prNumber = regexp.MustCompile(`^[1-9][0-9]{0,9}$`)
)

// validSlug reports whether repo is owner/name as the bridge's enrolment accepts it.
func validSlug(repo string) bool {
	owner, name, _ := strings.Cut(repo, "/")
	return len(owner) <= 100 && len(name) <= 100 && repoSlug.MatchString(repo)
}

// prLink is the run's pull request on its forge, or "" when the forge's address is unknown or
// the repo or PR is not well-formed.
func (s *Site) prLink(run *state.Run) string {
	if !validSlug(run.Repo) || !prNumber.MatchString(run.PR) {
		return ""
	}
	switch run.Forge {
	case "github":
		return "https://github.com/" + run.Repo + "/pull/" + run.PR
	case "gitea":
		if s.GiteaURL == "" {
			return ""
		}
		u, err := url.JoinPath(s.GiteaURL, run.Repo, "pulls", run.PR)
		if err != nil {
			return ""
		}
		return u
	}
	return ""
}
