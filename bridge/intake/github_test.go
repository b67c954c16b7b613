package intake

import (
	"net/http"
	"strings"
	"testing"

	"coopcloud.tech/cc-ci/bridge/event"
	"coopcloud.tech/cc-ci/internal/testkit/forgehook"
)

func ghComment(p forgehook.CommentParams) forgehook.Delivery {
	p.ID = or(p.ID, "gh-1")
	return forgehook.GitHubComment(p).Sign(githubSecret)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// wantGitHubComment is the event a default GitHub comment delivery with body becomes.
func wantGitHubComment(body string) *event.Event {
	return &event.Event{
		Forge: event.GitHub, DeliveryID: "gh-1", Kind: event.Comment,
		Repo: "coop-cloud/sample", Owner: "coop-cloud", PR: 1, PROpen: true,
		CommentID: 1, Body: body, Author: "maintainer",
		CloneURL: "https://github.com/coop-cloud/sample.git", Received: fixedNow, Created: forgehook.DefaultTime,
	}
}

func TestGitHub(t *testing.T) {
	t.Parallel()
	accepted := map[string]any{"delivery": "gh-1", "repo": "coop-cloud/sample", "pr": float64(1), "status": float64(202)}
	ignoredAt := func(reason string) map[string]any {
		return map[string]any{"delivery": "gh-1", "repo": "coop-cloud/sample", "pr": float64(1), "reason": reason, "status": float64(200)}
	}
	refused := map[string]any{"delivery": "gh-1", "status": float64(401)}
	head := forgehook.SHA("new head")
	runForgeCases(t, event.GitHub, []forgeCase{
		{
			name: "a !testme comment on an open PR of an enrolled repo is queued and answered 202", delivery: ghComment(forgehook.CommentParams{Body: "!testme"}),
			wantStatus: http.StatusAccepted, wantBody: "accepted", wantOutcome: OutcomeAccepted, wantEvent: wantGitHubComment("!testme"),
			wantLog: "webhook accepted", wantLevel: "INFO", wantAttrs: accepted,
		},
		{
			name: "a quick command in a longer comment is queued with the whole body", delivery: ghComment(forgehook.CommentParams{Body: "LGTM\r\n!testme --quick\r\n"}),
			wantStatus: http.StatusAccepted, wantBody: "accepted", wantOutcome: OutcomeAccepted, wantEvent: wantGitHubComment("LGTM\r\n!testme --quick\r\n"),
			wantLog: "webhook accepted", wantLevel: "INFO", wantAttrs: accepted,
		},
		{
			name: "new commits on an open PR are queued as a push with the new head", delivery: forgehook.GitHubSync(forgehook.PushParams{ID: "gh-1", PR: 2, HeadSHA: head, Sender: "bob"}).Sign(githubSecret),
			wantStatus: http.StatusAccepted, wantBody: "accepted", wantOutcome: OutcomeAccepted,
			wantEvent: &event.Event{Forge: event.GitHub, DeliveryID: "gh-1", Kind: event.Push, Repo: "coop-cloud/sample", Owner: "coop-cloud", PR: 2,
				PROpen: true, HeadSHA: head, Author: "bob", CloneURL: "https://github.com/coop-cloud/sample.git", Received: fixedNow},
			wantLog: "webhook accepted", wantLevel: "INFO", wantAttrs: map[string]any{"pr": float64(2), "head_sha": head},
		},
		{
			name: "a ping is answered pong", delivery: forgehook.GitHubPing("", "gh-1").Sign(githubSecret),
			wantStatus: http.StatusOK, wantBody: "pong", wantOutcome: OutcomeIgnored, wantLog: "webhook ping", wantLevel: "INFO", wantAttrs: map[string]any{"delivery": "gh-1"},
		},
		{
			name: "a delivery signed with the wrong secret is refused 401 and not parsed", delivery: forgehook.GitHubComment(forgehook.CommentParams{ID: "gh-1", Body: "!testme"}).Sign(wrongSecret),
			wantStatus: http.StatusUnauthorized, wantBody: "bad signature", wantOutcome: OutcomeBadSignature,
			wantLog: "webhook signature refused", wantLevel: "WARN", wantAttrs: refused,
		},
		{
			name: "a delivery without signature is refused 401", delivery: forgehook.GitHubComment(forgehook.CommentParams{ID: "gh-1", Body: "!testme"}),
			wantStatus: http.StatusUnauthorized, wantBody: "bad signature", wantOutcome: OutcomeBadSignature,
			wantLog: "webhook signature refused", wantLevel: "WARN", wantAttrs: refused,
		},
		{
			name: "the legacy SHA-1 signature alone is refused 401", delivery: ghComment(forgehook.CommentParams{Body: "!testme"}), mutate: withoutHeader("X-Hub-Signature-256"),
			wantStatus: http.StatusUnauthorized, wantBody: "bad signature", wantOutcome: OutcomeBadSignature,
			wantLog: "webhook signature refused", wantLevel: "WARN", wantAttrs: refused,
		},
		{
			name: "a bare hex signature without sha256= is refused 401", delivery: ghComment(forgehook.CommentParams{Body: "!testme"}),
			mutate: func(r *http.Request) {
				r.Header.Set("X-Hub-Signature-256", strings.TrimPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256="))
			},
			wantStatus: http.StatusUnauthorized, wantBody: "bad signature", wantOutcome: OutcomeBadSignature,
			wantLog: "webhook signature refused", wantLevel: "WARN", wantAttrs: refused,
		},
		{
			name: "a body changed after signing is refused 401", delivery: tampered(ghComment(forgehook.CommentParams{Body: "looks fine"}), "looks fine", "!testme"),
			wantStatus: http.StatusUnauthorized, wantBody: "bad signature", wantOutcome: OutcomeBadSignature,
			wantLog: "webhook signature refused", wantLevel: "WARN", wantAttrs: refused,
		},
		{
			name: "a delivery without event header is refused 400", delivery: ghComment(forgehook.CommentParams{Body: "!testme"}), mutate: withoutHeader("X-GitHub-Event"),
			wantStatus: http.StatusBadRequest, wantBody: "bad event headers", wantOutcome: OutcomeBadRequest,
			wantLog: "webhook headers refused", wantLevel: "WARN", wantAttrs: map[string]any{"delivery": "gh-1", "reason": "no X-GitHub-Event header"},
		},
		{
			name: "a delivery without delivery id is refused 400", delivery: ghComment(forgehook.CommentParams{Body: "!testme"}), mutate: withoutHeader("X-GitHub-Delivery"),
			wantStatus: http.StatusBadRequest, wantBody: "bad event headers", wantOutcome: OutcomeBadRequest,
			wantLog: "webhook headers refused", wantLevel: "WARN", wantAttrs: map[string]any{"reason": "no X-GitHub-Delivery header"},
		},
		{
			name: "a delivery id with spaces is refused 400", delivery: ghComment(forgehook.CommentParams{Body: "!testme"}), mutate: withHeader("X-GitHub-Delivery", "a b"),
			wantStatus: http.StatusBadRequest, wantBody: "bad event headers", wantOutcome: OutcomeBadRequest,
			wantLog: "webhook headers refused", wantLevel: "WARN", wantAttrs: map[string]any{"reason": "X-GitHub-Delivery is not a delivery id"},
		},
		{
			name:       "a Gitea delivery on the GitHub route is refused 400 although it also sends X-GitHub-Event",
			delivery:   signedBody(forgehook.GiteaComment(forgehook.CommentParams{ID: "gh-1", Body: "!testme"}), `{}`, githubSecret),
			wantStatus: http.StatusBadRequest, wantBody: "bad event headers", wantOutcome: OutcomeBadRequest,
			wantLog: "webhook headers refused", wantLevel: "WARN",
		},
		{
			name: "a body over the cap is refused 413 before its signature is looked at", delivery: forgehook.GitHubComment(forgehook.CommentParams{ID: "gh-1", Body: strings.Repeat("x", 4096)}).Sign(wrongSecret),
			edit:       func(c *Config) { c.MaxBody = 1024 },
			wantStatus: http.StatusRequestEntityTooLarge, wantBody: "body too large", wantOutcome: OutcomeTooLarge,
			wantLog: "webhook body over the cap", wantLevel: "WARN", wantAttrs: map[string]any{"delivery": "gh-1", "max_bytes": float64(1024)},
		},
		{
			name:       "a body over the cap without a declared length is refused 413 while it is read",
			delivery:   forgehook.GitHubComment(forgehook.CommentParams{ID: "gh-1", Body: strings.Repeat("x", 4096)}).Sign(githubSecret),
			mutate:     func(r *http.Request) { r.ContentLength = -1 },
			edit:       func(c *Config) { c.MaxBody = 1024 },
			wantStatus: http.StatusRequestEntityTooLarge, wantBody: "body too large", wantOutcome: OutcomeTooLarge,
			wantLog: "webhook body over the cap", wantLevel: "WARN", wantAttrs: map[string]any{"delivery": "gh-1"},
		},
		{
			name: "a signed body that is not JSON is refused 400", delivery: signedBody(forgehook.GitHubComment(forgehook.CommentParams{ID: "gh-1"}), `{"action":`, githubSecret),
			wantStatus: http.StatusBadRequest, wantBody: "bad payload", wantOutcome: OutcomeBadRequest,
			wantLog: "webhook payload refused", wantLevel: "WARN", wantAttrs: map[string]any{"delivery": "gh-1"},
		},
		{
			name: "a signed comment without repository is refused 400",
			delivery: signedBody(forgehook.GitHubComment(forgehook.CommentParams{ID: "gh-1"}),
				`{"action":"created","issue":{"number":1,"state":"open","pull_request":{}},"comment":{"id":1,"body":"!testme","user":{"login":"a"}}}`, githubSecret),
			wantStatus: http.StatusBadRequest, wantBody: "bad payload", wantOutcome: OutcomeBadRequest,
			wantLog: "webhook payload refused", wantLevel: "WARN",
		},
		{
			name: "a repository whose owner is not the owner in its name is refused 400",
			delivery: signedBody(forgehook.GitHubComment(forgehook.CommentParams{ID: "gh-1"}),
				`{"action":"created","issue":{"number":1,"state":"open","pull_request":{}},"comment":{"id":1,"body":"!testme","user":{"login":"a"}},`+
					`"repository":{"full_name":"coop-cloud/sample","owner":{"login":"mallory"}}}`, githubSecret),
			wantStatus: http.StatusBadRequest, wantBody: "bad payload", wantOutcome: OutcomeBadRequest,
			wantLog: "webhook payload refused", wantLevel: "WARN", wantAttrs: map[string]any{"repo": "coop-cloud/sample"},
		},
		{
			name: "a POST-only route answers GET with 405", delivery: ghComment(forgehook.CommentParams{Body: "!testme"}), mutate: func(r *http.Request) { r.Method = http.MethodGet },
			wantStatus: http.StatusMethodNotAllowed, wantBody: "method not allowed", wantOutcome: OutcomeBadRequest,
			wantLog: "webhook not POSTed", wantLevel: "INFO", wantAttrs: map[string]any{"method": "GET"},
		},
		{
			name: "a command on a closed PR is ignored", delivery: ghComment(forgehook.CommentParams{Body: "!testme", PRState: "closed"}),
			wantStatus: http.StatusOK, wantBody: "ignored: pull request closed", wantOutcome: OutcomeIgnored,
			wantLog: "webhook ignored", wantLevel: "INFO", wantAttrs: ignoredAt("pull request closed"),
		},
		{
			name: "a command on a repo not enrolled is ignored with a warning naming the repo", delivery: ghComment(forgehook.CommentParams{Repo: "coop-cloud/other", Body: "!testme"}),
			wantStatus: http.StatusOK, wantBody: "ignored: repo not enrolled", wantOutcome: OutcomeIgnored,
			wantLog: "repo not enrolled", wantLevel: "WARN", wantAttrs: map[string]any{"repo": "coop-cloud/other", "delivery": "gh-1"},
		},
		{
			name: "an edited comment is ignored even when it now holds a command", delivery: ghComment(forgehook.CommentParams{Body: "!testme", Action: "edited"}),
			wantStatus: http.StatusOK, wantBody: "ignored: comment edited", wantOutcome: OutcomeIgnored,
			wantLog: "webhook ignored", wantLevel: "INFO", wantAttrs: ignoredAt("comment edited"),
		},
		{
			name: "a deleted comment is ignored", delivery: ghComment(forgehook.CommentParams{Body: "!testme", Action: "deleted"}),
			wantStatus: http.StatusOK, wantBody: "ignored: comment deleted", wantOutcome: OutcomeIgnored,
			wantLog: "webhook ignored", wantLevel: "INFO", wantAttrs: ignoredAt("comment deleted"),
		},
		{
			name: "the bot's own comment is ignored whatever the case of its login", delivery: ghComment(forgehook.CommentParams{Body: "!testme", Author: "CC-CI-Bot"}),
			wantStatus: http.StatusOK, wantBody: "ignored: the bot's own comment", wantOutcome: OutcomeIgnored,
			wantLog: "webhook ignored", wantLevel: "INFO", wantAttrs: ignoredAt("the bot's own comment"),
		},
		{
			name: "a comment without a command is ignored", delivery: ghComment(forgehook.CommentParams{Body: "please run !testme"}),
			wantStatus: http.StatusOK, wantBody: "ignored: no command", wantOutcome: OutcomeIgnored,
			wantLog: "webhook ignored", wantLevel: "INFO", wantAttrs: ignoredAt("no command"),
		},
		{
			name: "a quoted command is ignored", delivery: ghComment(forgehook.CommentParams{Body: "> !testme\n\nlater maybe"}),
			wantStatus: http.StatusOK, wantBody: "ignored: no command", wantOutcome: OutcomeIgnored,
			wantLog: "webhook ignored", wantLevel: "INFO", wantAttrs: ignoredAt("no command"),
		},
		{
			name: "a command on a plain issue is ignored", delivery: ghComment(forgehook.CommentParams{Body: "!testme", OnIssue: true}),
			wantStatus: http.StatusOK, wantBody: "ignored: comment on an issue, not a pull request", wantOutcome: OutcomeIgnored,
			wantLog: "webhook ignored", wantLevel: "INFO", wantAttrs: ignoredAt("comment on an issue, not a pull request"),
		},
		{
			name: "a PR opened event is ignored: only a command starts a run", delivery: forgehook.GitHubSync(forgehook.PushParams{ID: "gh-1", Action: "opened"}).Sign(githubSecret),
			wantStatus: http.StatusOK, wantBody: "ignored: pull request action not handled", wantOutcome: OutcomeIgnored,
			wantLog: "webhook ignored", wantLevel: "INFO", wantAttrs: ignoredAt("pull request action not handled"),
		},
		{
			name: "new commits on a closed PR are ignored", delivery: forgehook.GitHubSync(forgehook.PushParams{ID: "gh-1", PRState: "closed"}).Sign(githubSecret),
			wantStatus: http.StatusOK, wantBody: "ignored: pull request closed", wantOutcome: OutcomeIgnored,
			wantLog: "webhook ignored", wantLevel: "INFO", wantAttrs: ignoredAt("pull request closed"),
		},
		{
			name: "an event the bridge does not handle is ignored", delivery: ghComment(forgehook.CommentParams{Body: "!testme"}), mutate: withHeader("X-GitHub-Event", "push"),
			wantStatus: http.StatusOK, wantBody: "ignored: event not handled", wantOutcome: OutcomeIgnored,
			wantLog: "webhook ignored", wantLevel: "INFO", wantAttrs: map[string]any{"reason": "event not handled", "event": "push"},
		},
		{
			name: "a sink that cannot store the event makes the answer 503 so the forge may redeliver", delivery: ghComment(forgehook.CommentParams{Body: "!testme"}), sinkErr: errStore,
			wantStatus: http.StatusServiceUnavailable, wantBody: "cannot queue the event, retry later", wantOutcome: OutcomeStoreError, wantEvent: wantGitHubComment("!testme"),
			wantLog: "webhook not queued", wantLevel: "ERROR", wantAttrs: map[string]any{"err": errStore.Error(), "repo": "coop-cloud/sample"},
		},
	})
}

// tampered replaces old with new in a signed delivery's body, keeping its signature.
func tampered(d forgehook.Delivery, old, new string) forgehook.Delivery {
	d.Body = []byte(strings.Replace(string(d.Body), old, new, 1))
	return d
}
