package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// postNote submits the notes form as a browser does: an urlencoded POST.
func postNote(t *testing.T, h http.Handler, note string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/notes", strings.NewReader(url.Values{"note": {note}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func localStore(t *testing.T) store {
	t.Helper()
	st := store{path: filepath.Join(t.TempDir(), "db.json"), mu: &sync.Mutex{}}
	require.NoError(t, st.init())
	return st
}

func TestTheNotesFormSavesEscapesAndRedirects(t *testing.T) {
	t.Parallel()
	st := localStore(t)
	h := newHandler(localKV{st}, options{title: "cc-ci sample app"})

	code, body := do(t, h, http.MethodGet, "/notes", "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `<form method="post" action="/notes">`)
	assert.Contains(t, body, `<input id="note" name="note"`)
	assert.Contains(t, body, `<button id="save" type="submit">Save</button>`)
	assert.Contains(t, body, `<p id="empty">No notes yet.</p>`)
	assert.NotContains(t, body, `id="saved"`, "no note, no #saved: a wait for it keeps waiting")

	hostile := `<script>alert("x")</script> & more`
	resp := postNote(t, h, "  "+hostile+"\n")
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "post/redirect/get")
	assert.Equal(t, "/notes", resp.Header.Get("Location"))
	v, ok, err := st.get("note")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, hostile, v, "the note is kept as typed (trimmed), under the key the hooks read")

	require.Equal(t, http.StatusSeeOther, postNote(t, h, "second").StatusCode)
	_, body = do(t, h, http.MethodGet, "/notes", "")
	assert.Contains(t, body, `<span id="saved">second</span>`, "the newest note is in #saved")
	escaped := `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more`
	assert.Contains(t, body, "<li class=\"note\">second</li>\n<li class=\"note\">"+escaped+"</li>", "every note, newest first")
	assert.NotContains(t, body, "<script>", "a note is text, never markup")
	_, body = do(t, h, http.MethodGet, "/kv/note", "")
	assert.Equal(t, "second", body)
}

func TestTheNotesFormRefusesWhatIsNotANote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, note, want string
	}{
		{"an empty note", "", "the note is empty"},
		{"a note of spaces", " \t\n", "the note is empty"},
		{"a note too long", strings.Repeat("é", maxNoteRunes+1), "at most 1000 characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := localStore(t)
			resp := postNote(t, newHandler(localKV{st}, options{}), tc.note)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			n, err := st.count()
			require.NoError(t, err)
			assert.Zero(t, n, "nothing was stored")
		})
	}
	st := localStore(t)
	require.NoError(t, st.put("note", strings.Repeat("é", maxNoteRunes)))
	resp := postNote(t, newHandler(localKV{st}, options{}), strings.Repeat("é", maxNoteRunes))
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "exactly the longest note is accepted")
}

func TestTheNotesPageShowsANoteASeedHookWrote(t *testing.T) {
	t.Parallel()
	st := localStore(t)
	h := newHandler(localKV{st}, options{})
	require.Equal(t, http.StatusSeeOther, postNote(t, h, "from the form").StatusCode)
	code, _ := do(t, h, http.MethodPut, "/kv/note", "seeded")
	require.Equal(t, http.StatusOK, code)

	_, body := do(t, h, http.MethodGet, "/notes", "")
	assert.Contains(t, body, `<span id="saved">seeded</span>`)
	assert.Contains(t, body, "<li class=\"note\">seeded</li>\n<li class=\"note\">from the form</li>")

	require.NoError(t, st.put("notes", "{not a list"))
	code, body = do(t, h, http.MethodGet, "/notes", "")
	assert.Equal(t, http.StatusInternalServerError, code, "a garbled list is an error, not an empty page")
	assert.Contains(t, body, `not a JSON list`)
}

func TestTheNotesFormKeepsItsNotesInTheDB(t *testing.T) {
	t.Parallel()
	srv, st := dbServer(t, "pw")
	app := newHandler(remoteFor(t, srv, "pw"), options{})
	require.Equal(t, http.StatusSeeOther, postNote(t, app, "in the db").StatusCode)
	v, ok, err := st.get("note")
	require.NoError(t, err)
	assert.True(t, ok, "the note landed in the db's store")
	assert.Equal(t, "in the db", v)
	_, body := do(t, app, http.MethodGet, "/notes", "")
	assert.Contains(t, body, `<span id="saved">in the db</span>`)
}
