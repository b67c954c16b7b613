package intake

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"

	"coopcloud.tech/cc-ci/bridge/command"
	"coopcloud.tech/cc-ci/bridge/event"
	"coopcloud.tech/cc-ci/bridge/trust"
)

// forgeRoute is what differs between the GitHub and the Gitea route; everything else is one
// pipeline (STYLE 11: one handler, one validator and one converter per forge).
type forgeRoute struct {
	name    string // event.GitHub or event.Gitea
	secret  []byte
	verify  func(h http.Header, body, secret []byte) error
	headers func(h http.Header) (kind, delivery string, err error)
	// deliveryHeader reads the delivery id before it is validated, only to tag log lines.
	deliveryHeader func(h http.Header) string
	convert        func(kind string, body []byte) (event.Event, error)
}

// deliveryID is what a delivery id may look like: GitHub's GUIDs and Gitea's UUIDs fit with room
// to spare, and it goes into store keys and logs, so nothing else is taken.
var deliveryID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// exchange is one request and its single answer.
type exchange struct {
	ctx   context.Context
	h     *Handlers
	w     http.ResponseWriter
	forge string
	log   *slog.Logger
}

// finish logs the delivery's one line, reports its outcome and answers it. The answer is a fixed
// short text: nothing received is ever echoed back.
func (x *exchange) finish(status int, outcome, text string, level slog.Level, msg string, attrs ...any) {
	attrs = append(attrs, "status", status)
	if outcome != "" {
		attrs = append(attrs, "outcome", outcome)
		x.h.cfg.Outcome(x.forge, outcome)
	}
	x.log.Log(x.ctx, level, msg, attrs...)
	x.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	x.w.Header().Set("X-Content-Type-Options", "nosniff")
	x.w.WriteHeader(status)
	if _, err := io.WriteString(x.w, text+"\n"); err != nil {
		x.log.Debug("write response", "err", err) // the sender hung up; its delivery is decided
	}
}

// begin does what every route does before trusting a byte: route configured, method POST, body
// read within the cap. It returns the body, or nil once it has answered.
func (h *Handlers) begin(w http.ResponseWriter, r *http.Request, forge string, secret []byte, delivery string) (*exchange, []byte) {
	log := h.log.With("forge", forge)
	if delivery != "" {
		// Not yet validated: it only tags the log lines, cut short so it cannot flood them.
		log = log.With("delivery", delivery[:min(len(delivery), 128)])
	}
	x := &exchange{ctx: r.Context(), h: h, w: w, forge: forge, log: log}
	if len(secret) == 0 {
		x.finish(http.StatusNotFound, "", "not found", slog.LevelWarn, "webhook for a route with no secret configured")
		return nil, nil
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		x.finish(http.StatusMethodNotAllowed, OutcomeBadRequest, "method not allowed", slog.LevelInfo, "webhook not POSTed", "method", r.Method)
		return nil, nil
	}
	body, err := readBody(w, r, h.cfg.MaxBody)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			x.finish(http.StatusRequestEntityTooLarge, OutcomeTooLarge, "body too large", slog.LevelWarn, "webhook body over the cap", "max_bytes", h.cfg.MaxBody)
		} else {
			x.finish(http.StatusBadRequest, OutcomeBadRequest, "cannot read body", slog.LevelWarn, "webhook body unreadable", "err", err)
		}
		return nil, nil
	}
	return x, body
}

// readBody reads the whole body, at most max bytes. A declared length over the cap is refused
// before a byte is read; otherwise the buffer is sized once from the declared length, since a
// webhook's Content-Length is honest or the server cuts the body at it anyway.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, &http.MaxBytesError{Limit: max}
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, max)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// serveForge is the whole life of a GitHub or Gitea delivery.
func (h *Handlers) serveForge(w http.ResponseWriter, r *http.Request, f forgeRoute) {
	x, body := h.begin(w, r, f.name, f.secret, f.deliveryHeader(r.Header))
	if x == nil {
		return
	}
	if err := f.verify(r.Header, body, f.secret); err != nil {
		x.finish(http.StatusUnauthorized, OutcomeBadSignature, "bad signature", slog.LevelWarn, "webhook signature refused", "reason", err.Error())
		return
	}
	kind, delivery, err := f.headers(r.Header)
	if err != nil {
		x.finish(http.StatusBadRequest, OutcomeBadRequest, "bad event headers", slog.LevelWarn, "webhook headers refused", "reason", err.Error())
		return
	}
	if kind == "ping" {
		x.finish(http.StatusOK, OutcomeIgnored, "pong", slog.LevelInfo, "webhook ping")
		return
	}
	ev, err := f.convert(kind, body)
	if ev.Repo != "" {
		x.log = x.log.With("repo", ev.Repo, "pr", ev.PR)
	}
	if err == nil {
		err = h.filter(x, f.name, ev)
	}
	if errors.Is(err, ErrIgnored) {
		var ig *IgnoredError
		errors.As(err, &ig)
		x.finish(http.StatusOK, OutcomeIgnored, err.Error(), slog.LevelInfo, "webhook ignored", "event", kind, "reason", ig.Reason)
		return
	}
	if err != nil {
		x.finish(http.StatusBadRequest, OutcomeBadRequest, "bad payload", slog.LevelWarn, "webhook payload refused", "event", kind, "reason", err.Error(),
			"content_type", r.Header.Get("Content-Type"))
		return
	}
	ev.Forge, ev.DeliveryID, ev.Received = f.name, delivery, h.cfg.Now()
	if err := h.sink.Accept(r.Context(), ev); err != nil {
		x.finish(http.StatusServiceUnavailable, OutcomeStoreError, "cannot queue the event, retry later", slog.LevelError, "webhook not queued", "err", err)
		return
	}
	x.finish(http.StatusAccepted, OutcomeAccepted, "accepted", slog.LevelInfo, "webhook accepted",
		"kind", string(ev.Kind), "author", ev.Author, "comment_id", ev.CommentID, "head_sha", ev.HeadSHA)
}

// filter applies the forge-agnostic rules to a converted event: the bot's own comments and
// comments without a command are ignored, and so is any repo not enrolled (logged at warn: a
// maintainer asked and nothing will happen).
func (h *Handlers) filter(x *exchange, forge string, ev event.Event) error {
	if ev.Kind == event.Comment {
		if bot := h.cfg.Bots[forge]; bot != "" && trust.SameLogin(bot, ev.Author) {
			return ignored("the bot's own comment")
		}
		if _, ok := command.Parse(ev.Body); !ok {
			return ignored("no command")
		}
	}
	if !h.cfg.Enrolled(forge, ev.Repo) {
		x.log.Warn("repo not enrolled", "repo", ev.Repo, "kind", string(ev.Kind))
		return ignored("repo not enrolled")
	}
	return nil
}

// GitHub serves POST /hooks/github.
func (h *Handlers) GitHub(w http.ResponseWriter, r *http.Request) {
	h.serveForge(w, r, forgeRoute{
		name:           event.GitHub,
		secret:         h.cfg.GitHubSecret,
		verify:         verifyGitHub,
		headers:        githubHeaders,
		deliveryHeader: func(hd http.Header) string { return hd.Get("X-GitHub-Delivery") },
		convert:        convertGitHub,
	})
}

// Gitea serves POST /hooks/gitea, for Gitea's and Forgejo's headers alike.
func (h *Handlers) Gitea(w http.ResponseWriter, r *http.Request) {
	h.serveForge(w, r, forgeRoute{
		name:           event.Gitea,
		secret:         h.cfg.GiteaSecret,
		verify:         verifyGitea,
		headers:        giteaHeaders,
		deliveryHeader: func(hd http.Header) string { return preferForgejo(hd, "Delivery") },
		convert:        convertGitea,
	})
}
