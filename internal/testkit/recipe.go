package testkit

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// MakeRecipe creates the sample recipe's git repo in dir (created if missing, must not already be
// a repo): commit 1 tagged annotated Tag1, commit 2 tagged annotated Tag2, and commit 3, the
// untagged PR head, broken as variant v says. Dates and identities are fixed, so the same variant
// always yields the same SHAs; no git config of the user is read.
func MakeRecipe(dir string, v Variant) (Recipe, error) {
	if _, ok := ParseVariant(string(v)); !ok {
		return Recipe{}, fmt.Errorf("make recipe: unknown variant %q", v)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Recipe{}, fmt.Errorf("make recipe in %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(abs, ".git")); err == nil {
		return Recipe{}, fmt.Errorf("make recipe in %s: already a git repo", abs)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return Recipe{}, fmt.Errorf("make recipe in %s: %w", abs, err)
	}
	g := gitRepo{dir: abs}
	if _, err := g.run(0, "init", "-q", "-b", "main"); err != nil {
		return Recipe{}, err
	}
	var prev map[string]string
	tags := []string{Tag1, Tag2}
	for n := 1; n <= 3; n++ {
		tree := recipeTree(n, v)
		if err := writeTree(abs, prev, tree); err != nil {
			return Recipe{}, fmt.Errorf("make recipe commit %d: %w", n, err)
		}
		prev = tree
		if _, err := g.run(n, "add", "-A"); err != nil {
			return Recipe{}, err
		}
		if _, err := g.run(n, "commit", "-q", "-m", commitMessage(n, v)); err != nil {
			return Recipe{}, err
		}
		if n <= len(tags) {
			t := tags[n-1]
			if _, err := g.run(n, "tag", "-a", t, "-m", "Release "+t); err != nil {
				return Recipe{}, err
			}
		}
	}
	head, err := g.run(3, "rev-parse", "HEAD")
	if err != nil {
		return Recipe{}, err
	}
	return Recipe{Name: RecipeName, Src: abs, Head: head, Tags: tags}, nil
}

func commitMessage(n int, v Variant) string {
	switch n {
	case 1:
		return "Initial sample recipe (ccci-sample 1.0.0)"
	case 2:
		return "Upgrade to ccci-sample 2.0.0"
	}
	return fmt.Sprintf("PR head: ccci-sample 2.1.0 (variant %s)", v)
}

// writeTree makes dir hold exactly tree's files, removing those of prev that tree lacks.
func writeTree(dir string, prev, tree map[string]string) error {
	for p := range prev {
		if _, keep := tree[p]; !keep {
			if err := os.Remove(filepath.Join(dir, p)); err != nil {
				return fmt.Errorf("remove %s: %w", p, err)
			}
		}
	}
	paths := make([]string, 0, len(tree))
	for p := range tree {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("mkdir for %s: %w", p, err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(full, []byte(tree[p]), mode); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}

// gitRepo runs git in one repo with a fixed identity and no user or system config.
type gitRepo struct{ dir string }

// run runs git with commit n's fixed date (n=0: the first date) and returns trimmed stdout.
func (g gitRepo) run(n int, args ...string) (string, error) {
	date := fmt.Sprintf("2024-0%d-01T12:00:00Z", max(n, 1))
	cmd := exec.Command("git", args...)
	cmd.Dir = g.dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=cc-ci testkit", "GIT_AUTHOR_EMAIL=testkit@cc-ci.invalid",
		"GIT_COMMITTER_NAME=cc-ci testkit", "GIT_COMMITTER_EMAIL=testkit@cc-ci.invalid",
		"GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), g.dir, err,
			strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}
