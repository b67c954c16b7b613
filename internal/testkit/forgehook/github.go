package forgehook

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// GitHub's delivery headers, from "Webhook events and payloads" > "Delivery headers"
// (https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers): the hook
// id, the event, the delivery GUID, the signatures (set by Sign), a GitHub-Hookshot user agent,
// and the installation target the hook belongs to.
func githubHeaders(event, delivery string, repoID int64) http.Header {
	h := http.Header{}
	h.Set("Accept", "*/*")
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/044aadd")
	h.Set("X-GitHub-Delivery", delivery)
	h.Set("X-GitHub-Event", event)
	h.Set("X-GitHub-Hook-ID", "292430182")
	h.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(repoID, 10))
	h.Set("X-GitHub-Hook-Installation-Target-Type", "repository")
	return h
}

// GitHubComment is an issue_comment delivery: a comment on a PR (or, with OnIssue, a plain
// issue). A PR's comments are issue comments on GitHub; the issue carries a pull_request object
// only when it is a PR.
func GitHubComment(p CommentParams) Delivery {
	p = p.withDefaults()
	api := "https://api.github.com/repos/" + p.Repo
	html := "https://github.com/" + p.Repo
	issue := object{
		{"url", fmt.Sprintf("%s/issues/%d", api, p.PR)},
		{"repository_url", api},
		{"labels_url", fmt.Sprintf("%s/issues/%d/labels{/name}", api, p.PR)},
		{"comments_url", fmt.Sprintf("%s/issues/%d/comments", api, p.PR)},
		{"events_url", fmt.Sprintf("%s/issues/%d/events", api, p.PR)},
		{"html_url", fmt.Sprintf("%s/pull/%d", html, p.PR)},
		{"id", id(fmt.Sprintf("%s#%d", p.Repo, p.PR))},
		{"node_id", "PR_kwDOA" + strconv.Itoa(p.PR)},
		{"number", p.PR},
		{"title", "Update the recipe"},
		{"user", githubUser("contributor")},
		{"labels", []any{}},
		{"state", p.PRState},
		{"locked", false},
		{"assignee", nil},
		{"assignees", []any{}},
		{"milestone", nil},
		{"comments", 1},
		{"created_at", stamp(p.Time.Add(-time.Hour))},
		{"updated_at", stamp(p.Time)},
		{"closed_at", closedAt(p.PRState, p.Time)},
		{"author_association", "CONTRIBUTOR"},
		{"active_lock_reason", nil},
		{"draft", false},
	}
	if !p.OnIssue {
		issue = append(issue, field{"pull_request", object{
			{"url", fmt.Sprintf("%s/pulls/%d", api, p.PR)},
			{"html_url", fmt.Sprintf("%s/pull/%d", html, p.PR)},
			{"diff_url", fmt.Sprintf("%s/pull/%d.diff", html, p.PR)},
			{"patch_url", fmt.Sprintf("%s/pull/%d.patch", html, p.PR)},
			{"merged_at", nil},
		}})
	}
	issue = append(issue,
		field{"body", "This updates the recipe to the latest release."},
		field{"reactions", githubReactions(fmt.Sprintf("%s/issues/%d/reactions", api, p.PR))},
		field{"timeline_url", fmt.Sprintf("%s/issues/%d/timeline", api, p.PR)},
		field{"performed_via_github_app", nil},
		field{"state_reason", nil},
	)
	comment := object{
		{"url", fmt.Sprintf("%s/issues/comments/%d", api, p.CommentID)},
		{"html_url", fmt.Sprintf("%s/pull/%d#issuecomment-%d", html, p.PR, p.CommentID)},
		{"issue_url", fmt.Sprintf("%s/issues/%d", api, p.PR)},
		{"id", p.CommentID},
		{"node_id", "IC_kwDOA" + strconv.FormatInt(p.CommentID, 10)},
		{"user", githubUser(p.Author)},
		{"created_at", stamp(p.Time)},
		{"updated_at", stamp(p.Time)},
		{"author_association", "MEMBER"},
		{"body", p.Body},
		{"reactions", githubReactions(fmt.Sprintf("%s/issues/comments/%d/reactions", api, p.CommentID))},
		{"performed_via_github_app", nil},
	}
	payload := object{
		{"action", p.Action},
		{"issue", issue},
		{"comment", comment},
		{"repository", githubRepo(p.Repo, p.CloneURL, p.UserOwner)},
	}
	payload = append(payload, githubOrg(p.Repo, p.UserOwner)...)
	payload = append(payload, field{"sender", githubUser(p.Author)})
	return githubDelivery("issue_comment", p.ID, p.Repo, payload)
}

// GitHubSync is a pull_request delivery with action "synchronize": new commits on the PR head,
// with the before and after commits GitHub adds for that action.
func GitHubSync(p PushParams) Delivery {
	p = p.withDefaults("synchronize")
	payload := object{
		{"action", p.Action},
		{"number", p.PR},
		{"before", p.Before},
		{"after", p.HeadSHA},
		{"pull_request", githubPull(p)},
		{"repository", githubRepo(p.Repo, p.CloneURL, p.UserOwner)},
	}
	payload = append(payload, githubOrg(p.Repo, p.UserOwner)...)
	payload = append(payload, field{"sender", githubUser(p.Sender)})
	return githubDelivery("pull_request", p.ID, p.Repo, payload)
}

// GitHubPing is the ping GitHub sends when a hook is created: the zen line, the hook and, for a
// repository hook, the repository.
func GitHubPing(repo, deliveryID string) Delivery {
	deliveryID = or(deliveryID, GUID())
	repo = or(repo, "coop-cloud/sample")
	payload := object{
		{"zen", "Design for failure."},
		{"hook_id", 292430182},
		{"hook", object{
			{"type", "Repository"},
			{"id", 292430182},
			{"name", "web"},
			{"active", true},
			{"events", []string{"issue_comment", "pull_request"}},
			{"config", object{{"content_type", "json"}, {"insecure_ssl", "0"}, {"url", "https://ci.coopcloud.tech/hooks/github"}}},
		}},
		{"repository", githubRepo(repo, "", false)},
		{"sender", githubUser("maintainer")},
	}
	return githubDelivery("ping", deliveryID, repo, payload)
}

func githubDelivery(event, deliveryID, repo string, payload object) Delivery {
	body := githubJSON(payload)
	return Delivery{
		Forge:   GitHub,
		Event:   event,
		ID:      deliveryID,
		Headers: githubHeaders(event, deliveryID, id(repo)),
		Body:    body,
	}
}

func githubPull(p PushParams) object {
	api := "https://api.github.com/repos/" + p.Repo
	html := "https://github.com/" + p.Repo
	owner, name := split(p.Repo)
	repo := githubRepo(p.Repo, p.CloneURL, p.UserOwner)
	return object{
		{"url", fmt.Sprintf("%s/pulls/%d", api, p.PR)},
		{"id", id(fmt.Sprintf("%s#%d", p.Repo, p.PR))},
		{"node_id", "PR_kwDOA" + strconv.Itoa(p.PR)},
		{"html_url", fmt.Sprintf("%s/pull/%d", html, p.PR)},
		{"diff_url", fmt.Sprintf("%s/pull/%d.diff", html, p.PR)},
		{"patch_url", fmt.Sprintf("%s/pull/%d.patch", html, p.PR)},
		{"issue_url", fmt.Sprintf("%s/issues/%d", api, p.PR)},
		{"number", p.PR},
		{"state", p.PRState},
		{"locked", false},
		{"title", "Update the recipe"},
		{"user", githubUser(p.Sender)},
		{"body", "This updates the recipe to the latest release."},
		{"created_at", stamp(p.Time.Add(-time.Hour))},
		{"updated_at", stamp(p.Time)},
		{"closed_at", closedAt(p.PRState, p.Time)},
		{"merged_at", nil},
		{"merge_commit_sha", nil},
		{"assignee", nil},
		{"assignees", []any{}},
		{"requested_reviewers", []any{}},
		{"requested_teams", []any{}},
		{"labels", []any{}},
		{"milestone", nil},
		{"draft", false},
		{"commits_url", fmt.Sprintf("%s/pulls/%d/commits", api, p.PR)},
		{"review_comments_url", fmt.Sprintf("%s/pulls/%d/comments", api, p.PR)},
		{"review_comment_url", api + "/pulls/comments{/number}"},
		{"comments_url", fmt.Sprintf("%s/issues/%d/comments", api, p.PR)},
		{"statuses_url", api + "/statuses/" + p.HeadSHA},
		{"head", object{{"label", p.Sender + ":update"}, {"ref", "update"}, {"sha", p.HeadSHA}, {"user", githubUser(p.Sender)}, {"repo", repo}}},
		{"base", object{{"label", owner + ":main"}, {"ref", "main"}, {"sha", SHA(name + "#base")}, {"user", githubUser(owner)}, {"repo", repo}}},
		{"author_association", "CONTRIBUTOR"},
		{"auto_merge", nil},
		{"active_lock_reason", nil},
		{"merged", false},
		{"mergeable", nil},
		{"rebaseable", nil},
		{"mergeable_state", "unknown"},
		{"merged_by", nil},
		{"comments", 0},
		{"review_comments", 0},
		{"maintainer_can_modify", false},
		{"commits", 2},
		{"additions", 3},
		{"deletions", 1},
		{"changed_files", 1},
	}
}

func githubUser(login string) object {
	return githubAccount(login, "User")
}

// githubAccount is a user or organisation object; kind is its "type".
func githubAccount(login, kind string) object {
	u := "https://api.github.com/users/" + login
	return object{
		{"login", login},
		{"id", id(login)},
		{"node_id", "U_kgDOA" + strconv.FormatInt(id(login), 10)},
		{"avatar_url", fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", id(login))},
		{"gravatar_id", ""},
		{"url", u},
		{"html_url", "https://github.com/" + login},
		{"followers_url", u + "/followers"},
		{"following_url", u + "/following{/other_user}"},
		{"gists_url", u + "/gists{/gist_id}"},
		{"starred_url", u + "/starred{/owner}{/repo}"},
		{"subscriptions_url", u + "/subscriptions"},
		{"organizations_url", u + "/orgs"},
		{"repos_url", u + "/repos"},
		{"events_url", u + "/events{/privacy}"},
		{"received_events_url", u + "/received_events"},
		{"type", kind},
		{"site_admin", false},
	}
}

func githubRepo(repo, cloneURL string, userOwner bool) object {
	owner, name := split(repo)
	api := "https://api.github.com/repos/" + repo
	html := "https://github.com/" + repo
	ownerObj := githubAccount(owner, "Organization")
	if userOwner {
		ownerObj = githubUser(owner)
	}
	return object{
		{"id", id(repo)},
		{"node_id", "R_kgDOA" + strconv.FormatInt(id(repo), 10)},
		{"name", name},
		{"full_name", repo},
		{"private", false},
		{"owner", ownerObj},
		{"html_url", html},
		{"description", "A Co-op Cloud recipe"},
		{"fork", false},
		{"url", api},
		{"pulls_url", api + "/pulls{/number}"},
		{"issues_url", api + "/issues{/number}"},
		{"created_at", "2021-03-01T10:00:00Z"},
		{"updated_at", "2024-04-30T09:00:00Z"},
		{"pushed_at", "2024-05-01T11:00:00Z"},
		{"git_url", "git://github.com/" + repo + ".git"},
		{"ssh_url", "git@github.com:" + repo + ".git"},
		{"clone_url", or(cloneURL, html+".git")},
		{"svn_url", html},
		{"homepage", nil},
		{"size", 120},
		{"stargazers_count", 3},
		{"watchers_count", 3},
		{"language", "Shell"},
		{"has_issues", true},
		{"has_projects", false},
		{"has_downloads", true},
		{"has_wiki", false},
		{"has_pages", false},
		{"has_discussions", false},
		{"forks_count", 1},
		{"mirror_url", nil},
		{"archived", false},
		{"disabled", false},
		{"open_issues_count", 1},
		{"license", nil},
		{"allow_forking", true},
		{"is_template", false},
		{"web_commit_signoff_required", false},
		{"topics", []string{"coop-cloud", "recipe"}},
		{"visibility", "public"},
		{"forks", 1},
		{"open_issues", 1},
		{"watchers", 3},
		{"default_branch", "main"},
	}
}

// githubOrg is the organization field GitHub adds when the repo belongs to an organisation.
func githubOrg(repo string, userOwner bool) []field {
	if userOwner {
		return nil
	}
	owner, _ := split(repo)
	u := "https://api.github.com/orgs/" + owner
	return []field{{"organization", object{
		{"login", owner},
		{"id", id(owner)},
		{"node_id", "O_kgDOA" + strconv.FormatInt(id(owner), 10)},
		{"url", u},
		{"repos_url", u + "/repos"},
		{"events_url", u + "/events"},
		{"hooks_url", u + "/hooks"},
		{"issues_url", u + "/issues"},
		{"members_url", u + "/members{/member}"},
		{"public_members_url", u + "/public_members{/member}"},
		{"avatar_url", fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", id(owner))},
		{"description", ""},
	}}}
}

func githubReactions(url string) object {
	return object{
		{"url", url}, {"total_count", 0}, {"+1", 0}, {"-1", 0}, {"laugh", 0}, {"hooray", 0},
		{"confused", 0}, {"heart", 0}, {"rocket", 0}, {"eyes", 0},
	}
}

// closedAt is closed_at: null while the PR is open.
func closedAt(state string, t time.Time) any {
	if state == "open" {
		return nil
	}
	return stamp(t)
}
