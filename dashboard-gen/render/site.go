// Package render writes the dashboard's static site: index.html, recipe/<recipe>.html,
// run/<run-id>.html (with its results.json and screenshot), badge/<recipe>.svg,
// api/results.json and feed.xml. Pages are html/template, so everything that came from a build
// (recipe names, refs, reasons, log excerpts) is escaped for where it lands; they need no
// JavaScript, and each page also forbids scripts in its Content-Security-Policy.
//
// Every file is replaced atomically (a temp file in the same directory, then rename), so a web
// server serving the directory never sends half a page. Files are not synced one by one: Sync
// syncs the whole file system once, before the caller records the pages as written.
package render

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
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
	mu      sync.Mutex
	dirs    map[string]bool
	paths   []string // written so far, up to syncEach of them
	written atomic.Int64
	buffers sync.Pool
}

// syncEach is the most files Sync fsyncs one by one; past it, one syncfs(2) is cheaper.
const syncEach = 256

// New checks the templates and returns a Site writing into out.
func New(out, title, baseURL, giteaURL string) (*Site, error) {
	s := &Site{Out: out, Title: title, BaseURL: baseURL, GiteaURL: giteaURL, dirs: map[string]bool{},
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

// Written is how many files were written so far.
func (s *Site) Written() int { return int(s.written.Load()) }

// Sync makes every file written so far durable: a few files (an incremental run) are fsynced
// one by one with their directories; many (a full run) with one syncfs(2) of Out's file system,
// instead of one fsync per page.
func (s *Site) Sync() error {
	s.mu.Lock()
	paths := s.paths
	s.mu.Unlock()
	if int(s.written.Load()) > len(paths) {
		return s.syncfs()
	}
	dirs := map[string]bool{}
	for _, p := range paths {
		if err := fsync(p); err != nil {
			return err
		}
		dirs[filepath.Dir(p)] = true
	}
	for d := range dirs {
		if err := fsync(d); err != nil {
			return err
		}
	}
	return nil
}

func (s *Site) syncfs() error {
	d, err := os.Open(s.Out)
	if err != nil {
		return fmt.Errorf("sync site: %w", err)
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return fmt.Errorf("sync site %s: %w", s.Out, err)
	}
	return nil
}

// fsync flushes one file or directory to disk.
func fsync(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
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
	buf := s.buffers.Get().(*bytes.Buffer)
	defer s.buffers.Put(buf)
	buf.Reset()
	if err := s.tmpl[name].ExecuteTemplate(buf, "layout", data); err != nil {
		return fmt.Errorf("render %s: %w", rel, err)
	}
	return s.write(rel, buf.Bytes())
}

// write replaces Out/rel with data atomically (see stream).
func (s *Site) write(rel string, data []byte) error {
	return s.stream(rel, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// stream replaces Out/rel atomically with what fill writes: a new temp file in the same directory, then
// rename. The temp file is created with mode 0644 (less the umask), so the web server can read
// it the moment it appears.
func (s *Site) stream(rel string, fill func(io.Writer) error) error {
	path := filepath.Join(s.Out, rel)
	dir := filepath.Dir(path)
	if err := s.mkdir(dir); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+filepath.Base(path)+".tmp-"+strconv.FormatUint(rand.Uint64(), 36))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	err = errors.Join(fill(f), f.Close())
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp) // best effort: the error below is what matters
		return fmt.Errorf("write %s: %w", path, err)
	}
	if s.written.Add(1) <= syncEach {
		s.mu.Lock()
		s.paths = append(s.paths, path)
		s.mu.Unlock()
	}
	return nil
}

// mkdir creates dir once per Site.
func (s *Site) mkdir(dir string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirs[dir] {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	s.dirs[dir] = true
	return nil
}

func (s *Site) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}
