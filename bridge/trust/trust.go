// Package trust decides who may start a run: a `!testme` runs the PR's code on cc-ci's servers,
// so only people the project already trusts with its code may ask for it. One pure function over
// an injected forge client, cheapest check first, failing closed on any error (STYLE 8, after
// prow's TrustedUser).
package trust

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"coopcloud.tech/cc-ci/bridge/forge"
)

// client is the part of forge.Forge the decision asks.
type client interface {
	IsOrgMember(ctx context.Context, org, user string) (bool, error)
	Permission(ctx context.Context, repo, user string) (forge.Permission, error)
}

// Input is one trust question: may User start runs on Repo?
type Input struct {
	Repo      string   // forge "owner/name"
	Owner     string   // the repo's owner (an org, or a user for a personal repo)
	User      string   // the commenter's login
	AllowList []string // logins trusted without asking the forge
}

// Result is the decision and, when trusted, why (for the log and the metrics).
type Result struct {
	Trusted bool
	Reason  string // "on the allow-list", "member of org coop-cloud", "write permission on coop-cloud/gitea"
}

// Errors Decide wraps besides the forge client's own.
var (
	// ErrBadInput is an Input the decision cannot be made on (an empty user, repo or owner).
	ErrBadInput = errors.New("bad trust input")
	// ErrUnknownPermission is a permission level outside forge's four: a bug or a misread forge
	// answer, never "more than write".
	ErrUnknownPermission = errors.New("unknown permission level")
)

// Decide answers in.User's trust, cheapest check first: the allow-list (no API call), then
// membership of the org owning the repo, then permission >= write on the repo. Any error means
// untrusted: the returned Result is then the zero Result (Trusted false) and the error says which
// step failed, so a forge outage can never let a stranger run code.
func Decide(ctx context.Context, c client, in Input) (Result, error) {
	if in.User == "" || in.Repo == "" || in.Owner == "" {
		return Result{}, fmt.Errorf("trust user %q on %q (owner %q): %w", in.User, in.Repo, in.Owner, ErrBadInput)
	}
	for _, allowed := range in.AllowList {
		if SameLogin(allowed, in.User) {
			return Result{Trusted: true, Reason: "on the allow-list"}, nil
		}
	}
	member, err := c.IsOrgMember(ctx, in.Owner, in.User)
	if err != nil {
		return Result{}, fmt.Errorf("trust %s: org membership in %s: %w", in.User, in.Owner, err)
	}
	if member {
		return Result{Trusted: true, Reason: "member of org " + in.Owner}, nil
	}
	perm, err := c.Permission(ctx, in.Repo, in.User)
	if err != nil {
		return Result{}, fmt.Errorf("trust %s: permission on %s: %w", in.User, in.Repo, err)
	}
	if perm < forge.PermNone || perm > forge.PermAdmin {
		return Result{}, fmt.Errorf("trust %s: permission on %s: level %d: %w", in.User, in.Repo, int(perm), ErrUnknownPermission)
	}
	if perm >= forge.PermWrite {
		return Result{Trusted: true, Reason: perm.String() + " permission on " + in.Repo}, nil
	}
	return Result{Reason: "not an org member, " + perm.String() + " permission on " + in.Repo + ", not on the allow-list"}, nil
}

// SameLogin reports whether a and b name the same account. Logins are case-insensitive on both
// forges: GitHub treats "Octocat" and "octocat" as one account (prow compares logins through
// NormLogin, strings.ToLower: https://github.com/kubernetes-sigs/prow/blob/main/pkg/github/types.go),
// and Gitea/Forgejo look users up by their lower-cased name, unique per instance
// (GetUserByName queries lower_name: https://github.com/go-gitea/gitea/blob/main/models/user/user.go).
// Folding is ASCII-only: logins on both forges are ASCII, and Unicode folding would let a login
// holding the Kelvin sign (U+212A) pass for one with a "k".
func SameLogin(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Refusal is the one reply an untrusted commenter gets: polite, saying who may start a run on
// repo, and echoing nothing the commenter wrote (their text is theirs to repeat, not the bot's).
func Refusal(repo, owner string) string {
	repo, owner = codeSafe(repo), codeSafe(owner)
	return "Thanks for asking for a test run! A run deploys this pull request's code on the cc-ci " +
		"servers, so it can only be started by:\n\n" +
		"- members of the `" + owner + "` organisation,\n" +
		"- people with write access to `" + repo + "`,\n" +
		"- people on cc-ci's allow-list.\n\n" +
		"A maintainer can start the run by commenting `!testme` on this pull request.\n"
}

// codeSafe keeps a name from breaking out of its Markdown code span. Forge names hold no
// backticks or newlines; this only guards against a payload that lies.
func codeSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '`' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
}
