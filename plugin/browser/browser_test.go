package browser

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/results"
)

func TestAFormFlowThroughTheFrontDoorPasses(t *testing.T) {
	t.Parallel()
	requireChromium(t)
	app := newNotesApp()
	d := newDoor(t, app)
	var log syncBuffer
	r := runner(t, d.URL, &log)
	note := `hello <b>world</b> & "friends"`
	out := r.Run(context.Background(), appDomain, Check{Name: "Save a note", Steps: []Step{
		{Action: ActionVisit, Path: "/notes"},
		{Action: ActionFill, Selector: "#note", Text: note},
		{Action: ActionClick, Selector: "#save"},
		{Action: ActionWaitText, Selector: "#saved", Text: note},
		{Action: ActionExpectText, Selector: "h1", Text: "Notes"},
		{Action: ActionScreenshot, File: "saved.png"},
	}})

	require.Equal(t, results.Pass, out.Status, "%s\n%s", out.Reason, log.String())
	require.Len(t, out.Checks, 6)
	for _, c := range out.Checks {
		assert.Equal(t, results.Pass, c.Status, c.Name)
	}
	assert.Equal(t, "browser Save a note: step 3 click #save", out.Checks[2].Name)
	assert.Contains(t, out.Checks[2].Detail, "HTTP 200 http://"+appDomain+"/notes", "the click's form post was followed to the page it redirected to")
	assert.Equal(t, []string{note}, app.saved(), "the app stored exactly what was typed, through a real form post")
	for _, h := range app.sawHosts() {
		assert.Equal(t, appDomain, h, "every request reached the app under its own domain")
	}
	assert.Contains(t, d.requests(), "POST "+appDomain+" /notes", "the browser went through the front door")
	shot := filepath.Join(r.OutDir, "saved.png")
	assert.Equal(t, []string{shot}, out.Screenshots)
	requirePNG(t, shot)
	assert.Contains(t, log.String(), "[6/6] screenshot saved.png ... ok")
}

func TestExpectTextThePageDoesNotShowFailsWithTheStepTheSelectorAndAScreenshot(t *testing.T) {
	t.Parallel()
	requireChromium(t)
	d := newDoor(t, newNotesApp())
	r := runner(t, d.URL, &syncBuffer{})
	out := r.Run(context.Background(), appDomain, Check{Name: "Greets the visitor!", Steps: []Step{
		{Action: ActionVisit, Path: "/notes"},
		{Action: ActionExpectText, Selector: "h1", Text: "Welcome"},
		{Action: ActionScreenshot, File: "after.png"},
	}})

	require.Equal(t, results.Fail, out.Status, out.Reason)
	shot := filepath.Join(r.OutDir, "greets-the-visitor-failed.png")
	want := `step 2 expect_text h1 "Welcome": selector "h1" shows "Notes", not "Welcome"; screenshot of the failing page: ` + shot
	assert.Equal(t, want, out.Checks[1].Detail)
	assert.Equal(t, results.Fail, out.Checks[1].Status)
	assert.Equal(t, results.Pass, out.Checks[0].Status)
	assert.Equal(t, results.Skip, out.Checks[2].Status, "a step after the failing one is not run")
	assert.Equal(t, "not run: step 2 did not pass", out.Checks[2].Detail)
	assert.Contains(t, out.Reason, want)
	assert.NotContains(t, out.Reason, "<", "no page markup reaches the results")
	assert.Equal(t, []string{shot}, out.Screenshots)
	w, h := requirePNG(t, shot)
	assert.GreaterOrEqual(t, w, viewportW)
	assert.Positive(t, h)
}

// TestStepVerdictsInOneBrowser drives one browser through many pages, step by step, through the
// same verdict rules Run applies: starting a browser per case would cost seconds each.
func TestStepVerdictsInOneBrowser(t *testing.T) {
	t.Parallel()
	requireChromium(t)
	d := newDoor(t, newNotesApp())
	var log syncBuffer
	r := runner(t, d.URL, &log)
	l, err := r.prepare(context.Background(), appDomain)
	require.NoError(t, err)
	sess, err := l.start(context.Background(), r.printf)
	require.NoError(t, err)
	defer sess.close()
	const waitBound = 10 * time.Second
	sess.timeout = waitBound
	tests := []struct {
		name       string
		path       string // visited first, and must load
		steps      []Step // all but the last must pass
		wantStatus results.Status
		want       string // the last step's detail starts with it
	}{
		{"text that appears later is waited for", "/notes", []Step{{Action: ActionWaitText, Selector: "#later", Text: "ready"}},
			results.Pass, `#later shows "ready now"`},
		{"text that never appears fails with what the element shows", "/notes", []Step{{Action: ActionWaitText, Selector: "h1", Text: "Goodbye"}},
			results.Fail, `selector "h1" never showed "Goodbye" within 10s; it shows "Notes"`},
		{"a selector that never appears", "/notes", []Step{{Action: ActionWaitText, Selector: "#nope", Text: "x"}},
			results.Fail, `selector "#nope" never appeared on the page within 10s`},
		{"a hidden element does not show its text", "/notes", []Step{{Action: ActionExpectText, Selector: "#ghost", Text: "Welcome"}},
			results.Fail, `selector "#ghost" is on the page but hidden`},
		{"a missing element is not on the page", "/notes", []Step{{Action: ActionExpectText, Selector: "#nope", Text: "x"}},
			results.Fail, `selector "#nope" is not on the page`},
		{"a selector that is not CSS", "/notes", []Step{{Action: ActionClick, Selector: "#a:nope("}},
			results.Fail, `selector "#a:nope(" is not valid CSS`},
		{"filling what is not a field", "/notes", []Step{{Action: ActionFill, Selector: "h1", Text: "x"}},
			results.Fail, `selector "h1" is not a field that takes text`},
		{"a file input is never filled with a host path", "/notes", []Step{{Action: ActionFill, Selector: "#upload", Text: "/etc/passwd"}},
			results.Fail, `selector "#upload" is a file input: a browser check does not upload files`},
		{"a disabled field takes no text", "/notes", []Step{{Action: ActionFill, Selector: "#off", Text: "x"}},
			results.Fail, `selector "#off" does not take the focus`},
		{"filling replaces what the field held", "/notes", []Step{{Action: ActionFill, Selector: "#note", Text: "old"},
			{Action: ActionFill, Selector: "#note", Text: "new"}, {Action: ActionExpectText, Selector: "#note", Text: "new"}},
			results.Pass, `#note shows "new"`},
		{"a click that loads no page", "/notes", []Step{{Action: ActionClick, Selector: "#noop"}},
			results.Pass, "clicked #noop (no page load followed)"},
		{"a confirm dialog is accepted, as a visitor clicks OK", "/notes", []Step{{Action: ActionClick, Selector: "#ask"},
			{Action: ActionExpectText, Selector: "#answer", Text: "yes"}}, results.Pass, `#answer shows "yes"`},
		{"a click that leads off the app", "/notes", []Step{{Action: ActionClick, Selector: "#out"}},
			results.Fail, `the app sent the browser away to "http://elsewhere.example/"`},
		{"a redirect to another host leaves the app", "", []Step{{Action: ActionVisit, Path: "/away"}},
			results.Fail, `the app sent the browser away to "http://elsewhere.example/"`},
		{"a login challenge is not the page", "", []Step{{Action: ActionVisit, Path: "/login"}},
			results.Fail, "http://" + appDomain + "/login asks for a login (HTTP 401"},
		{"a missing page is HTTP 404", "", []Step{{Action: ActionVisit, Path: "/gone"}},
			results.Fail, "HTTP 404 for http://" + appDomain + "/gone"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { // not parallel: one tab
			if tc.path != "" {
				ctx, cancel := context.WithTimeout(sess.ctx, 30*time.Second)
				_, err := sess.visit(ctx, tc.path)
				cancel()
				require.NoError(t, err)
			}
			var got verdict
			for i, s := range tc.steps {
				ctx, cancel := context.WithTimeout(sess.ctx, waitBound)
				detail, _, err := r.step(ctx, sess, s)
				got = verdict{results.Pass, detail}
				if err != nil {
					got = verdictOf(context.Background(), sess, ctx, err, waitBound)
				}
				cancel()
				if i < len(tc.steps)-1 {
					require.Equal(t, results.Pass, got.status, "step %d: %s", i+1, got.detail)
				}
			}
			assert.Equal(t, tc.wantStatus, got.status, got.detail)
			assert.True(t, strings.HasPrefix(got.detail, tc.want), got.detail)
		})
	}
	assert.Contains(t, log.String(), `page confirm dialog "Sure?": accepted`)

	// Last, as it takes the door away: a front door that is down is the box's fault.
	d.Close()
	ctx, cancel := context.WithTimeout(sess.ctx, 30*time.Second)
	defer cancel()
	_, err = sess.visit(ctx, "/notes")
	require.Error(t, err)
	got := verdictOf(context.Background(), sess, ctx, err, waitBound)
	assert.Equal(t, results.Unverified, got.status, got.detail)
	assert.Equal(t, "the front door failed for http://"+appDomain+"/notes: net::ERR_PROXY_CONNECTION_FAILED "+
		"(check the proxy, its certificate and CCCI_FRONTDOOR_URL)", got.detail)
}

func TestTheBrowserNotRunningIsUnverified(t *testing.T) {
	t.Parallel()
	d := newDoor(t, newNotesApp())
	visit := Check{Name: "visit", Steps: []Step{{Action: ActionVisit, Path: "/"}}}
	cancelled, cancel := context.WithCancelCause(context.Background())
	cancel(context.Canceled)
	tests := []struct {
		name string
		exec string
		ctx  context.Context
		want string
	}{
		{"a missing chromium binary", filepath.Join(t.TempDir(), "chromium"), context.Background(), "not found or not executable"},
		{"a chromium that exits at once", "/bin/false", context.Background(), "start chromium /bin/false"},
		{"a run cancelled before the check", "", cancelled, "the run was cancelled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runner(t, d.URL, &syncBuffer{})
			r.Exec = tc.exec
			out := r.Run(tc.ctx, appDomain, visit)
			assert.Equal(t, results.Unverified, out.Status)
			assert.Contains(t, out.Reason, tc.want)
			assert.Equal(t, results.Skip, out.Checks[0].Status)
			assert.Empty(t, out.Screenshots)
		})
	}
	assert.Empty(t, d.requests(), "no browser reached the door")
}

func TestARunCancelledMidCheckIsUnverified(t *testing.T) {
	t.Parallel()
	requireChromium(t)
	app := newNotesApp()
	d := newDoor(t, app)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		<-app.slow // the browser is inside the check, waiting for the page
		cancel(context.Canceled)
	}()
	r := runner(t, d.URL, &syncBuffer{})
	out := r.Run(ctx, appDomain, Check{Name: "slow", Steps: []Step{{Action: ActionVisit, Path: "/slow"}}})
	assert.Equal(t, results.Unverified, out.Status, out.Reason)
	assert.Contains(t, out.Checks[0].Detail, "the run was cancelled")
	assert.Empty(t, out.Screenshots, "no screenshot is taken of a page the check never finished")
}

func TestScreenshotSavesTheWholeLandingPage(t *testing.T) {
	t.Parallel()
	requireChromium(t)
	app := newNotesApp()
	d := newDoor(t, app)
	r := runner(t, d.URL, nil)
	path := filepath.Join(r.OutDir, "screenshot.png")
	require.NoError(t, r.Screenshot(context.Background(), appDomain, path))
	w, h := requirePNG(t, path)
	assert.Equal(t, viewportW, w)
	assert.Greater(t, h, 3000, "the whole page, not just the viewport")
	assert.Contains(t, d.requests(), "GET "+appDomain+" /")

	err := r.Screenshot(context.Background(), "not a domain", filepath.Join(r.OutDir, "bad.png"))
	assert.ErrorContains(t, err, `app domain "not a domain" is not a DNS name`)
	_, statErr := os.Stat(filepath.Join(r.OutDir, "bad.png"))
	assert.True(t, os.IsNotExist(statErr))
}
