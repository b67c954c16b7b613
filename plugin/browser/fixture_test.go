package browser

import (
	"bytes"
	"fmt"
	"html"
	"image/png"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// appDomain is the test app's name behind the door. The browser never resolves it: the door,
// used as chromium's proxy, routes by the host of the request.
const appDomain = "samp-1a2b3c.ci.local"

// notesApp is a tiny real web app with the notes form the sample recipe's app serves
// (internal/testkit/sampleapp): GET /notes shows a form and the saved notes, POST /notes saves one
// and redirects 303 to /notes.
type notesApp struct {
	mu    sync.Mutex
	notes []string
	hosts []string      // Host header of every request, as the app saw it
	slow  chan struct{} // closed when GET /slow arrives (it then hangs until the client leaves)
	once  sync.Once
}

func newNotesApp() *notesApp { return &notesApp{slow: make(chan struct{})} }

func (a *notesApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.hosts = append(a.hosts, r.Host)
	a.mu.Unlock()
	switch {
	case r.URL.Path == "/notes" && r.Method == http.MethodPost:
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		a.notes = append(a.notes, r.PostForm.Get("note"))
		a.mu.Unlock()
		http.Redirect(w, r, "/notes", http.StatusSeeOther)
	case r.URL.Path == "/notes":
		a.mu.Lock()
		var items strings.Builder
		for _, n := range a.notes {
			fmt.Fprintf(&items, "<li class=\"note\">%s</li>\n", html.EscapeString(n))
		}
		saved := ""
		if len(a.notes) > 0 {
			saved = fmt.Sprintf("<p id=\"saved\">%s</p>", html.EscapeString(a.notes[len(a.notes)-1]))
		}
		a.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>Notes</title></head><body>
<h1>Notes <script>/* the page's markup never reaches a detail */</script></h1>
<form method="post" action="/notes"><input id="note" name="note"><button id="save">Save</button></form>
<p id="ghost" style="display:none">Welcome</p>
<button id="noop" type="button">Nothing</button> <a id="out" href="http://elsewhere.example/">elsewhere</a>
<button id="ask" type="button" onclick="document.getElementById('answer').textContent = confirm('Sure?') ? 'yes' : 'no'">Ask</button>
<p id="answer"></p> <input id="upload" type="file"> <input id="off" disabled>
<p id="later"></p><script>setTimeout(() => { document.getElementById("later").textContent = "ready now"; }, 300);</script>
%s<ul>%s</ul></body></html>`, saved, items.String())
	case r.URL.Path == "/slow":
		a.once.Do(func() { close(a.slow) })
		<-r.Context().Done()
	case r.URL.Path == "/away":
		http.Redirect(w, r, "http://elsewhere.example/", http.StatusFound)
	case r.URL.Path == "/login":
		w.Header().Set("WWW-Authenticate", `Basic realm="sample"`)
		http.Error(w, "sign in first", http.StatusUnauthorized)
	case r.URL.Path == "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><html><body style="margin:0"><h1>Landing</h1>`+
			`<div style="height:3000px;background:#36c"></div></body></html>`)
	default:
		http.NotFound(w, r)
	}
}

func (a *notesApp) saved() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.notes...)
}

func (a *notesApp) sawHosts() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.hosts...)
}

// door is a FAKE front door for these tests: like internal/testkit/frontdoor (and traefik), it
// routes each request by its host to the app serving that host, and answers traefik's 404 body
// for any other host. Chromium uses it as an HTTP proxy, so requests arrive in absolute form
// (GET http://host/path, RFC 9112 section 3.2.2), whose host Go's server puts in r.Host.
type door struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "METHOD host path" of every request
}

func newDoor(t *testing.T, app http.Handler) *door {
	t.Helper()
	upstream := httptest.NewServer(app)
	t.Cleanup(upstream.Close)
	target, err := url.Parse(upstream.URL)
	require.NoError(t, err)
	d := &door{}
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host // the app sees its own domain, as behind traefik
	}, ErrorLog: log.New(io.Discard, "", 0)} // a browser leaving mid-request is expected here
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := strings.ToLower(r.Host)
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		d.mu.Lock()
		d.seen = append(d.seen, r.Method+" "+host+" "+r.URL.Path)
		d.mu.Unlock()
		if host != appDomain {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, "404 page not found\n")
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *door) requests() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.seen...)
}

// runner is a Runner through d writing into a fresh directory, its progress kept in log.
func runner(t *testing.T, frontDoor string, log *syncBuffer) *Runner {
	t.Helper()
	return &Runner{FrontDoor: frontDoor, OutDir: t.TempDir(), Out: log}
}

// syncBuffer is a bytes.Buffer safe for the runner's writes and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// requirePNG checks that path holds a decodable PNG and returns its size.
func requirePNG(t *testing.T, path string) (w, h int) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err, "%s is not a PNG", path)
	return img.Bounds().Dx(), img.Bounds().Dy()
}

// requireChromium stops a test that needs the real browser when none is installed, saying how
// to get one, rather than passing without having run.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := findExec(""); err != nil {
		t.Fatalf("these tests drive the real browser: %v (apt-get install -y chromium)", err)
	}
}
