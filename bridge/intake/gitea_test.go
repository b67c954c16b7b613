package intake

import (
	"net/http"
	"testing"

	"coopcloud.tech/cc-ci/bridge/event"
	"coopcloud.tech/cc-ci/internal/testkit/forgehook"
)

func gtComment(p forgehook.CommentParams) forgehook.Delivery {
	p.ID = or(p.ID, "gt-1")
	return forgehook.GiteaComment(p).Sign(giteaSecret)
}

// wantGiteaComment is the event a default Gitea comment delivery with body becomes.
func wantGiteaComment(body string) *event.Event {
	return &event.Event{
		Forge: event.Gitea, DeliveryID: "gt-1", Kind: event.Comment,
		Repo: "coop-cloud/sample", Owner: "coop-cloud", PR: 1, PROpen: true,
		CommentID: 1, Body: body, Author: "maintainer",
		CloneURL: forgehook.DefaultGiteaURL + "/coop-cloud/sample.git", Received: fixedNow, Created: forgehook.DefaultTime,
	}
}

func TestGitea(t *testing.T) {
	t.Parallel()
	accepted := map[string]any{"delivery": "gt-1", "repo": "coop-cloud/sample", "pr": float64(1), "status": float64(202)}
	ignoredAt := func(reason string) map[string]any {
		return map[string]any{"delivery": "gt-1", "repo": "coop-cloud/sample", "pr": float64(1), "reason": reason}
	}
	refused := map[string]any{"delivery": "gt-1", "status": float64(401)}
	head := forgehook.SHA("new head")
	runForgeCases(t, event.Gitea, []forgeCase{
		{
			name: "a !testme comment with Gitea's headers is queued and answered 202", delivery: gtComment(forgehook.CommentParams{Body: "!testme"}),
			wantStatus: http.StatusAccepted, wantBody: "accepted", wantOutcome: OutcomeAccepted, wantEvent: wantGiteaComment("!testme"),
			wantLog: "webhook accepted", wantLevel: "INFO", wantAttrs: accepted,
		},
		{
			name: "a !testme comment with Forgejo's headers is queued and answered 202", delivery: gtComment(forgehook.CommentParams{Body: "!testme --quick", Forgejo: true}),
			wantStatus: http.StatusAccepted, wantBody: "accepted", wantOutcome: OutcomeAccepted, wantEvent: wantGiteaComment("!testme --quick"),
			wantLog: "webhook accepted", wantLevel: "INFO", wantAttrs: accepted,
		},
		{
			name: "Forgejo's delivery id wins over Gitea's", delivery: gtComment(forgehook.CommentParams{Body: "!testme", Forgejo: true}), mutate: withHeader("X-Gitea-Delivery", "other-id"),
			wantStatus: http.StatusAccepted, wantBody: "accepted", wantOutcome: OutcomeAccepted, wantEvent: wantGiteaComment("!testme"),
			wantLog: "webhook accepted", wantLevel: "INFO", wantAttrs: accepted,
		},
		{
			name: "Forgejo's event header wins over Gitea's", delivery: gtComment(forgehook.CommentParams{Body: "!testme", Forgejo: true}), mutate: withHeader("X-Gitea-Event", "push"),
			wantStatus: http.StatusAccepted, wantBody: "accepted", wantOutcome: OutcomeAccepted, wantEvent: wantGiteaComment("!testme"),
			wantLog: "webhook accepted", wantLevel: "INFO", wantAttrs: accepted,
		},
		{
			name: "new commits on an open PR are queued as a push with the new head", delivery: forgehook.GiteaSync(forgehook.PushParams{ID: "gt-1", PR: 3, HeadSHA: head, Sender: "bob"}).Sign(giteaSecret),
			wantStatus: http.StatusAccepted, wantBody: "accepted", wantOutcome: OutcomeAccepted,
			wantEvent: &event.Event{Forge: event.Gitea, DeliveryID: "gt-1", Kind: event.Push, Repo: "coop-cloud/sample", Owner: "coop-cloud", PR: 3,
				PROpen: true, HeadSHA: head, Author: "bob", CloneURL: forgehook.DefaultGiteaURL + "/coop-cloud/sample.git", Received: fixedNow},
			wantLog: "webhook accepted", wantLevel: "INFO", wantAttrs: map[string]any{"pr": float64(3), "head_sha": head},
		},
		{
			name: "a delivery signed with the wrong secret is refused 401", delivery: forgehook.GiteaComment(forgehook.CommentParams{ID: "gt-1", Body: "!testme"}).Sign(wrongSecret),
			wantStatus: http.StatusUnauthorized, wantBody: "bad signature", wantOutcome: OutcomeBadSignature,
			wantLog: "webhook signature refused", wantLevel: "WARN", wantAttrs: refused,
		},
		{
			name: "a delivery without signature is refused 401", delivery: forgehook.GiteaComment(forgehook.CommentParams{ID: "gt-1", Body: "!testme"}),
			wantStatus: http.StatusUnauthorized, wantBody: "bad signature", wantOutcome: OutcomeBadSignature,
			wantLog: "webhook signature refused", wantLevel: "WARN", wantAttrs: refused,
		},
		{
			name:       "a wrong Forgejo signature is not rescued by a right Gitea one",
			delivery:   gtComment(forgehook.CommentParams{Body: "!testme", Forgejo: true}),
			mutate:     withHeader("X-Forgejo-Signature", forgehook.GiteaComment(forgehook.CommentParams{Body: "x"}).Sign(giteaSecret).Headers.Get("X-Gitea-Signature")),
			wantStatus: http.StatusUnauthorized, wantBody: "bad signature", wantOutcome: OutcomeBadSignature,
			wantLog: "webhook signature refused", wantLevel: "WARN", wantAttrs: map[string]any{"reason": "X-Forgejo-Signature: signature does not match the body"},
		},
		{
			name: "an empty Forgejo signature is not rescued by a right Gitea one", delivery: gtComment(forgehook.CommentParams{Body: "!testme", Forgejo: true}), mutate: withHeader("X-Forgejo-Signature", ""),
			wantStatus: http.StatusUnauthorized, wantBody: "bad signature", wantOutcome: OutcomeBadSignature,
			wantLog: "webhook signature refused", wantLevel: "WARN", wantAttrs: map[string]any{"reason": "X-Forgejo-Signature: no signature header"},
		},
		{
			name: "a GitHub-style sha256= signature in X-Gitea-Signature is refused 401", delivery: gtComment(forgehook.CommentParams{Body: "!testme"}),
			mutate:     func(r *http.Request) { r.Header.Set("X-Gitea-Signature", "sha256="+r.Header.Get("X-Gitea-Signature")) },
			wantStatus: http.StatusUnauthorized, wantBody: "bad signature", wantOutcome: OutcomeBadSignature,
			wantLog: "webhook signature refused", wantLevel: "WARN", wantAttrs: refused,
		},
		{
			name: "X-Hub-Signature-256 alone does not sign a Gitea delivery", delivery: gtComment(forgehook.CommentParams{Body: "!testme"}), mutate: withoutHeader("X-Gitea-Signature"),
			wantStatus: http.StatusUnauthorized, wantBody: "bad signature", wantOutcome: OutcomeBadSignature,
			wantLog: "webhook signature refused", wantLevel: "WARN", wantAttrs: refused,
		},
		{
			name: "a body changed after signing is refused 401", delivery: tampered(gtComment(forgehook.CommentParams{Body: "looks fine"}), "looks fine", "!testme"),
			wantStatus: http.StatusUnauthorized, wantBody: "bad signature", wantOutcome: OutcomeBadSignature,
			wantLog: "webhook signature refused", wantLevel: "WARN", wantAttrs: refused,
		},
		{
			name: "a delivery with only GitHub's event header is refused 400", delivery: gtComment(forgehook.CommentParams{Body: "!testme"}), mutate: withoutHeader("X-Gitea-Event"),
			wantStatus: http.StatusBadRequest, wantBody: "bad event headers", wantOutcome: OutcomeBadRequest,
			wantLog: "webhook headers refused", wantLevel: "WARN", wantAttrs: map[string]any{"reason": "no X-Gitea-Event header"},
		},
		{
			name: "a delivery without delivery id is refused 400", delivery: gtComment(forgehook.CommentParams{Body: "!testme"}), mutate: withoutHeader("X-Gitea-Delivery"),
			wantStatus: http.StatusBadRequest, wantBody: "bad event headers", wantOutcome: OutcomeBadRequest,
			wantLog: "webhook headers refused", wantLevel: "WARN", wantAttrs: map[string]any{"reason": "no X-Gitea-Delivery header"},
		},
		{
			name: "a body over the cap is refused 413", delivery: gtComment(forgehook.CommentParams{Body: "!testme"}), edit: func(c *Config) { c.MaxBody = 512 },
			wantStatus: http.StatusRequestEntityTooLarge, wantBody: "body too large", wantOutcome: OutcomeTooLarge,
			wantLog: "webhook body over the cap", wantLevel: "WARN", wantAttrs: map[string]any{"delivery": "gt-1"},
		},
		{
			name: "a signed form-encoded body is refused 400 with its content type logged", delivery: signedBody(forgehook.GiteaComment(forgehook.CommentParams{ID: "gt-1"}), "payload=%7B%7D", giteaSecret),
			mutate:     withHeader("Content-Type", "application/x-www-form-urlencoded"),
			wantStatus: http.StatusBadRequest, wantBody: "bad payload", wantOutcome: OutcomeBadRequest,
			wantLog: "webhook payload refused", wantLevel: "WARN", wantAttrs: map[string]any{"content_type": "application/x-www-form-urlencoded"},
		},
		{
			name: "a POST-only route answers PUT with 405", delivery: gtComment(forgehook.CommentParams{Body: "!testme"}), mutate: func(r *http.Request) { r.Method = http.MethodPut },
			wantStatus: http.StatusMethodNotAllowed, wantBody: "method not allowed", wantOutcome: OutcomeBadRequest,
			wantLog: "webhook not POSTed", wantLevel: "INFO",
		},
		{
			name: "a command on a closed PR is ignored", delivery: gtComment(forgehook.CommentParams{Body: "!testme", PRState: "closed"}),
			wantStatus: http.StatusOK, wantBody: "ignored: pull request closed", wantOutcome: OutcomeIgnored,
			wantLog: "webhook ignored", wantLevel: "INFO", wantAttrs: ignoredAt("pull request closed"),
		},
		{
			name: "a command on a repo not enrolled is ignored with a warning naming the repo", delivery: gtComment(forgehook.CommentParams{Repo: "someone/else", Body: "!testme"}),
			wantStatus: http.StatusOK, wantBody: "ignored: repo not enrolled", wantOutcome: OutcomeIgnored,
			wantLog: "repo not enrolled", wantLevel: "WARN", wantAttrs: map[string]any{"repo": "someone/else"},
		},
		{
			name: "an edited comment is ignored", delivery: gtComment(forgehook.CommentParams{Body: "!testme", Action: "edited"}),
			wantStatus: http.StatusOK, wantBody: "ignored: comment edited", wantOutcome: OutcomeIgnored,
			wantLog: "webhook ignored", wantLevel: "INFO", wantAttrs: ignoredAt("comment edited"),
		},
		{
			name: "the bot's own comment is ignored", delivery: gtComment(forgehook.CommentParams{Body: "!testme", Author: "cc-ci"}),
			wantStatus: http.StatusOK, wantBody: "ignored: the bot's own comment", wantOutcome: OutcomeIgnored,
			wantLog: "webhook ignored", wantLevel: "INFO", wantAttrs: ignoredAt("the bot's own comment"),
		},
		{
			name: "a comment without a command is ignored", delivery: gtComment(forgehook.CommentParams{Body: "!testme please"}),
			wantStatus: http.StatusOK, wantBody: "ignored: no command", wantOutcome: OutcomeIgnored,
			wantLog: "webhook ignored", wantLevel: "INFO", wantAttrs: ignoredAt("no command"),
		},
		{
			name: "a command in a code block is ignored", delivery: gtComment(forgehook.CommentParams{Body: "```\n!testme\n```"}),
			wantStatus: http.StatusOK, wantBody: "ignored: no command", wantOutcome: OutcomeIgnored,
			wantLog: "webhook ignored", wantLevel: "INFO", wantAttrs: ignoredAt("no command"),
		},
		{
			name: "a command on a plain issue is ignored", delivery: gtComment(forgehook.CommentParams{Body: "!testme", OnIssue: true}),
			wantStatus: http.StatusOK, wantBody: "ignored: comment on an issue, not a pull request", wantOutcome: OutcomeIgnored,
			wantLog: "webhook ignored", wantLevel: "INFO", wantAttrs: ignoredAt("comment on an issue, not a pull request"),
		},
		{
			name: "GitHub's synchronize action is not Gitea's and is ignored", delivery: forgehook.GiteaSync(forgehook.PushParams{ID: "gt-1", Action: "synchronize"}).Sign(giteaSecret),
			wantStatus: http.StatusOK, wantBody: "ignored: pull request action not handled", wantOutcome: OutcomeIgnored,
			wantLog: "webhook ignored", wantLevel: "INFO", wantAttrs: ignoredAt("pull request action not handled"),
		},
		{
			name: "a push whose head is not a commit id is refused 400", delivery: forgehook.GiteaSync(forgehook.PushParams{ID: "gt-1", HeadSHA: "main"}).Sign(giteaSecret),
			wantStatus: http.StatusBadRequest, wantBody: "bad payload", wantOutcome: OutcomeBadRequest,
			wantLog: "webhook payload refused", wantLevel: "WARN", wantAttrs: map[string]any{"repo": "coop-cloud/sample"},
		},
		{
			name: "a push on a SHA-256 repository is queued", delivery: forgehook.GiteaSync(forgehook.PushParams{ID: "gt-1", HeadSHA: head + "0123456789abcdef01234567"}).Sign(giteaSecret),
			wantStatus: http.StatusAccepted, wantBody: "accepted", wantOutcome: OutcomeAccepted,
			wantEvent: &event.Event{Forge: event.Gitea, DeliveryID: "gt-1", Kind: event.Push, Repo: "coop-cloud/sample", Owner: "coop-cloud", PR: 1,
				PROpen: true, HeadSHA: head + "0123456789abcdef01234567", Author: "contributor", CloneURL: forgehook.DefaultGiteaURL + "/coop-cloud/sample.git", Received: fixedNow},
			wantLog: "webhook accepted", wantLevel: "INFO",
		},
		{
			name: "a sink that cannot store the event makes the answer 503", delivery: gtComment(forgehook.CommentParams{Body: "!testme"}), sinkErr: errStore,
			wantStatus: http.StatusServiceUnavailable, wantBody: "cannot queue the event, retry later", wantOutcome: OutcomeStoreError, wantEvent: wantGiteaComment("!testme"),
			wantLog: "webhook not queued", wantLevel: "ERROR", wantAttrs: map[string]any{"err": errStore.Error()},
		},
	})
}
