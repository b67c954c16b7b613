package generate_test

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/dashboard-gen/fakehistory"
)

// TestIndexInARealBrowser serves a generated site over HTTP to headless Chromium (Debian's
// chromium, as DESIGN.md 9 launches it) and reads the index as a visitor sees it: the table's
// visible text, no script anywhere (the hostile recipe's included), a phone-sized viewport that
// does not scroll sideways, and a screenshot that is a real picture.
func TestIndexInARealBrowser(t *testing.T) {
	t.Parallel()
	chromium, err := exec.LookPath("chromium")
	require.NoError(t, err, "the browser test needs Debian's chromium: apt-get install chromium")
	recipes := fakehistory.Recipes(4)
	runs := append(fakehistory.Mixed(40, recipes), fakehistory.HostileRun(41))
	w := newWorld(t, runs, append(recipes, "never-tested")...)
	w.generate(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(w.settings.Out)))
	t.Cleanup(srv.Close)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("disable-component-update", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	// The first action starts the browser and must not carry a timeout (chromedp.Run's rule).
	require.NoError(t, chromedp.Do(bctx))
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/index.html"), chromedp.WaitVisible(chromedp.ID("recipes"))))
	table, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#recipes")))
	require.NoError(t, err)
	lines := strings.Split(table, "\n")
	assert.Equal(t, "RECIPE\tLEVEL\tVERDICT\tVERSION AND REF\tWHEN\tLAST RUNS\tNOTES", lines[0], "the header row as shown (CSS upper-cases it)")
	for _, r := range recipes {
		assert.Contains(t, table, r)
	}
	assert.Contains(t, table, "never-tested\tuntested\tnever tested")
	assert.Contains(t, table, fakehistory.HostileName+"\tlevel 2 · fail\tfail at backup", "the hostile name is text in its row")
	assert.Regexp(t, `recipe-0\d\tlevel 5\tpass`, table)

	scripts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("script, [onerror], [onload]").length`))
	require.NoError(t, err)
	assert.Zero(t, scripts, "no script and no event handler made it into the page")

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	path := filepath.Join(t.ArtifactDir(), "index.png")
	require.NoError(t, os.WriteFile(path, shot, 0o644))
	checkScreenshot(t, path)

	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile),
		chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("recipes"))))
	fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
	require.NoError(t, err)
	assert.True(t, fits, "on a phone the page does not scroll sideways (wide tables scroll in their own box)")
	phone, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	phonePath := filepath.Join(t.ArtifactDir(), "index-phone.png")
	require.NoError(t, os.WriteFile(phonePath, phone, 0o644))
	checkScreenshot(t, phonePath)
}

// checkScreenshot inspects the saved screenshot: a non-empty PNG of a real size whose pixels are
// not all one colour (a blank page would be).
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.NotZero(t, fi.Size(), "the screenshot is not empty")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	b := img.Bounds()
	assert.Greater(t, b.Dx(), 300)
	assert.Greater(t, b.Dy(), 300)
	colours := map[[4]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, bl, a}] = true
		}
	}
	assert.Greater(t, len(colours), 10, "the screenshot shows something: %s", path)
}
