package forgehook

import (
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// giteaHeaders are the headers addDefaultHeaders sets in Gitea's and Forgejo's
// services/webhook/deliver.go: the event (e.g. issue_comment), the event type (the finer
// HookEventType, e.g. pull_request_comment) and the delivery UUID, each under X-Gitea-*, X-Gogs-*
// and the GitHub-compatible X-GitHub-* names; Forgejo adds X-Forgejo-*. Signatures come from Sign.
func giteaHeaders(event, eventType, delivery string, forgejo bool) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	prefixes := []string{"X-Gitea-", "X-Gogs-", "X-GitHub-"}
	if forgejo {
		prefixes = append([]string{"X-Forgejo-"}, prefixes...)
	}
	for _, p := range prefixes {
		h.Set(p+"Delivery", delivery)
		h.Set(p+"Event", event)
		h.Set(p+"Event-Type", eventType)
	}
	return h
}

// GiteaComment is an issue_comment delivery from Gitea (or Forgejo): on a PR its event type is
// pull_request_comment, is_pull is true and the issue carries pull_request metadata
// (HookEventType.Event in modules/webhook/type.go maps both comment types to issue_comment).
func GiteaComment(p CommentParams) Delivery {
	p = p.withDefaults()
	web := p.BaseURL + "/" + p.Repo
	kind, eventType, isPull := "pulls", "pull_request_comment", true
	var pullMeta any = object{
		{"merged", false},
		{"merged_at", nil},
		{"draft", false},
		{"html_url", fmt.Sprintf("%s/pulls/%d", web, p.PR)},
	}
	if p.OnIssue {
		kind, eventType, isPull, pullMeta = "issues", "issue_comment", false, nil
	}
	page := fmt.Sprintf("%s/%s/%d", web, kind, p.PR)
	owner, name := split(p.Repo)
	issue := object{
		{"id", id(fmt.Sprintf("%s#%d", p.Repo, p.PR))},
		{"url", fmt.Sprintf("%s/api/v1/repos/%s/issues/%d", p.BaseURL, p.Repo, p.PR)},
		{"html_url", page},
		{"number", p.PR},
		{"user", giteaUser(p.BaseURL, "contributor")},
		{"original_author", ""},
		{"original_author_id", 0},
		{"title", "Update the recipe"},
		{"body", "This updates the recipe to the latest release."},
		{"ref", ""},
		{"assets", []any{}},
		{"labels", []any{}},
		{"milestone", nil},
		{"assignee", nil},
		{"assignees", nil},
		{"state", p.PRState},
		{"is_locked", false},
		{"comments", 1},
		{"created_at", stamp(p.Time.Add(-time.Hour))},
		{"updated_at", stamp(p.Time)},
		{"closed_at", closedAt(p.PRState, p.Time)},
		{"due_date", nil},
		{"time_estimate", 0},
		{"pull_request", pullMeta},
		{"repository", object{{"id", id(p.Repo)}, {"name", name}, {"owner", owner}, {"full_name", p.Repo}}},
		{"pin_order", 0},
	}
	prURL, issueURL := page, ""
	if p.OnIssue {
		prURL, issueURL = "", page
	}
	comment := object{
		{"id", p.CommentID},
		{"html_url", fmt.Sprintf("%s#issuecomment-%d", page, p.CommentID)},
		{"pull_request_url", prURL},
		{"issue_url", issueURL},
		{"user", giteaUser(p.BaseURL, p.Author)},
		{"original_author", ""},
		{"original_author_id", 0},
		{"body", p.Body},
		{"assets", []any{}},
		{"created_at", stamp(p.Time)},
		{"updated_at", stamp(p.Time)},
	}
	payload := object{
		{"action", p.Action},
		{"issue", issue},
		{"comment", comment},
		{"repository", giteaRepo(p.BaseURL, p.Repo, p.CloneURL)},
		{"sender", giteaUser(p.BaseURL, p.Author)},
		{"is_pull", isPull},
	}
	return giteaDelivery("issue_comment", eventType, p.ID, p.Forgejo, payload)
}

// GiteaSync is a pull_request delivery with action "synchronized" and event type
// pull_request_sync: new commits on the PR head (HookIssueSynchronized in structs/hook.go).
func GiteaSync(p PushParams) Delivery {
	p = p.withDefaults("synchronized")
	payload := object{
		{"action", p.Action},
		{"number", p.PR},
		{"pull_request", giteaPull(p)},
		{"requested_reviewer", nil},
		{"repository", giteaRepo(p.BaseURL, p.Repo, p.CloneURL)},
		{"sender", giteaUser(p.BaseURL, p.Sender)},
		{"commit_id", ""},
		{"review", nil},
	}
	return giteaDelivery("pull_request", "pull_request_sync", p.ID, p.Forgejo, payload)
}

func giteaDelivery(event, eventType, deliveryID string, forgejo bool, payload object) Delivery {
	return Delivery{
		Forge:   Gitea,
		Forgejo: forgejo,
		Event:   event,
		ID:      deliveryID,
		Headers: giteaHeaders(event, eventType, deliveryID, forgejo),
		Body:    giteaJSON(payload),
	}
}

func giteaPull(p PushParams) object {
	web := p.BaseURL + "/" + p.Repo
	repo := giteaRepo(p.BaseURL, p.Repo, p.CloneURL)
	return object{
		{"id", id(fmt.Sprintf("%s#%d", p.Repo, p.PR))},
		{"url", fmt.Sprintf("%s/pulls/%d", web, p.PR)},
		{"number", p.PR},
		{"user", giteaUser(p.BaseURL, p.Sender)},
		{"title", "Update the recipe"},
		{"body", "This updates the recipe to the latest release."},
		{"labels", []any{}},
		{"milestone", nil},
		{"assignee", nil},
		{"assignees", nil},
		{"requested_reviewers", nil},
		{"requested_reviewers_teams", nil},
		{"state", p.PRState},
		{"draft", false},
		{"is_locked", false},
		{"comments", 0},
		{"review_comments", 0},
		{"additions", 3},
		{"deletions", 1},
		{"changed_files", 1},
		{"html_url", fmt.Sprintf("%s/pulls/%d", web, p.PR)},
		{"diff_url", fmt.Sprintf("%s/pulls/%d.diff", web, p.PR)},
		{"patch_url", fmt.Sprintf("%s/pulls/%d.patch", web, p.PR)},
		{"mergeable", true},
		{"merged", false},
		{"merged_at", nil},
		{"merge_commit_sha", nil},
		{"merged_by", nil},
		{"allow_maintainer_edit", false},
		{"base", object{{"label", "main"}, {"ref", "main"}, {"sha", SHA(p.Repo + "#base")}, {"repo_id", id(p.Repo)}, {"repo", repo}}},
		{"head", object{{"label", "update"}, {"ref", "update"}, {"sha", p.HeadSHA}, {"repo_id", id(p.Repo)}, {"repo", repo}}},
		{"merge_base", SHA(p.Repo + "#base")},
		{"due_date", nil},
		{"created_at", stamp(p.Time.Add(-time.Hour))},
		{"updated_at", stamp(p.Time)},
		{"closed_at", closedAt(p.PRState, p.Time)},
		{"pin_order", 0},
	}
}

// giteaUser is Gitea's API user, with the "username" field User.MarshalJSON adds for
// compatibility (modules/structs/user.go).
func giteaUser(base, login string) object {
	return object{
		{"id", id(login)},
		{"login", login},
		{"login_name", ""},
		{"source_id", 0},
		{"full_name", ""},
		{"email", login + "@noreply.git.coopcloud.tech"},
		{"avatar_url", fmt.Sprintf("%s/avatars/%x", base, id(login))},
		{"html_url", base + "/" + login},
		{"language", ""},
		{"is_admin", false},
		{"last_login", "0001-01-01T00:00:00Z"},
		{"created", "2021-03-01T10:00:00Z"},
		{"restricted", false},
		{"active", false},
		{"prohibit_login", false},
		{"location", ""},
		{"website", ""},
		{"description", ""},
		{"visibility", "public"},
		{"followers_count", 0},
		{"following_count", 0},
		{"starred_repos_count", 0},
		{"username", login},
	}
}

// giteaRepo is Gitea's API repository. Its owner is a user object whether the owner is a user or
// an organisation: Gitea's API user has no type field.
func giteaRepo(base, repo, cloneURL string) object {
	owner, name := split(repo)
	web := base + "/" + repo
	host := base
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	return object{
		{"id", id(repo)},
		{"owner", giteaUser(base, owner)},
		{"name", name},
		{"full_name", repo},
		{"description", "A Co-op Cloud recipe"},
		{"empty", false},
		{"private", false},
		{"fork", false},
		{"template", false},
		{"parent", nil},
		{"mirror", false},
		{"size", 120},
		{"language", "Shell"},
		{"languages_url", base + "/api/v1/repos/" + repo + "/languages"},
		{"html_url", web},
		{"url", base + "/api/v1/repos/" + repo},
		{"link", ""},
		{"ssh_url", "git@" + host + ":" + repo + ".git"},
		{"clone_url", or(cloneURL, web+".git")},
		{"original_url", ""},
		{"website", ""},
		{"stars_count", 3},
		{"forks_count", 1},
		{"watchers_count", 3},
		{"open_issues_count", 0},
		{"open_pr_counter", 1},
		{"release_counter", 4},
		{"default_branch", "main"},
		{"archived", false},
		{"created_at", "2021-03-01T10:00:00Z"},
		{"updated_at", "2024-04-30T09:00:00Z"},
		{"archived_at", "1970-01-01T00:00:00Z"},
		{"permissions", object{{"admin", false}, {"push", false}, {"pull", true}}},
		{"has_issues", true},
		{"internal_tracker", object{{"enable_time_tracker", true}, {"allow_only_contributors_to_track_time", true}, {"enable_issue_dependencies", true}}},
		{"has_wiki", false},
		{"has_pull_requests", true},
		{"has_projects", false},
		{"has_releases", true},
		{"has_packages", false},
		{"has_actions", false},
		{"ignore_whitespace_conflicts", false},
		{"allow_merge_commits", true},
		{"allow_rebase", true},
		{"allow_rebase_explicit", true},
		{"allow_squash_merge", true},
		{"allow_fast_forward_only_merge", false},
		{"allow_rebase_update", true},
		{"default_delete_branch_after_merge", false},
		{"default_merge_style", "merge"},
		{"default_allow_maintainer_edit", false},
		{"avatar_url", ""},
		{"internal", false},
		{"mirror_interval", ""},
		{"object_format_name", "sha1"},
		{"mirror_updated", "0001-01-01T00:00:00Z"},
		{"repo_transfer", nil},
		{"topics", []string{"coop-cloud", "recipe"}},
		{"licenses", []string{}},
	}
}
