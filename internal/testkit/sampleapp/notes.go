package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strings"
	"unicode/utf8"
)

// The notes page keeps the newest note under noteKey, the key seed and verify hooks read
// (GET /kv/note), and the list of notes, newest first, as a JSON array under notesKey.
const (
	noteKey      = "note"
	notesKey     = "notes"
	maxNoteRunes = 1000
	maxNotes     = 50
	maxNoteForm  = 64 << 10
)

// notesRoutes serves the notes form, the page a browser check fills in: GET /notes shows the
// form (input#note, button#save) and the saved notes, the newest in #saved; POST /notes saves one
// and redirects 303 to GET /notes (post/redirect/get), as a real app's form does.
func notesRoutes(mux *http.ServeMux, data kv, o options) {
	mux.HandleFunc("GET /notes", func(w http.ResponseWriter, r *http.Request) {
		notes, err := readNotes(r, data)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprint(w, notesPage(o.title, notes))
	})
	mux.HandleFunc("POST /notes", func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxNoteForm)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "unreadable form: "+err.Error(), http.StatusBadRequest)
			return
		}
		note := strings.TrimSpace(r.PostForm.Get("note"))
		switch {
		case note == "":
			http.Error(w, "the note is empty", http.StatusBadRequest)
			return
		case !utf8.ValidString(note) || utf8.RuneCountInString(note) > maxNoteRunes:
			http.Error(w, fmt.Sprintf("a note is at most %d characters of text", maxNoteRunes), http.StatusBadRequest)
			return
		}
		notes, err := readNotes(r, data)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		notes = append([]string{note}, notes...)
		if err := writeNotes(r, data, notes[:min(len(notes), maxNotes)]); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/notes", http.StatusSeeOther)
	})
}

// readNotes returns the notes, newest first. The newest note is the one under noteKey even when
// the list does not have it yet: a seed hook may have written that key alone.
func readNotes(r *http.Request, data kv) ([]string, error) {
	var notes []string
	raw, ok, err := data.get(r.Context(), notesKey)
	if err != nil {
		return nil, err
	}
	if ok {
		if err := json.Unmarshal([]byte(raw), &notes); err != nil {
			return nil, fmt.Errorf("the notes under key %q are not a JSON list of strings: %w", notesKey, err)
		}
	}
	newest, ok, err := data.get(r.Context(), noteKey)
	if err != nil {
		return nil, err
	}
	if ok && (len(notes) == 0 || notes[0] != newest) {
		notes = append([]string{newest}, notes...)
	}
	return notes, nil
}

// writeNotes stores the list, then the newest note: a reader of noteKey never sees a note the
// list does not hold.
func writeNotes(r *http.Request, data kv, notes []string) error {
	if len(notes) == 0 {
		return errors.New("no notes to write")
	}
	list, err := json.Marshal(notes)
	if err != nil {
		return err
	}
	if err := data.put(r.Context(), notesKey, string(list)); err != nil {
		return err
	}
	return data.put(r.Context(), noteKey, notes[0])
}

// notesPage renders the form and the notes; every note is escaped, it is visitor input.
func notesPage(title string, notes []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html>\n<html><head><title>Notes - %s</title></head>\n<body><h1>Notes</h1>\n", html.EscapeString(title))
	b.WriteString(`<form method="post" action="/notes"><label for="note">Note</label> ` +
		`<input id="note" name="note" autocomplete="off"> <button id="save" type="submit">Save</button></form>` + "\n")
	if len(notes) == 0 {
		b.WriteString("<p id=\"empty\">No notes yet.</p>\n</body></html>\n")
		return b.String()
	}
	fmt.Fprintf(&b, "<p>Saved: <span id=\"saved\">%s</span></p>\n<ul id=\"notes\">\n", html.EscapeString(notes[0]))
	for _, n := range notes {
		fmt.Fprintf(&b, "<li class=\"note\">%s</li>\n", html.EscapeString(n))
	}
	b.WriteString("</ul>\n</body></html>\n")
	return b.String()
}
