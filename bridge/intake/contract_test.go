package intake

import (
	"net/http"
	"testing"

	"code.gitea.io/sdk/gitea"
	"github.com/google/go-github/v62/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/testkit/forgehook"
)

// These tests hold the delivery builders to the client libraries' reading of each forge's wire
// format: go-github parses the GitHub deliveries and checks their signature, and the Gitea SDK
// checks the Gitea signature. A builder that drifted from the real format would fail here, not
// only in intake (which shares the builders' assumptions).

func TestGitHubDeliveriesReadAsGoGithubReadsThem(t *testing.T) {
	t.Parallel()
	t.Run("a comment delivery is an issue comment on a pull request, correctly signed", func(t *testing.T) {
		t.Parallel()
		d := forgehook.GitHubComment(forgehook.CommentParams{Repo: "coop-cloud/gitea", PR: 9, CommentID: 77, Body: "!testme", Author: "alice"}).Sign(githubSecret)
		require.NoError(t, github.ValidateSignature(d.Headers.Get("X-Hub-Signature-256"), d.Body, githubSecret))
		req, err := http.NewRequest(http.MethodPost, "/", nil)
		require.NoError(t, err)
		req.Header = d.Headers
		assert.Equal(t, "issue_comment", github.WebHookType(req))
		assert.Equal(t, d.ID, github.DeliveryID(req))

		parsed, err := github.ParseWebHook(github.WebHookType(req), d.Body)
		require.NoError(t, err)
		ev, ok := parsed.(*github.IssueCommentEvent)
		require.True(t, ok, "parsed as %T", parsed)
		assert.Equal(t, "created", ev.GetAction())
		assert.True(t, ev.GetIssue().IsPullRequest())
		assert.Equal(t, 9, ev.GetIssue().GetNumber())
		assert.Equal(t, "open", ev.GetIssue().GetState())
		assert.Equal(t, int64(77), ev.GetComment().GetID())
		assert.Equal(t, "!testme", ev.GetComment().GetBody())
		assert.Equal(t, "alice", ev.GetComment().GetUser().GetLogin())
		assert.Equal(t, "coop-cloud/gitea", ev.GetRepo().GetFullName())
		assert.Equal(t, "coop-cloud", ev.GetRepo().GetOwner().GetLogin())
		assert.Equal(t, "https://github.com/coop-cloud/gitea.git", ev.GetRepo().GetCloneURL())
		assert.Equal(t, "coop-cloud", ev.GetOrganization().GetLogin())
	})
	t.Run("a synchronize delivery is a pull request event with the new head", func(t *testing.T) {
		t.Parallel()
		head := forgehook.SHA("head")
		d := forgehook.GitHubSync(forgehook.PushParams{PR: 4, HeadSHA: head, Sender: "bob"}).Sign(githubSecret)
		require.NoError(t, github.ValidateSignature(d.Headers.Get("X-Hub-Signature-256"), d.Body, githubSecret))
		parsed, err := github.ParseWebHook("pull_request", d.Body)
		require.NoError(t, err)
		ev, ok := parsed.(*github.PullRequestEvent)
		require.True(t, ok, "parsed as %T", parsed)
		assert.Equal(t, "synchronize", ev.GetAction())
		assert.Equal(t, 4, ev.GetNumber())
		assert.Equal(t, head, ev.GetAfter())
		assert.Equal(t, head, ev.GetPullRequest().GetHead().GetSHA())
		assert.Equal(t, "open", ev.GetPullRequest().GetState())
		assert.Equal(t, "bob", ev.GetSender().GetLogin())
	})
	t.Run("a ping delivery is a ping event", func(t *testing.T) {
		t.Parallel()
		parsed, err := github.ParseWebHook("ping", forgehook.GitHubPing("", "").Body)
		require.NoError(t, err)
		ev, ok := parsed.(*github.PingEvent)
		require.True(t, ok, "parsed as %T", parsed)
		assert.NotEmpty(t, ev.GetZen())
	})
}

func TestGiteaSignatureReadsAsTheGiteaSDKReadsIt(t *testing.T) {
	t.Parallel()
	for _, forgejo := range []bool{false, true} {
		d := forgehook.GiteaComment(forgehook.CommentParams{Body: "!testme", Forgejo: forgejo}).Sign(giteaSecret)
		for _, header := range []string{"X-Gitea-Signature", "X-Forgejo-Signature"} {
			if header == "X-Forgejo-Signature" && !forgejo {
				continue
			}
			ok, err := gitea.VerifyWebhookSignature(string(giteaSecret), d.Headers.Get(header), d.Body)
			require.NoError(t, err, header)
			assert.True(t, ok, "%s verifies with the Gitea SDK", header)
		}
	}
}
