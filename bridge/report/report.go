// Package report renders what the bridge says on a pull request: the one sticky comment (queued,
// running, new commits, the verdict summary), replies, and the commit status. Everything here is
// a pure function of its inputs except Baseline, which reads the runs dir; every value that came
// from a build or a PR is escaped, so a hostile recipe cannot inject markup into the comment.
package report

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"coopcloud.tech/cc-ci/bridge/forge"
	"coopcloud.tech/cc-ci/internal/results"
)

// Marker is the hidden HTML comment that starts the sticky comment: the bridge finds its own
// sticky comment on a PR by it and edits it in place instead of adding a new one.
const Marker = "<!-- cc-ci:sticky -->"

// ReplyMarker starts the bridge's one-off replies (AlreadyRunning). It is not Marker: a reply
// must never be mistaken for the sticky comment and edited into a verdict.
const ReplyMarker = "<!-- cc-ci:reply -->"

// IsSticky reports whether body is a sticky comment. Anyone can paste the marker into a comment,
// so callers must also check that the bridge's own login wrote it.
func IsSticky(body string) bool {
	return strings.HasPrefix(strings.TrimLeft(body, " \t\r\n"), Marker)
}

// Modes of a run (CCCI_MODE).
const (
	ModeCold  = "cold"
	ModeQuick = "quick"
)

// Run is one requested run, as the bridge started (or will start) it.
type Run struct {
	Forge     string // event.GitHub or event.Gitea
	Repo      string // forge "owner/name"
	PR        int
	SHA       string // the pinned PR head (40 hex)
	Mode      string // ModeCold or ModeQuick
	Recipe    string
	Requester string // who commented !testme
	Build     int    // Drone build number, 0 before the build exists
	BuildURL  string // Drone's page of the build (the live log)
	Src       string // clone URL of the recipe repo
}

// Links are where the verdict points besides the build.
type Links struct {
	Dashboard string // base URL of the dashboard; empty: no link
	Results   string // URL of this run's results.json; empty: no link
}

// quickLabel is said wherever a quick run's outcome is shown: it reused the warm app, so its
// level is not a verdict on the recipe.
const quickLabel = "quick run: reused the warm app; not a full verdict"

// retryHint ends every CI error: the recipe is not at fault, so the fix is to run again.
const retryHint = "the CI box failed, not the recipe; comment `!testme` to retry"

// statusMax is the forges' cap on a commit status description.
const statusMax = 140

// Queued is the sticky comment while Drone cannot be reached: the request is kept and retried.
func Queued(run Run) string {
	var b strings.Builder
	b.WriteString(Marker + "\n### ⏳ cc-ci: queued\n\n")
	fmt.Fprintf(&b, "Testing %s is queued: the CI server cannot start a build right now. ", subject(run))
	b.WriteString("The request is kept and retried until the build starts; there is no need to comment again.\n")
	return b.String()
}

// Started is the sticky comment while the build runs, with the live log's link.
func Started(run Run) string {
	var b strings.Builder
	b.WriteString(Marker + "\n### 🔄 cc-ci: running\n\n")
	fmt.Fprintf(&b, "Testing %s: %s is running. This comment will show the verdict when it ends.\n", subject(run), buildLink(run))
	if run.Mode == ModeQuick {
		b.WriteString("\n_" + quickLabel + "._\n")
	}
	return b.String()
}

// AlreadyRunning is the reply to a `!testme` for the SHA a build is already testing: no second
// build, a link to the running one.
func AlreadyRunning(run Run) string {
	return fmt.Sprintf("%s\n%s is already testing %s: no new build was started. Follow it there; the sticky comment shows the verdict.\n",
		ReplyMarker, capitalize(buildLink(run)), code(shortSHA(run.SHA)))
}

// HeadMoved is the reply to a `!testme` said before the PR's last push: the head now holds code
// the commenter had not seen, so nothing is started; a new `!testme` tests it.
func HeadMoved(run Run) string {
	return fmt.Sprintf("%s\nNew commits were pushed after this `!testme`, so nothing was started: the head is now %s, which the request did not look at. Comment `!testme` again to test it.\n",
		ReplyMarker, code(shortSHA(run.SHA)))
}

// NewCommits is the sticky comment after a push to the PR head: a push never starts a run (the
// new code was not looked at by whoever said `!testme`), and prev, the run in flight on the older
// head, was cancelled.
func NewCommits(prev Run, newSHA string) string {
	var b strings.Builder
	b.WriteString(Marker + "\n### ⏹ cc-ci: new commits\n\n")
	fmt.Fprintf(&b, "new commits: comment `!testme` to test %s\n\n", code(shortSHA(newSHA)))
	if prev.Build > 0 {
		fmt.Fprintf(&b, "%s of %s was cancelled: it was testing a head this PR no longer has. ", capitalize(buildLink(prev)), code(shortSHA(prev.SHA)))
	}
	b.WriteString("A push alone never starts a run: the new code is tested when someone who may trigger runs asks for it.\n")
	return b.String()
}

// BuildError reports a build that ended without results (killed, timed out, errored): an error
// status with the reason, never a red recipe.
func BuildError(run Run, droneStatus, reason string) (string, forge.Status) {
	var b strings.Builder
	b.WriteString(Marker + "\n### ⚠️ cc-ci: CI error\n\n")
	fmt.Fprintf(&b, "%s of %s ended **%s** before the run wrote its results", capitalize(buildLink(run)), subject(run), text(droneStatus))
	if reason != "" {
		fmt.Fprintf(&b, ": %s", text(reason))
	}
	b.WriteString(".\n\n" + capitalize(retryHint) + ".\n")
	b.WriteString(footer(run, Links{}, ""))
	desc := "CI error: build " + droneStatus
	if reason != "" {
		desc += ": " + reason
	}
	return b.String(), status(run, forge.StateError, desc)
}

// subject names what is tested: recipe, commit, mode and who asked.
func subject(run Run) string {
	s := fmt.Sprintf("recipe **%s** at %s (%s run", text(run.Recipe), code(shortSHA(run.SHA)), text(orDefault(run.Mode, ModeCold)))
	if run.Requester != "" {
		s += ", requested by " + text(run.Requester)
	}
	return s + ")"
}

// buildLink is "build #N" linked to its live log.
func buildLink(run Run) string {
	label := "the build"
	if run.Build > 0 {
		label = "build #" + strconv.Itoa(run.Build)
	}
	return link(label, run.BuildURL)
}

// footer is the links line and the command that reruns the same run by hand. runID names the
// run's dashboard page; without it the dashboard link goes to the recipe's history.
func footer(run Run, links Links, runID string) string {
	parts := []string{link("live log", run.BuildURL)}
	if links.Results != "" {
		parts = append(parts, link("results.json", links.Results))
	}
	if links.Dashboard != "" {
		page := []string{"recipe", run.Recipe + ".html"}
		if runID != "" {
			page = []string{"run", runID + ".html"}
		}
		if u, err := url.JoinPath(links.Dashboard, page...); err == nil {
			parts = append(parts, link("dashboard", u))
		}
	}
	return "\n" + strings.Join(parts, " · ") + "\n\nRerun by hand:\n\n" + fenced("sh", rerun(run))
}

// rerun is the one-line cc-ci-plugin command that repeats run by hand (results.Rerun, shared
// with the dashboard's run page).
func rerun(run Run) string {
	pr := ""
	if run.PR > 0 {
		pr = strconv.Itoa(run.PR)
	}
	return results.Rerun{Recipe: run.Recipe, Src: run.Src, Ref: run.SHA, PR: pr, Repo: run.Repo, Mode: run.Mode,
		Forge: run.Forge}.Command()
}

// status is the commit status for run; the description is one plain line within the forges' cap.
func status(run Run, state forge.State, description string) forge.Status {
	return forge.Status{State: state, TargetURL: run.BuildURL, Description: plain(description, statusMax), Context: forge.StatusContext}
}

// shortSHA is the first 12 characters of a commit, as summary.md shows it.
func shortSHA(sha string) string {
	if r := []rune(sha); len(r) > 12 {
		return string(r[:12])
	}
	return sha
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// capitalize upper-cases the first letter, or the first letter of a Markdown link's label.
func capitalize(s string) string {
	i := 0
	if strings.HasPrefix(s, "[") {
		i = 1
	}
	if i < len(s) && s[i] >= 'a' && s[i] <= 'z' {
		return s[:i] + strings.ToUpper(s[i:i+1]) + s[i+1:]
	}
	return s
}
