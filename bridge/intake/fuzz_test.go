package intake

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"coopcloud.tech/cc-ci/bridge/command"
	"coopcloud.tech/cc-ci/bridge/event"
	"coopcloud.tech/cc-ci/bridge/trust"
	"coopcloud.tech/cc-ci/internal/testkit/forgehook"
)

// fuzzSeeds are the builders' deliveries of one forge: every shape intake accepts or ignores.
func fuzzSeeds(forge string) []forgehook.Delivery {
	comment, sync := forgehook.GitHubComment, forgehook.GitHubSync
	if forge == event.Gitea {
		comment, sync = forgehook.GiteaComment, forgehook.GiteaSync
	}
	return []forgehook.Delivery{
		comment(forgehook.CommentParams{Body: "!testme"}),
		comment(forgehook.CommentParams{Body: "> quoted\n\n!testme --quick\r\n"}),
		comment(forgehook.CommentParams{Body: "!testme", Action: "edited"}),
		comment(forgehook.CommentParams{Body: "!testme", PRState: "closed"}),
		comment(forgehook.CommentParams{Body: "!testme", OnIssue: true}),
		comment(forgehook.CommentParams{Body: "no command here"}),
		sync(forgehook.PushParams{}),
		sync(forgehook.PushParams{Action: "opened"}),
		forgehook.GitHubPing("", ""),
	}
}

// fuzzForge posts body as a correctly signed delivery of event kind to forge's route and checks
// intake's promises: it never panics, it answers only with a fixed short text, and an event it
// accepts always names a repo, its owner, an open PR and what happened.
func fuzzForge(t *testing.T, forge, kind string, body []byte) {
	sink := &recordingSink{}
	cfg := Config{
		GitHubSecret: githubSecret,
		GiteaSecret:  giteaSecret,
		Enrolled:     func(string, string) bool { return true }, // let every repo through to the final checks
		Bots:         map[string]string{event.GitHub: "cc-ci-bot", event.Gitea: "cc-ci"},
		Log:          slog.New(slog.DiscardHandler),
	}
	h, err := New(cfg, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := forgehook.Delivery{Forge: forge, Body: body, Headers: http.Header{}}
	route, secret := h.GitHub, githubSecret
	if forge == event.GitHub {
		d.Headers.Set("X-GitHub-Event", kind)
		d.Headers.Set("X-GitHub-Delivery", "fuzz-delivery")
	} else {
		route, secret = h.Gitea, giteaSecret
		d.Headers.Set("X-Gitea-Event", kind)
		d.Headers.Set("X-Gitea-Delivery", "fuzz-delivery")
	}
	req := httptest.NewRequest(http.MethodPost, "/hooks/"+forge, bytes.NewReader(body))
	req.Header = d.Sign(secret).Headers
	rec := httptest.NewRecorder()
	route(rec, req)

	answer := strings.TrimSuffix(rec.Body.String(), "\n")
	fixed := map[string]bool{"accepted": true, "pong": true, "bad payload": true, "bad event headers": true, "body too large": true}
	if !fixed[answer] && !strings.HasPrefix(answer, "ignored: ") || len(answer) > 64 {
		t.Fatalf("answer %q is not one of the fixed texts", answer)
	}
	got := sink.got()
	switch rec.Code {
	case http.StatusAccepted:
		if len(got) != 1 {
			t.Fatalf("202 with %d events queued", len(got))
		}
		checkAccepted(t, forge, got[0])
	case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		if len(got) != 0 {
			t.Fatalf("status %d but %d events queued: %+v", rec.Code, len(got), got)
		}
	default:
		t.Fatalf("unexpected status %d for a signed delivery", rec.Code)
	}
}

func checkAccepted(t *testing.T, forge string, ev event.Event) {
	owner, _, _ := strings.Cut(ev.Repo, "/")
	switch {
	case ev.Forge != forge || ev.DeliveryID != "fuzz-delivery":
		t.Fatalf("accepted event with forge %q delivery %q", ev.Forge, ev.DeliveryID)
	case !repoName.MatchString(ev.Repo):
		t.Fatalf("accepted event without repo: %+v", ev)
	case !trust.SameLogin(ev.Owner, owner):
		t.Fatalf("accepted event whose owner %q does not own %q", ev.Owner, ev.Repo)
	case ev.PR <= 0 || !ev.PROpen:
		t.Fatalf("accepted event without an open PR: %+v", ev)
	case ev.Author == "":
		t.Fatalf("accepted event without author: %+v", ev)
	}
	switch ev.Kind {
	case event.Comment:
		if _, ok := command.Parse(ev.Body); !ok || ev.CommentID <= 0 || ev.HeadSHA != "" {
			t.Fatalf("accepted comment without command or comment id: %+v", ev)
		}
	case event.Push:
		if !commitSHA.MatchString(ev.HeadSHA) || ev.CommentID != 0 {
			t.Fatalf("accepted push without head commit: %+v", ev)
		}
	default:
		t.Fatalf("accepted event of kind %q", ev.Kind)
	}
}

func FuzzGitHubPayload(f *testing.F) {
	for _, d := range fuzzSeeds(event.GitHub) {
		f.Add(d.Event, d.Body)
	}
	f.Add("issue_comment", []byte(`{"action":"created","issue":{"number":1,"state":"open","pull_request":null},"comment":{"id":1,"body":"!testme"}}`))
	f.Add("pull_request", []byte(`{"action":"synchronize","number":-1,"pull_request":{"state":"open","head":{"sha":"x"}}}`))
	f.Fuzz(func(t *testing.T, kind string, body []byte) {
		fuzzForge(t, event.GitHub, kind, body)
	})
}

func FuzzGiteaPayload(f *testing.F) {
	for _, d := range fuzzSeeds(event.Gitea) {
		f.Add(d.Event, d.Body)
	}
	f.Add("issue_comment", []byte(`{"action":"created","is_pull":true,"issue":{"number":1,"state":"open"},"comment":{"id":1,"body":"!testme","user":{"login":"a"}},"repository":{"full_name":"a/b","owner":{"login":"A"}}}`))
	f.Fuzz(func(t *testing.T, kind string, body []byte) {
		fuzzForge(t, event.Gitea, kind, body)
	})
}

// BenchmarkGitHubComment is the cost of one accepted `!testme` delivery inside the handler:
// body read, HMAC, JSON, grammar, enrolment and the sink call (a no-op here).
func BenchmarkGitHubComment(b *testing.B) {
	h, err := New(Config{
		GitHubSecret: githubSecret,
		Enrolled:     func(string, string) bool { return true },
		Log:          slog.New(slog.DiscardHandler),
	}, discardSink{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	d := forgehook.GitHubComment(forgehook.CommentParams{ID: "bench-1", Body: "!testme"}).Sign(githubSecret)
	b.SetBytes(int64(len(d.Body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/hooks/github", bytes.NewReader(d.Body))
		req.Header = d.Headers
		rec := httptest.NewRecorder()
		h.GitHub(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// discardSink accepts every event and keeps none.
type discardSink struct{}

func (discardSink) Accept(context.Context, event.Event) error { return nil }
