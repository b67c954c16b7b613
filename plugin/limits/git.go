package limits

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"coopcloud.tech/cc-ci/internal/atomicfile"
)

// ignoreAll is OverrideDir's .gitignore: "*" ignores every file beside it, itself included, so
// the directory never shows in a status. It is the plain .gitignore mechanism, which git and
// every go-git version honour. abra's dirty check is go-git's Worktree.Status (abra pkg/git
// IsClean, from abra's source); .git/info/exclude would not do: go-git reads it through the work
// tree's filesystem, which from v5.19.1 on refuses any path through .git ("invalid path
// component"), so such an abra would call an excluded file untracked (measured here: v5.12.0 to
// v5.19.0 honour info/exclude, v5.19.1 to v5.19.3 do not; the self-ignoring directory is clean
// in all of them and in git 2.39).
const ignoreAll = "# Written by cc-ci: everything here belongs to the CI run, not to the recipe.\n*\n"

// selfIgnore makes OverrideDir in dir, ignoring itself. A symlink there (a plain directory could
// hold one) is refused: the override must be written inside the recipe.
func selfIgnore(dir string) error {
	path := filepath.Join(dir, OverrideDir)
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.Mkdir(path, 0o755); err != nil {
			return fmt.Errorf("override dir: %w", err)
		}
	case err != nil:
		return fmt.Errorf("override dir: %w", err)
	case !st.IsDir():
		return fmt.Errorf("%s in the recipe is not a directory: cc-ci writes its resource limits there", OverrideDir)
	}
	return atomicfile.Write(filepath.Join(path, ".gitignore"), []byte(ignoreAll), 0o644)
}

// gitCmd builds `git -C dir <args>`; it never prompts.
func gitCmd(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	return cmd
}

// topLevelCmd prints the top of the work tree dir is in.
func topLevelCmd(ctx context.Context, dir string) *exec.Cmd {
	return gitCmd(ctx, dir, "rev-parse", "--show-toplevel")
}

// trackedCmd lists the files the checkout tracks in OverrideDir.
func trackedCmd(ctx context.Context, dir string) *exec.Cmd {
	return gitCmd(ctx, dir, "ls-files", "--", ":(literal)"+OverrideDir)
}

func output(cmd *exec.Cmd) (string, error) {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// guardCheckout refuses a git checkout at dir that tracks files in OverrideDir: the recipe would
// own the CI's limits (a checkout of another version could replace them), and writing ours would
// dirty the tree. A dir that is not the top of a checkout (a plain directory, or one inside
// another repository) has nothing tracked there.
func guardCheckout(ctx context.Context, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, ".git")); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	top, err := output(topLevelCmd(ctx, dir))
	if err != nil {
		return err
	}
	same, err := samePath(top, dir)
	if err != nil || !same {
		return err
	}
	tracked, err := output(trackedCmd(ctx, dir))
	if err != nil {
		return err
	}
	if tracked != "" {
		return fmt.Errorf("the recipe has files in %s/ (%s), the directory cc-ci writes its resource limits to: move them",
			OverrideDir, strings.ReplaceAll(tracked, "\n", ", "))
	}
	return nil
}

func samePath(a, b string) (bool, error) {
	ra, err := filepath.EvalSymlinks(a)
	if err != nil {
		return false, fmt.Errorf("recipe checkout: %w", err)
	}
	rb, err := filepath.EvalSymlinks(b)
	if err != nil {
		return false, fmt.Errorf("recipe checkout: %w", err)
	}
	return ra == rb, nil
}
