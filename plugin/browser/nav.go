package browser

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// watch starts following the tab's main frame. Call it before the action that may load a page,
// and call the returned stop when done.
func (s *session) watch(ctx context.Context) (*navWatch, func(), error) {
	tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		return nil, nil, err
	}
	nav := newNavWatch(tree.FrameTree.Frame.ID)
	lctx, cancel := context.WithCancel(ctx)
	if err := chromedp.Listen(lctx, nav.event); err != nil {
		cancel()
		return nil, nil, err
	}
	return nav, cancel, nil
}

// open navigates the tab to path on the app and waits until the page loaded. It returns where
// the browser ended up and that page's HTTP status (0 when no response came over the network).
func (s *session) open(ctx context.Context, path string) (string, int64, error) {
	target := s.base + path
	if u, err := url.Parse(target); err != nil || !strings.EqualFold(u.Hostname(), s.domain) {
		return "", 0, failf("%s does not stay on the app", quote(path))
	}
	nav, stop, err := s.watch(ctx)
	if err != nil {
		return "", 0, err
	}
	defer stop()
	res, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: target})
	switch {
	case err != nil:
		return "", 0, err
	case res.ErrorText != "":
		return "", 0, loadFailure(res.ErrorText, target)
	case res.IsDownload:
		return "", 0, failf("%s is a download, not a page", target)
	case res.LoaderID == "":
		// Only the fragment changed: nothing loads.
		return s.location(ctx)
	}
	return s.follow(ctx, nav, target)
}

// follow waits until the load nav saw start has finished, and reports where it ended.
func (s *session) follow(ctx context.Context, nav *navWatch, target string) (string, int64, error) {
	select {
	case <-nav.stopped:
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", 0, failf("%s did not finish loading within %s", plain(target, 200), s.timeout)
		}
		return "", 0, ctx.Err()
	}
	final, status, loadErr := nav.result()
	switch {
	case loadErr != "":
		return "", 0, loadFailure(loadErr, final)
	case status == 0:
		// A load without a network response (a page from the back-forward cache, a document
		// written by script): where the tab is now is all there is to check.
		return s.location(ctx)
	}
	return final, status, nil
}

func (s *session) location(ctx context.Context) (string, int64, error) {
	loc, err := chromedp.Run(ctx, chromedp.Location())
	return loc, 0, err
}

// click clicks sel and, when the click starts a page load in the tab (a form submission, a
// link), waits until that page loaded and checks it like a visit. A load starts after the click
// event returns, so a short settle window tells "no load" from "not yet".
func (s *session) click(ctx context.Context, sel string) (string, error) {
	if err := s.waitVisible(ctx, sel); err != nil {
		return "", err
	}
	nav, stop, err := s.watch(ctx)
	if err != nil {
		return "", err
	}
	defer stop()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		return "", err
	}
	settle := time.NewTimer(clickSettle)
	defer settle.Stop()
	select {
	case <-nav.started:
	case <-settle.C:
		return "clicked " + plain(sel, 80) + " (no page load followed)", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
	final, status, err := s.follow(ctx, nav, "the page the click opened")
	if err != nil {
		return "", err
	}
	landed, err := s.landed(final, status)
	if err != nil {
		return "", err
	}
	return "clicked " + plain(sel, 80) + ", then " + landed, nil
}

// navWatch follows the main frame's page loads from the tab's events. Its event method runs on
// chromedp's reader goroutine, so it only records and signals.
type navWatch struct {
	frame            cdp.FrameID
	started, stopped chan struct{}

	mu      sync.Mutex
	loading bool
	doc     network.RequestID
	url     string
	status  int64
	failed  string
}

func newNavWatch(frame cdp.FrameID) *navWatch {
	return &navWatch{frame: frame, started: make(chan struct{}, 1), stopped: make(chan struct{}, 1)}
}

func (n *navWatch) event(ev any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch e := ev.(type) {
	case *page.EventFrameStartedLoading:
		if e.FrameID == n.frame && !n.loading {
			n.loading = true
			signal(n.started)
		}
	case *network.EventRequestWillBeSent:
		if e.FrameID == n.frame && e.Type == network.ResourceTypeDocument {
			n.doc, n.url, n.status, n.failed = e.RequestID, e.Request.URL, 0, ""
		}
	case *network.EventResponseReceived:
		if e.RequestID == n.doc && e.Response != nil {
			n.url, n.status = e.Response.URL, e.Response.Status
		}
	case *network.EventLoadingFailed:
		if e.RequestID == n.doc {
			n.failed = e.ErrorText
		}
	case *page.EventFrameStoppedLoading:
		if e.FrameID == n.frame && n.loading {
			signal(n.stopped)
		}
	}
}

func (n *navWatch) result() (url string, status int64, failed string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.url, n.status, n.failed
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
