// Package render writes the dashboard's static site: index.html, recipe/<recipe>.html,
// run/<run-id>.html (with its results.json and screenshot), badge/<recipe>.svg,
// api/results.json and feed.xml. Pages are defined by html/template templates, so everything
// that came from a build (recipe names, refs, reasons, log excerpts) is escaped for where it
// lands; the run and recipe pages, one per build and one row per build, are written by plain Go
// that a test holds to the templates' bytes (writeLayout). Pages need no JavaScript, and each
// also forbids scripts in its Content-Security-Policy.
//
// Every file is replaced atomically (a temp file in the same directory, then rename), so a web
// server serving the directory never sends half a page; a full run writes into a hidden staging
// directory instead and puts each directory live with one rename (Rebuild, Publish). Files are
// not synced one by one: Sync syncs the whole file system once, before the caller records the
// pages as written.
package render

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"
)

// version changes whenever the pages change in a way the templates alone do not show (the view
// code): a new version re-renders every page.
const version = "1"

//go:embed templates
var files embed.FS

// Site writes the site into Out.
type Site struct {
	// Out is the site's directory, served as it is by a static web server.
	Out string
	// Title names the site in every page's header.
	Title string
	// BaseURL is the site's public URL (for the feed's links and the badge snippet); "" keeps
	// links relative.
	BaseURL string
	// GiteaURL is the Gitea/Forgejo base URL, for links to PRs of recipes there.
	GiteaURL string
	// Now stamps the pages (time.Now when nil).
	Now func() time.Time

	tmpl    map[string]*template.Template
	head    string // the layout up to the title, for the page writers (writeLayout)
	buffers sync.Pool
	live    *tree // Out itself

	mu sync.Mutex
	// A Rebuild's staging tree, the subdirectories of Out it leaves alone, and whether it was
	// published.
	stage     *tree
	unstaged  map[string]bool
	published bool
	paths     []string // written so far, up to syncEach of them
	written   atomic.Int64
}

// New checks the templates and returns a Site writing into out. Close it when done.
func New(out, title, baseURL, giteaURL string) (*Site, error) {
	s := &Site{Out: out, Title: title, BaseURL: baseURL, GiteaURL: giteaURL, live: newTree(out, false),
		tmpl: map[string]*template.Template{}}
	s.buffers.New = func() any { return new(bytes.Buffer) }
	base, err := template.New("layout").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/trend.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	for _, name := range []string{"index", "recipe", "run"} {
		t, err := template.Must(base.Clone()).ParseFS(files, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse %s template: %w", name, err)
		}
		s.tmpl[name] = t
	}
	if s.head, err = layoutHead(); err != nil {
		return nil, err
	}
	return s, nil
}

// Fingerprint names the site's look: the templates, the view code's version and the settings
// that shape pages. Pages rendered under another fingerprint are rendered anew.
func Fingerprint(settings ...string) string {
	h := sha256.New()
	h.Write([]byte(version + "\x00"))
	_ = fs.WalkDir(files, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(path)
		h.Write([]byte(path + "\x00"))
		h.Write(data)
		return err
	})
	for _, s := range settings {
		h.Write([]byte("\x00" + s))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Static writes the files every page shares (the stylesheet).
func (s *Site) Static() error {
	css, err := files.ReadFile("templates/style.css")
	if err != nil {
		return fmt.Errorf("stylesheet: %w", err)
	}
	return s.write("style.css", css)
}

// execute renders template name with data and writes it to rel.
func (s *Site) execute(name, rel string, data any) error {
	return s.writeWith(rel, func(b *bytes.Buffer) error {
		if err := s.tmpl[name].ExecuteTemplate(b, "layout", data); err != nil {
			return fmt.Errorf("render %s: %w", rel, err)
		}
		return nil
	})
}

// writeWith writes rel with what fill puts into a buffer (one of a pool: a full run writes a
// page per build); nothing when fill fails.
func (s *Site) writeWith(rel string, fill func(*bytes.Buffer) error) error {
	buf := s.buffers.Get().(*bytes.Buffer)
	defer s.buffers.Put(buf)
	buf.Reset()
	if err := fill(buf); err != nil {
		return err
	}
	return s.write(rel, buf.Bytes())
}

func (s *Site) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}
