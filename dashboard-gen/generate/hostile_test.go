package generate_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"coopcloud.tech/cc-ci/dashboard-gen/fakehistory"
)

// TestHostileRecipeNameAndReasonCannotInjectMarkup renders a run whose recipe name (a build
// param anyone who can start a Drone build controls), failure reason and log excerpt are markup,
// and parses every page the way a browser does: no element, attribute or URL of theirs may
// appear, only their text.
func TestHostileRecipeNameAndReasonCannotInjectMarkup(t *testing.T) {
	t.Parallel()
	hostile := fakehistory.HostileRun(1)
	hostile.History.Params["CCCI_REF"] = `"><script>alert(5)</script>`
	hostile.Results.Ref = hostile.History.Params["CCCI_REF"]
	hostile.Results.Manifest["version"] = `<img src=x onerror=alert(6)>`
	hostile.Results.Finalize(hostile.Results.Finished)
	w := newWorld(t, []fakehistory.Run{hostile, fakehistory.Make(2, "sample", fakehistory.Pass)})
	w.generate(t)

	pages := 0
	texts := map[string]string{}
	require.NoError(t, filepath.WalkDir(w.settings.Out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(path, ".html") {
			return err
		}
		pages++
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		texts[filepath.Base(path)] = checkMarkup(t, path, data)
		return nil
	}))
	assert.Equal(t, 5, pages, "the index, 2 recipe pages and 2 run pages")
	assert.Contains(t, texts["index.html"], fakehistory.HostileName, "the name is shown as text")
	assert.Contains(t, texts["drone-1.html"], fakehistory.HostileReason, "the reason is shown as text")
	assert.Contains(t, texts["drone-1.html"], "<b>bold</b>", "the excerpt is shown as text")

	for _, rel := range []string{"feed.xml", "badge/" + keyOf(t, w) + ".svg"} {
		text := xmlText(t, w.read(t, rel))
		assert.Contains(t, text, fakehistory.HostileName, "%s names the recipe as text", rel)
	}
}

// checkMarkup fails the test for any element, event handler or script URL that is not the
// site's own, and returns the page's text.
func checkMarkup(t *testing.T, path string, data []byte) string {
	t.Helper()
	allowed := map[string]bool{"html": true, "head": true, "meta": true, "title": true, "link": true, "body": true,
		"header": true, "main": true, "footer": true, "a": true, "h1": true, "h2": true, "p": true, "div": true,
		"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true, "span": true, "code": true,
		"pre": true, "nav": true, "dl": true, "dt": true, "dd": true, "ul": true, "li": true, "details": true,
		"summary": true, "br": true, "figure": true, "img": true}
	var text strings.Builder
	z := html.NewTokenizer(bytes.NewReader(data))
	for {
		switch z.Next() {
		case html.ErrorToken:
			require.ErrorIs(t, z.Err(), io.EOF, path)
			return text.String()
		case html.TextToken:
			text.Write(z.Text())
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			assert.True(t, allowed[tok.Data], "%s: unexpected element <%s>", path, tok.Data)
			for _, a := range tok.Attr {
				assert.False(t, strings.HasPrefix(strings.ToLower(a.Key), "on"), "%s: event handler %s=%q", path, a.Key, a.Val)
				if a.Key == "href" || a.Key == "src" {
					assert.NotContains(t, strings.ToLower(a.Val), "javascript:", "%s: script URL", path)
					assert.NotContains(t, a.Val, "<", "%s: markup in a URL", path)
				}
				if tok.Data == "img" && a.Key == "src" {
					own := (strings.HasSuffix(a.Val, ".svg") || strings.HasSuffix(a.Val, ".png")) && !strings.Contains(a.Val, ":")
					assert.True(t, own, "%s: an image that is not the site's: %q", path, a.Val)
				}
			}
		}
	}
}

// xmlText parses an XML document and returns its character data.
func xmlText(t *testing.T, doc string) string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return text.String()
		}
		require.NoError(t, err, "well-formed XML")
		switch v := tok.(type) {
		case xml.CharData:
			text.Write(v)
		case xml.StartElement:
			for _, a := range v.Attr {
				text.WriteString(" " + a.Value + " ")
			}
		}
	}
}

// keyOf is the hostile recipe's page key, found from the index's link to it.
func keyOf(t *testing.T, w *world) string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(w.settings.Out, "badge"))
	require.NoError(t, err)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "_") {
			return strings.TrimSuffix(e.Name(), ".svg")
		}
	}
	t.Fatal("no badge for the hostile recipe")
	return ""
}
