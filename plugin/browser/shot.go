package browser

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"coopcloud.tech/cc-ci/internal/atomicfile"
)

// pngMagic starts every PNG file.
var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// capture takes a PNG of the whole page, beyond the viewport, cut at maxShotHeight (and at twice
// the viewport's width): a page may be arbitrarily tall, and the CI box's memory is not.
func (s *session) capture(ctx context.Context) ([]byte, error) {
	m, err := chromedp.Call(ctx, page.GetLayoutMetrics, cdp.Empty{})
	if err != nil {
		return nil, fmt.Errorf("measure the page: %w", err)
	}
	w, h := float64(viewportW), float64(viewportH)
	if c := m.CSSContentSize; c != nil {
		w = min(max(w, c.Width), 2*viewportW)
		h = min(max(h, c.Height), maxShotHeight)
	}
	res, err := chromedp.Call(ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format:                page.CaptureScreenshotFormatPng,
		Clip:                  &page.Viewport{Width: w, Height: h, Scale: 1},
		CaptureBeyondViewport: new(true),
		FromSurface:           new(true),
	})
	if err != nil {
		return nil, fmt.Errorf("capture the page: %w", err)
	}
	if !bytes.HasPrefix(res.Data, pngMagic) {
		return nil, fmt.Errorf("capture the page: chromium returned %d bytes that are not a PNG", len(res.Data))
	}
	return res.Data, nil
}

// writePNG replaces path atomically: the rename also replaces, rather than follows, a symlink
// that something else in the run dir may have planted there.
func writePNG(path string, png []byte) error {
	if err := atomicfile.Write(path, png, 0o644); err != nil {
		return fmt.Errorf("save screenshot: %w", err)
	}
	return nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slug turns a check's name into a file-name stem: lower-case letters, digits and dashes.
func slug(name string) string {
	s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(s) > 48 {
		s = strings.TrimRight(s[:48], "-")
	}
	if s == "" {
		return "check"
	}
	return s
}
