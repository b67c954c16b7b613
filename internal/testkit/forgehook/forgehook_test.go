package forgehook

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The known answer from GitHub's "Validating webhook deliveries"
// (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation).
const (
	docSecret    = "It's a Secret to Everybody"
	docPayload   = "Hello, World!"
	docSignature = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
)

func TestSign(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		d        Delivery
		want     map[string]string
		wantNone []string
	}{
		{
			name:     "a GitHub delivery carries GitHub's documented signature with its sha256= prefix",
			d:        Delivery{Forge: GitHub, Body: []byte(docPayload)},
			want:     map[string]string{"X-Hub-Signature-256": "sha256=" + docSignature},
			wantNone: []string{"X-Gitea-Signature", "X-Forgejo-Signature"},
		},
		{
			name: "a Gitea delivery carries the bare hex signature and the GitHub-style ones",
			d:    Delivery{Forge: Gitea, Body: []byte(docPayload)},
			want: map[string]string{
				"X-Gitea-Signature":   docSignature,
				"X-Gogs-Signature":    docSignature,
				"X-Hub-Signature-256": "sha256=" + docSignature,
			},
			wantNone: []string{"X-Forgejo-Signature"},
		},
		{
			name: "a Forgejo delivery adds the X-Forgejo-Signature header",
			d:    Delivery{Forge: Gitea, Forgejo: true, Body: []byte(docPayload)},
			want: map[string]string{"X-Forgejo-Signature": docSignature, "X-Gitea-Signature": docSignature},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			signed := tc.d.Sign([]byte(docSecret))
			for k, v := range tc.want {
				assert.Equal(t, v, signed.Headers.Get(k), k)
			}
			for _, k := range tc.wantNone {
				assert.Empty(t, signed.Headers.Values(k), k)
			}
			assert.True(t, strings.HasPrefix(signed.Headers.Get("X-Hub-Signature"), "sha1="))
			assert.Nil(t, tc.d.Headers, "Sign must not change the delivery it was called on")
		})
	}
}

func TestSignLeavesTheOriginalHeadersAlone(t *testing.T) {
	t.Parallel()
	d := GitHubComment(CommentParams{Body: "!testme"})
	a := d.Sign([]byte("one"))
	b := d.Sign([]byte("two"))
	assert.Empty(t, d.Headers.Get("X-Hub-Signature-256"))
	assert.NotEqual(t, a.Headers.Get("X-Hub-Signature-256"), b.Headers.Get("X-Hub-Signature-256"))
}

func TestGitHubComment(t *testing.T) {
	t.Parallel()
	d := GitHubComment(CommentParams{ID: "d-1", Repo: "coop-cloud/gitea", PR: 7, CommentID: 42, Body: "> quoted & <b>\n!testme", Author: "alice"})
	assert.Equal(t, GitHub, d.Forge)
	assert.Equal(t, "issue_comment", d.Event)
	assert.Equal(t, "issue_comment", d.Headers.Get("X-GitHub-Event"))
	assert.Equal(t, "d-1", d.Headers.Get("X-GitHub-Delivery"))
	assert.NotEmpty(t, d.Headers.Get("X-GitHub-Hook-ID"))
	assert.True(t, strings.HasPrefix(d.Headers.Get("User-Agent"), "GitHub-Hookshot/"))
	assert.Empty(t, d.Headers.Get("X-Gitea-Event"), "GitHub sends no Gitea headers")
	assert.Contains(t, string(d.Body), `"body":"> quoted & <b>\n!testme"`, "GitHub does not HTML-escape its JSON")

	var p struct {
		Action string `json:"action"`
		Issue  struct {
			Number      int             `json:"number"`
			State       string          `json:"state"`
			PullRequest json.RawMessage `json:"pull_request"`
		} `json:"issue"`
		Comment struct {
			ID   int64  `json:"id"`
			Body string `json:"body"`
			User struct {
				Login string `json:"login"`
			} `json:"user"`
		} `json:"comment"`
		Repository struct {
			FullName string `json:"full_name"`
			CloneURL string `json:"clone_url"`
			Owner    struct {
				Login string `json:"login"`
				Type  string `json:"type"`
			} `json:"owner"`
		} `json:"repository"`
		Organization *struct {
			Login string `json:"login"`
		} `json:"organization"`
	}
	require.NoError(t, json.Unmarshal(d.Body, &p))
	assert.Equal(t, "created", p.Action)
	assert.Equal(t, 7, p.Issue.Number)
	assert.Equal(t, "open", p.Issue.State)
	assert.NotEqual(t, "null", string(p.Issue.PullRequest))
	assert.Equal(t, int64(42), p.Comment.ID)
	assert.Equal(t, "> quoted & <b>\n!testme", p.Comment.Body)
	assert.Equal(t, "alice", p.Comment.User.Login)
	assert.Equal(t, "coop-cloud/gitea", p.Repository.FullName)
	assert.Equal(t, "https://github.com/coop-cloud/gitea.git", p.Repository.CloneURL)
	assert.Equal(t, "Organization", p.Repository.Owner.Type)
	require.NotNil(t, p.Organization)
	assert.Equal(t, "coop-cloud", p.Organization.Login)

	issue := GitHubComment(CommentParams{OnIssue: true, UserOwner: true})
	assert.NotContains(t, string(issue.Body), `"pull_request"`, "a plain issue has no pull_request object")
	assert.NotContains(t, string(issue.Body), `"organization"`, "a user's repo has no organization")
}

func TestGitHubSync(t *testing.T) {
	t.Parallel()
	d := GitHubSync(PushParams{Repo: "coop-cloud/gitea", PR: 3, HeadSHA: SHA("new"), Sender: "bob"})
	assert.Equal(t, "pull_request", d.Headers.Get("X-GitHub-Event"))
	var p struct {
		Action      string `json:"action"`
		Number      int    `json:"number"`
		After       string `json:"after"`
		PullRequest struct {
			State string `json:"state"`
			Head  struct {
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_request"`
		Sender struct {
			Login string `json:"login"`
		} `json:"sender"`
	}
	require.NoError(t, json.Unmarshal(d.Body, &p))
	assert.Equal(t, "synchronize", p.Action)
	assert.Equal(t, 3, p.Number)
	assert.Equal(t, SHA("new"), p.After)
	assert.Equal(t, SHA("new"), p.PullRequest.Head.SHA)
	assert.Equal(t, "open", p.PullRequest.State)
	assert.Equal(t, "bob", p.Sender.Login)
}

func TestGitHubPing(t *testing.T) {
	t.Parallel()
	d := GitHubPing("", "p-1")
	assert.Equal(t, "ping", d.Headers.Get("X-GitHub-Event"))
	assert.Contains(t, string(d.Body), `"zen"`)
}

func TestGiteaComment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		p             CommentParams
		wantEventType string
		wantIsPull    bool
		wantForgejo   bool
	}{
		{name: "a comment on a Gitea PR is a pull_request_comment with is_pull", p: CommentParams{Body: "> x\n!testme"}, wantEventType: "pull_request_comment", wantIsPull: true},
		{name: "a comment on a Gitea issue is an issue_comment without is_pull", p: CommentParams{OnIssue: true}, wantEventType: "issue_comment"},
		{name: "a Forgejo delivery carries X-Forgejo headers beside Gitea's", p: CommentParams{Forgejo: true}, wantEventType: "pull_request_comment", wantIsPull: true, wantForgejo: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := GiteaComment(tc.p)
			assert.Equal(t, Gitea, d.Forge)
			for _, prefix := range []string{"X-Gitea-", "X-Gogs-", "X-GitHub-"} {
				assert.Equal(t, "issue_comment", d.Headers.Get(prefix+"Event"), prefix)
				assert.Equal(t, tc.wantEventType, d.Headers.Get(prefix+"Event-Type"), prefix)
				assert.Equal(t, d.ID, d.Headers.Get(prefix+"Delivery"), prefix)
			}
			if tc.wantForgejo {
				assert.Equal(t, "issue_comment", d.Headers.Get("X-Forgejo-Event"))
				assert.Equal(t, d.ID, d.Headers.Get("X-Forgejo-Delivery"))
			} else {
				assert.Empty(t, d.Headers.Values("X-Forgejo-Event"))
			}
			var p struct {
				IsPull bool `json:"is_pull"`
				Issue  struct {
					State       string          `json:"state"`
					PullRequest json.RawMessage `json:"pull_request"`
				} `json:"issue"`
				Comment struct {
					Body string `json:"body"`
				} `json:"comment"`
				Repository struct {
					FullName string `json:"full_name"`
					Owner    struct {
						Login    string `json:"login"`
						Username string `json:"username"`
					} `json:"owner"`
				} `json:"repository"`
			}
			require.NoError(t, json.Unmarshal(d.Body, &p))
			assert.Equal(t, tc.wantIsPull, p.IsPull)
			assert.Equal(t, tc.wantIsPull, string(p.Issue.PullRequest) != "null")
			assert.Equal(t, tc.p.Body, p.Comment.Body)
			assert.Equal(t, "coop-cloud/sample", p.Repository.FullName)
			assert.Equal(t, "coop-cloud", p.Repository.Owner.Login)
			assert.Equal(t, "coop-cloud", p.Repository.Owner.Username)
		})
	}
}

func TestGiteaBodyIsIndentedAndHTMLEscapedLikeGiteas(t *testing.T) {
	t.Parallel()
	d := GiteaComment(CommentParams{Body: "> quote"})
	assert.True(t, strings.HasPrefix(string(d.Body), "{\n  \"action\": \"created\""))
	assert.Contains(t, string(d.Body), `\u003e quote`)
}

func TestGiteaSync(t *testing.T) {
	t.Parallel()
	d := GiteaSync(PushParams{PR: 4, HeadSHA: SHA("x"), Forgejo: true, BaseURL: "http://127.0.0.1:3000"})
	assert.Equal(t, "pull_request", d.Headers.Get("X-Forgejo-Event"))
	assert.Equal(t, "pull_request_sync", d.Headers.Get("X-Gitea-Event-Type"))
	var p struct {
		Action      string `json:"action"`
		Number      int    `json:"number"`
		PullRequest struct {
			Head struct {
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_request"`
		Repository struct {
			CloneURL string `json:"clone_url"`
			SSHURL   string `json:"ssh_url"`
		} `json:"repository"`
	}
	require.NoError(t, json.Unmarshal(d.Body, &p))
	assert.Equal(t, "synchronized", p.Action)
	assert.Equal(t, 4, p.Number)
	assert.Equal(t, SHA("x"), p.PullRequest.Head.SHA)
	assert.Equal(t, "http://127.0.0.1:3000/coop-cloud/sample.git", p.Repository.CloneURL)
	assert.Equal(t, "git@127.0.0.1:coop-cloud/sample.git", p.Repository.SSHURL)
}

func TestRequest(t *testing.T) {
	t.Parallel()
	d := GiteaComment(CommentParams{Body: "!testme"})
	req := d.Request("http://127.0.0.1:1/hooks/gitea", []byte("s3cret"))
	assert.Equal(t, http.MethodPost, req.Method)
	assert.Equal(t, "/hooks/gitea", req.URL.Path)
	assert.Equal(t, d.Sign([]byte("s3cret")).Headers.Get("X-Gitea-Signature"), req.Header.Get("X-Gitea-Signature"))
	assert.NotEmpty(t, req.Header.Get("X-Gitea-Signature"))
	body, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	assert.Equal(t, d.Body, body)
	assert.Equal(t, int64(len(d.Body)), req.ContentLength)
}

func TestGUID(t *testing.T) {
	t.Parallel()
	uuid4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := GUID(), GUID()
	assert.Regexp(t, uuid4, a)
	assert.NotEqual(t, a, b)
}
