package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// probeResult is what the page shows at a selector.
type probeResult struct {
	State string `json:"state"` // invalid (not CSS), missing, hidden, visible
	Text  string `json:"text"`  // the visible text (a field's value), or the browser's complaint
}

// probeJS reads the first element matching a CSS selector. The selector is passed as a JSON
// string literal, never spliced in as code. A form field shows its value; anything else its
// rendered text. Visibility is chromedp's test (js/text.js): the element has a layout box.
const probeJS = `(function (sel) {
	let el;
	try { el = document.querySelector(sel); } catch (e) { return {state: "invalid", text: String(e && e.message)}; }
	if (el === null) { return {state: "missing", text: ""}; }
	if (!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)) { return {state: "hidden", text: ""}; }
	const field = el.tagName === "INPUT" || el.tagName === "TEXTAREA";
	return {state: "visible", text: String(field ? el.value : el.innerText)};
})(%s)`

// fillJS empties a text field, tells the page as deleting would, and focuses it for typing. It
// refuses a file input: typed text there would be a path on the CI host to upload.
const fillJS = `(function (sel) {
	const el = document.querySelector(sel);
	if (el === null) { return "missing"; }
	if (el.tagName === "INPUT" && el.type === "file") { return "file"; }
	if (!("value" in el) || typeof el.value !== "string" || !(el.tagName === "INPUT" || el.tagName === "TEXTAREA")) { return "notfield"; }
	el.value = "";
	el.dispatchEvent(new Event("input", {bubbles: true}));
	el.focus();
	return document.activeElement === el ? "ok" : "nofocus";
})(%s)`

func jsCall(fn, sel string) string {
	lit, _ := json.Marshal(sel) // a string always marshals; the literal escapes everything JS needs
	return fmt.Sprintf(fn, lit)
}

func (s *session) probe(ctx context.Context, sel string) (probeResult, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[probeResult](jsCall(probeJS, sel)))
}

// waitFor polls sel until ok holds. Polling (not a DOM event) because the page may navigate in
// between, which would take a page-side observer with it. At the deadline it fails with what the
// page showed last.
func (s *session) waitFor(ctx context.Context, sel string, ok func(probeResult) bool, why func(probeResult) string) (probeResult, error) {
	var last probeResult
	answered := false
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		// An evaluation error is a page between documents; the next poll sees the new one.
		if p, err := s.probe(ctx, sel); err == nil {
			last, answered = p, true
			if p.State == "invalid" {
				return p, failf("selector %s is not valid CSS: %s", quote(sel), plain(p.Text, 200))
			}
			if ok(p) {
				return p, nil
			}
		}
		select {
		case <-ctx.Done():
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return last, ctx.Err()
			}
			if !answered {
				return last, failf("the page did not answer within the check's timeout of %s (a script may be stuck)", s.timeout)
			}
			return last, failf("%s", why(last))
		case <-tick.C:
		}
	}
}

// absent explains a selector that is missing or hidden; "" when it is visible.
func (s *session) absent(sel string, p probeResult) string {
	switch p.State {
	case "missing":
		return fmt.Sprintf("selector %s never appeared on the page within %s", quote(sel), s.timeout)
	case "hidden":
		return fmt.Sprintf("selector %s is on the page but stayed hidden for %s", quote(sel), s.timeout)
	}
	return ""
}

func (s *session) waitVisible(ctx context.Context, sel string) error {
	_, err := s.waitFor(ctx, sel, func(p probeResult) bool { return p.State == "visible" },
		func(p probeResult) string { return s.absent(sel, p) })
	return err
}

// fill types text into the field at sel as key presses, so the page's own input handlers run.
// The keys go to the focused field (chromium's keyboard, never SendKeys): even a page that swaps
// the field for a file input in between cannot turn the text into a host file to upload.
func (s *session) fill(ctx context.Context, sel, text string) (string, error) {
	if err := s.waitVisible(ctx, sel); err != nil {
		return "", err
	}
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](jsCall(fillJS, sel)))
	if err != nil {
		return "", err
	}
	switch state {
	case "ok":
	case "file":
		return "", failf("selector %s is a file input: a browser check does not upload files", quote(sel))
	case "nofocus":
		return "", failf("selector %s does not take the focus (is it disabled?)", quote(sel))
	case "missing":
		return "", failf("selector %s left the page before it could be filled", quote(sel))
	default:
		return "", failf("selector %s is not a field that takes text", quote(sel))
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(text)); err != nil {
		return "", err
	}
	return fmt.Sprintf("typed %d characters into %s", len([]rune(text)), plain(sel, 80)), nil
}

func (s *session) waitText(ctx context.Context, sel, want string) (string, error) {
	want = normalize(want)
	p, err := s.waitFor(ctx, sel,
		func(p probeResult) bool { return p.State == "visible" && strings.Contains(normalize(p.Text), want) },
		func(p probeResult) string {
			if why := s.absent(sel, p); why != "" {
				return why
			}
			return fmt.Sprintf("selector %s never showed %s within %s; it shows %s", quote(sel), quote(want), s.timeout, quote(normalize(p.Text)))
		})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s shows %s", plain(sel, 80), quote(clipAround(normalize(p.Text), want))), nil
}

func (s *session) expectText(ctx context.Context, sel, want string) (string, error) {
	want = normalize(want)
	// Only a page between documents is waited out; whatever the page answers first is the verdict.
	p, err := s.waitFor(ctx, sel, func(probeResult) bool { return true }, func(probeResult) string { return "" })
	if err != nil {
		return "", err
	}
	got := normalize(p.Text)
	switch {
	case p.State == "missing":
		return "", failf("selector %s is not on the page", quote(sel))
	case p.State == "hidden":
		return "", failf("selector %s is on the page but hidden", quote(sel))
	case !strings.Contains(got, want):
		return "", failf("selector %s shows %s, not %s", quote(sel), quote(got), quote(want))
	}
	return fmt.Sprintf("%s shows %s", plain(sel, 80), quote(clipAround(got, want))), nil
}

// normalize collapses runs of white space, so text that wraps across lines or elements matches.
func normalize(s string) string { return strings.Join(strings.Fields(s), " ") }

// clipAround keeps a detail short: the wanted text with a little of what surrounds it.
func clipAround(got, want string) string {
	i := strings.Index(got, want)
	if i < 0 || len(got) <= maxShownTextRunes {
		return got
	}
	start := max(0, i-40)
	end := min(len(got), i+len(want)+40)
	for start > 0 && !utf8Start(got[start]) {
		start--
	}
	for end < len(got) && !utf8Start(got[end]) {
		end++
	}
	return got[start:end]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
