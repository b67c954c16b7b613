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

// commit is one commit of a generated recipe repo.
type commit struct {
	branch  string            // branch it is committed on; a new branch starts at the current HEAD
	tree    map[string]string // every file, path -> content
	message string
	tag     string // annotated release tag on it, "" for none
}

// MakeRecipe creates the sample recipe's git repo in dir (created if missing, must not already be
// a repo): commit 1 tagged annotated Tag1, commit 2 tagged annotated Tag2, and commit 3, the
// untagged PR head, as variant v says (a few variants change the releases or the history too:
// NoRelease, FixedHeadBrokenBase, SideBranchRelease). Dates and identities are fixed, so the same
// variant always yields the same SHAs; no git config of the user is read.
func MakeRecipe(dir string, v Variant) (Recipe, error) {
	if _, ok := ParseVariant(string(v)); !ok {
		return Recipe{}, fmt.Errorf("make recipe: unknown variant %q", v)
	}
	return makeRepo(dir, RecipeName, samplePlan(v))
}

// makeRepo commits plan in order into a new repo at dir; the last commit is the PR head and must
// be on main, the default branch.
func makeRepo(dir, name string, plan []commit) (Recipe, error) {
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
	tips := map[string]map[string]string{} // branch -> tree at its tip
	current := "main"
	var tags []string
	for i, c := range plan {
		n := i + 1
		if c.branch != current {
			args := []string{"checkout", "-q", c.branch}
			if _, exists := tips[c.branch]; !exists {
				args = []string{"checkout", "-q", "-b", c.branch}
				tips[c.branch] = tips[current]
			}
			if _, err := g.run(n, args...); err != nil {
				return Recipe{}, err
			}
			current = c.branch
		}
		if err := writeTree(abs, tips[current], c.tree); err != nil {
			return Recipe{}, fmt.Errorf("make recipe commit %d: %w", n, err)
		}
		tips[current] = c.tree
		if _, err := g.run(n, "add", "-A"); err != nil {
			return Recipe{}, err
		}
		if _, err := g.run(n, "commit", "-q", "-m", c.message); err != nil {
			return Recipe{}, err
		}
		if c.tag != "" {
			if _, err := g.run(n, "tag", "-a", c.tag, "-m", "Release "+c.tag); err != nil {
				return Recipe{}, err
			}
			tags = append(tags, c.tag)
		}
	}
	if current != "main" {
		return Recipe{}, fmt.Errorf("make recipe %s: the PR head must be on main, not %s", name, current)
	}
	head, err := g.run(len(plan), "rev-parse", "HEAD")
	if err != nil {
		return Recipe{}, err
	}
	return Recipe{Name: name, Src: abs, Head: head, Tags: tags}, nil
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
	date := fmt.Sprintf("2024-%02d-01T12:00:00Z", max(n, 1))
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
