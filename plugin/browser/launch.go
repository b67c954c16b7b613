package browser

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// execNames are looked up in PATH when Runner.Exec is empty: Debian's package installs chromium;
// other distributions call it chromium-browser.
var execNames = []string{"chromium", "chromium-browser"}

// envKeep is the whole environment chromium gets: the runner's environment holds tokens the
// browser has no business with, and proxy variables that must not override the front door.
var envKeep = []string{"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ"}

// domainRe is a lower-case DNS name of at least two labels. The domain ends up in chromium's
// command line (--host-resolver-rules), so nothing else may pass.
var domainRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)

// flag is one chromium command-line switch: --name=value, or --name for a bool true.
type flag struct {
	name  string
	value any // string or bool
}

// launch is everything needed to start a browser for one app.
type launch struct {
	exec   string
	domain string
	base   string // http(s)://domain, where step paths are appended
	flags  []flag
}

// prepare finds chromium and works out how it reaches domain through the front door.
func (r *Runner) prepare(ctx context.Context, domain string) (launch, error) {
	exe, err := findExec(r.Exec)
	if err != nil {
		return launch{}, err
	}
	base, door, err := doorFlags(ctx, r.FrontDoor, domain, net.DefaultResolver.LookupHost)
	if err != nil {
		return launch{}, err
	}
	return launch{exec: exe, domain: strings.ToLower(domain), base: base, flags: append(commonFlags(), door...)}, nil
}

// findExec resolves the chromium binary.
func findExec(configured string) (string, error) {
	if configured != "" {
		p, err := exec.LookPath(configured)
		if err != nil {
			return "", fmt.Errorf("chromium %q not found or not executable: %w", configured, err)
		}
		return p, nil
	}
	for _, name := range execNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("chromium not found in PATH (looked for %s): install the Debian package chromium on the CI host",
		strings.Join(execNames, ", "))
}

// commonFlags are chromedp's defaults (headless, no first-run UI, no background networking)
// plus what DESIGN.md 9 asks of the CI's browser.
func commonFlags() []flag {
	fs := []flag{
		{"disable-component-update", true},
		{"window-size", fmt.Sprintf("%d,%d", viewportW, viewportH)},
		// HttpsUpgrades would first try https:// for an http:// app URL (a CONNECT through the
		// proxy door, then a fallback); the autofill and hint services phone Google.
		{"disable-features", "Translate,BlinkGenPropertyTrees,HttpsUpgrades,AutofillServerCommunication,OptimizationHints,MediaRouter"},
	}
	if os.Geteuid() == 0 {
		// Chromium refuses to start its sandbox as root; the CI runs the plugin as root.
		fs = append(fs, flag{"no-sandbox", true})
	}
	return fs
}

// lookupHost resolves a host name to addresses (net.Resolver.LookupHost).
type lookupHost func(ctx context.Context, host string) ([]string, error)

// doorFlags returns the app's base URL and the flags that send chromium's requests for it to the
// front door:
//
//   - http://door:port: the door is chromium's HTTP proxy. A proxy request carries the absolute
//     URL, whose host the door routes by. Loopback is not exempt, so a page cannot reach the CI
//     host's own services behind the door's back.
//   - https://door (port 443): chromium resolves the app's domain to the door's address and
//     everything else to nothing, connects on 443 and checks the door's certificate against the
//     app's domain, as a visitor's browser does against traefik's wildcard certificate.
//
// Anything else is refused: no other combination lets chromium keep the app's own URL.
func doorFlags(ctx context.Context, frontDoor, domain string, lookup lookupHost) (string, []flag, error) {
	domain = strings.ToLower(domain)
	if len(domain) > 253 || !domainRe.MatchString(domain) {
		return "", nil, fmt.Errorf("app domain %q is not a DNS name", plain(domain, 80))
	}
	u, err := url.Parse(frontDoor)
	if err != nil || u.Host == "" {
		return "", nil, fmt.Errorf("front door %q is not a URL like http://127.0.0.1:8480 or https://door.example", plain(frontDoor, 120))
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", nil, fmt.Errorf("front door %s: give only scheme, host and port (no user, path or query)", u.Redacted())
	}
	switch u.Scheme {
	case "http":
		port := u.Port()
		if port == "" {
			port = "80"
		}
		return "http://" + domain, []flag{
			{"proxy-server", "http://" + net.JoinHostPort(u.Hostname(), port)},
			{"proxy-bypass-list", "<-loopback>"},
		}, nil
	case "https":
		if p := u.Port(); p != "" && p != "443" {
			return "", nil, fmt.Errorf("front door %s: an https front door must listen on port 443 (chromium maps the app's domain to the door's address, not to another port); use an http:// front door for any other port", u.Host)
		}
		ip, err := doorIP(ctx, u.Hostname(), lookup)
		if err != nil {
			return "", nil, err
		}
		return "https://" + domain, []flag{
			{"host-resolver-rules", fmt.Sprintf("MAP %s %s, MAP * ~NOTFOUND", domain, ip)},
			{"no-proxy-server", true},
		}, nil
	}
	return "", nil, fmt.Errorf("front door %s: scheme %q is neither http nor https", u.Redacted(), u.Scheme)
}

// doorIP is the door host's address as a host-resolver-rules target (IPv6 in brackets).
func doorIP(ctx context.Context, host string, lookup lookupHost) (string, error) {
	addr, err := netip.ParseAddr(host)
	if err != nil {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		addrs, lerr := lookup(lctx, host)
		if lerr != nil || len(addrs) == 0 {
			return "", fmt.Errorf("front door host %s does not resolve: %v", host, lerr)
		}
		if addr, err = netip.ParseAddr(addrs[0]); err != nil {
			return "", fmt.Errorf("front door host %s resolved to %q: %w", host, addrs[0], err)
		}
	}
	if addr.Is6() && !addr.Is4In6() {
		return "[" + addr.String() + "]", nil
	}
	return addr.Unmap().String(), nil
}

// allocatorOptions turns a launch into chromedp's allocator options.
func (l launch) allocatorOptions() []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(l.exec), chromedp.NoInheritEnv)
	var env []string
	for _, k := range envKeep {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	opts = append(opts, chromedp.Env(env...))
	for _, f := range l.flags {
		opts = append(opts, chromedp.Flag(f.name, f.value))
	}
	return opts
}

// session is one running browser with one tab open.
type session struct {
	ctx     context.Context // the tab's context; it ends when the browser goes away
	cancel  func()
	domain  string
	base    string
	timeout time.Duration // what bounds the steps, for failure messages
	wg      sync.WaitGroup
}

// start launches chromium and opens its tab. The browser lives until close or until parent ends;
// only the launch itself is bounded by startTimeout (a bound on the first Run would become the
// browser's lifetime). logf receives a line for each page dialog the session answers.
func (l launch) start(parent context.Context, logf func(format string, args ...any)) (*session, error) {
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent, l.allocatorOptions()...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	s := &session{ctx: tabCtx, domain: l.domain, base: l.base}
	s.cancel = func() { cancelTab(); cancelAlloc(); s.wg.Wait() }
	watchdog := time.AfterFunc(startTimeout, cancelAlloc)
	err := chromedp.Do(tabCtx)
	late := !watchdog.Stop()
	if err == nil && !late {
		err = s.guard(logf)
	}
	if err != nil || late {
		s.cancel()
		switch {
		case parent.Err() != nil:
			return nil, fmt.Errorf("start chromium: the run was cancelled (%v)", context.Cause(parent))
		case late:
			return nil, fmt.Errorf("start chromium %s: no answer within %s", l.exec, startTimeout)
		}
		return nil, fmt.Errorf("start chromium %s: %w", l.exec, err)
	}
	return s, nil
}

// guard keeps the app from using the browser against the CI host: downloads are refused (a
// click must not write files to the host's disk), and JavaScript dialogs are accepted, as a
// visitor would click OK, instead of stalling the page until the check times out.
func (s *session) guard(logf func(format string, args ...any)) error {
	if _, err := chromedp.CallBrowser(s.ctx, browser.SetDownloadBehavior,
		browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorDeny}); err != nil {
		return fmt.Errorf("refuse downloads: %w", err)
	}
	dialogs := chromedp.Events(s.ctx, page.JavascriptDialogOpening)
	s.wg.Go(func() {
		for ev, err := range dialogs {
			if err != nil {
				return // the tab is gone
			}
			_, err := chromedp.Call(s.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			if err != nil {
				logf("    page %s dialog %s could not be answered: %s\n", ev.Type, quote(ev.Message), plain(err.Error(), 200))
				continue
			}
			logf("    page %s dialog %s: accepted\n", ev.Type, quote(ev.Message))
		}
	})
	return nil
}

// close stops the browser and waits for it to exit and for its profile to be removed.
func (s *session) close() { s.cancel() }

// gone reports whether the browser itself is no longer there (it crashed or was stopped).
func (s *session) gone() bool { return s.ctx.Err() != nil }
