// Package recipe fetches a recipe at a pinned commit into a run's private recipes/ directory and
// finds its published releases, the upgrade base of the ladder (DESIGN.md 4.2 and 4.4).
//
// Every git command line is built by a pure function returning *exec.Cmd, so the exact argv is
// table-tested; runGit is the only place that runs one.
package recipe

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// gitCmd builds `git -c advice.detachedHead=false <args>` run in dir. It never prompts: a CI run
// has nobody to type a password, so a private or missing repo must fail at once.
func gitCmd(ctx context.Context, dir string, args ...string) *exec.Cmd {
	argv := append([]string{"-c", "advice.detachedHead=false"}, args...)
	cmd := exec.CommandContext(ctx, "git", argv...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	return cmd
}

// cloneCmd clones src into dest without a work tree; clone brings every tag with it, which the
// release discovery needs. "--" keeps a src starting with "-" from being read as an option.
func cloneCmd(ctx context.Context, src, dest string) *exec.Cmd {
	return gitCmd(ctx, "", "clone", "--no-checkout", "--quiet", "--", src, dest)
}

// fetchRefCmd fetches one ref (branch, tag or full commit SHA, e.g. a PR head from a fork) from
// origin into FETCH_HEAD.
func fetchRefCmd(ctx context.Context, dir, ref string) *exec.Cmd {
	return gitCmd(ctx, dir, "fetch", "--quiet", "origin", ref)
}

// fetchTagsCmd refreshes branches and tags of an existing clone.
func fetchTagsCmd(ctx context.Context, dir string) *exec.Cmd {
	return gitCmd(ctx, dir, "fetch", "--quiet", "--tags", "origin")
}

// originURLCmd prints the clone's origin URL.
func originURLCmd(ctx context.Context, dir string) *exec.Cmd {
	return gitCmd(ctx, dir, "remote", "get-url", "origin")
}

// resolveCmd prints the full SHA of the commit ref names (peeling annotated tags).
func resolveCmd(ctx context.Context, dir, ref string) *exec.Cmd {
	return gitCmd(ctx, dir, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
}

// checkoutCmd checks out commit detached, discarding local changes to tracked files so the tree
// is exactly the commit under test.
func checkoutCmd(ctx context.Context, dir, commit string) *exec.Cmd {
	return gitCmd(ctx, dir, "checkout", "--force", "--detach", "--quiet", commit)
}

// tagsFormat lists, per tag: its object type, the type and name of the object an annotated tag
// points to (empty for lightweight tags), and its short name.
const tagsFormat = "%(objecttype)\t%(*objecttype)\t%(*objectname)\t%(refname:strip=2)"

// listTagsCmd lists all tags, or only those reachable from mergedInto when it is not empty.
func listTagsCmd(ctx context.Context, dir, mergedInto string) *exec.Cmd {
	args := []string{"for-each-ref", "--format=" + tagsFormat}
	if mergedInto != "" {
		args = append(args, "--merged="+mergedInto)
	}
	return gitCmd(ctx, dir, append(args, "refs/tags")...)
}

// runGit runs cmd and returns its trimmed stdout; a failure carries git's own stderr, which names
// the real cause (no such repo, no such ref, permission denied).
func runGit(cmd *exec.Cmd) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", fmt.Errorf("%w: %s", err, msg)
		}
		return "", err
	}
	return strings.TrimSpace(stdout.String()), nil
}
