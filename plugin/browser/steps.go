package browser

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/internal/results"
)

// failure is a step the page did not do: the app's fault, a Fail.
type failure struct{ msg string }

func (f *failure) Error() string { return f.msg }

func failf(format string, args ...any) error { return &failure{msg: fmt.Sprintf(format, args...)} }

// doorFault is the front door, or the way to it, failing: the CI box's fault, never the app's.
type doorFault struct{ msg string }

func (d *doorFault) Error() string { return d.msg }

// verdict is how one step's error counts.
type verdict struct {
	status results.Status
	detail string
}

// verdictOf decides whether a step's error is the app's fault (Fail) or the browser's, the front
// door's or the run's (Unverified). The run's and the browser's fate are looked at first: an error
// that arrives while either is ending says nothing about the app.
func verdictOf(run context.Context, sess *session, stepsCtx context.Context, err error, timeout time.Duration) verdict {
	var f *failure
	var d *doorFault
	switch {
	case run.Err() != nil:
		return verdict{results.Unverified, fmt.Sprintf("the run was cancelled (%s)", plain(fmt.Sprint(context.Cause(run)), 200))}
	case sess.gone():
		return verdict{results.Unverified, fmt.Sprintf("the browser exited or crashed (%s)", plain(err.Error(), 200))}
	case errors.As(err, &d):
		return verdict{results.Unverified, d.msg}
	case errors.As(err, &f):
		return verdict{results.Fail, f.msg}
	case errors.Is(err, context.DeadlineExceeded) && stepsCtx.Err() != nil:
		return verdict{results.Fail, fmt.Sprintf("no result within the check's timeout of %s", timeout)}
	}
	return verdict{results.Unverified, "browser error: " + plain(err.Error(), 300)}
}

// step runs one step. shot is the path of a screenshot it saved.
func (r *Runner) step(ctx context.Context, sess *session, s Step) (detail, shot string, err error) {
	switch s.Action {
	case ActionVisit:
		detail, err = sess.visit(ctx, s.Path)
	case ActionFill:
		detail, err = sess.fill(ctx, s.Selector, s.Text)
	case ActionClick:
		detail, err = sess.click(ctx, s.Selector)
	case ActionWaitText:
		detail, err = sess.waitText(ctx, s.Selector, s.Text)
	case ActionExpectText:
		detail, err = sess.expectText(ctx, s.Selector, s.Text)
	case ActionScreenshot:
		var png []byte
		if png, err = sess.capture(ctx); err != nil {
			return "", "", err
		}
		shot = filepath.Join(r.OutDir, s.File)
		if err = writePNG(shot, png); err != nil {
			return "", "", err
		}
		detail = fmt.Sprintf("saved %s (%d bytes)", shot, len(png))
	default:
		err = fmt.Errorf("unknown action %q", plain(s.Action, 40))
	}
	return detail, shot, err
}

// visit opens path on the app and waits until the page loaded.
func (s *session) visit(ctx context.Context, path string) (string, error) {
	final, status, err := s.open(ctx, path)
	if err != nil {
		return "", err
	}
	return s.landed(final, status)
}

// landed checks where a navigation ended: on the app, with a page the app meant to serve.
func (s *session) landed(final string, status int64) (string, error) {
	if err := s.onApp(final); err != nil {
		return "", err
	}
	if status == 0 {
		return "now at " + plain(final, 200), nil
	}
	if status >= 400 {
		return "", failf("HTTP %d for %s: the page did not load (check the path; a status check belongs in http_checks)", status, plain(final, 200))
	}
	return fmt.Sprintf("HTTP %d %s", status, plain(final, 200)), nil
}

// onApp fails when the browser is no longer on the app's own domain.
func (s *session) onApp(final string) error {
	if u, err := url.Parse(final); err != nil || !strings.EqualFold(u.Hostname(), s.domain) {
		return failf("the app sent the browser away to %s: a browser check stays on the app's own domain", quote(final))
	}
	return nil
}

// loadFailure turns chromium's net error for a page into a verdict. Errors of the connection to
// the front door are the box's; what the app answered (a login challenge, a redirect loop, a host
// of its own choosing) is the app's.
func loadFailure(text, target string) error {
	text, target = plain(text, 80), plain(target, 200)
	switch {
	case text == "net::ERR_INVALID_AUTH_CREDENTIALS":
		return failf("%s asks for a login (HTTP 401 with a sign-in challenge)", target)
	case text == "net::ERR_NAME_NOT_RESOLVED":
		return failf("loading %s went to a host other than the app (%s): a browser check reaches only the app's own domain", target, text)
	case strings.HasPrefix(text, "net::ERR_PROXY_"), strings.HasPrefix(text, "net::ERR_CERT_"),
		strings.HasPrefix(text, "net::ERR_SSL_"), strings.HasPrefix(text, "net::ERR_CONNECTION_"),
		strings.HasPrefix(text, "net::ERR_TUNNEL_"), text == "net::ERR_ADDRESS_UNREACHABLE",
		text == "net::ERR_TIMED_OUT", text == "net::ERR_EMPTY_RESPONSE", text == "net::ERR_INTERNET_DISCONNECTED",
		text == "net::ERR_NETWORK_CHANGED", text == "net::ERR_BAD_SSL_CLIENT_AUTH_CERT":
		return &doorFault{fmt.Sprintf("the front door failed for %s: %s (check the proxy, its certificate and CCCI_FRONTDOOR_URL)", target, text)}
	}
	return failf("%s did not load: %s", target, text)
}
