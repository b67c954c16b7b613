package recipe

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"coopcloud.tech/cc-ci/internal/rundir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConcurrentFetchSameRecipeDifferentCommits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := newGitRepo(t)
	a := src.commit("A", map[string]string{"compose.yml": "version: A\n", "VERSION": "A\n"})
	src.release("0.1.0+1.0.0", a)
	// B is a PR head from a fork: no branch of src holds it, only a pull ref the clone never gets.
	b := src.commit("B", map[string]string{"VERSION": "B\n", "only-in-b": "b\n"})
	src.git("update-ref", "refs/pull/1/head", b)
	src.git("reset", "--quiet", "--hard", a)

	canonical := filepath.Join(t.TempDir(), "abra")
	staged := filepath.Join(canonical, "recipes", "gitea")
	gitIn(t, "", "clone", "--quiet", src.dir, staged)
	gitIn(t, staged, "-c", "advice.detachedHead=false", "checkout", "--quiet", a)
	snapshot := func() [3]string {
		return [3]string{
			gitIn(t, staged, "rev-parse", "HEAD"),
			gitIn(t, staged, "status", "--porcelain", "--untracked-files=all"),
			gitIn(t, staged, "for-each-ref"),
		}
	}
	before := snapshot()
	require.Equal(t, "", before[1], "canonical staged clone starts clean")

	runs := t.TempDir()
	want := map[string]string{"drone-1": a, "drone-2": b}
	dirs := map[string]*rundir.Dir{}
	for id := range want {
		d, err := rundir.Create(runs, canonical, id)
		require.NoError(t, err)
		dirs[id] = d
	}

	type result struct {
		sha string
		err error
	}
	results := map[string]*result{"drone-1": {}, "drone-2": {}}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for id, ref := range want {
		wg.Go(func() {
			<-start // release both at once so the clones really overlap
			results[id].sha, results[id].err = Fetch(ctx, src.dir, dirs[id].RecipeDir("gitea"), ref)
		})
	}
	close(start)
	wg.Wait()

	for id, ref := range want {
		require.NoError(t, results[id].err, id)
		assert.Equal(t, ref, results[id].sha, "%s reports the commit it checked out", id)
		tree := dirs[id].RecipeDir("gitea")
		head, err := Head(ctx, tree)
		require.NoError(t, err)
		assert.Equal(t, ref, head, "%s HEAD is its own commit", id)
		assert.Equal(t, "", gitIn(t, tree, "status", "--porcelain", "--untracked-files=all"), "%s tree matches its commit", id)
	}
	assertFile(t, filepath.Join(dirs["drone-1"].RecipeDir("gitea"), "VERSION"), "A\n")
	assert.NoFileExists(t, filepath.Join(dirs["drone-1"].RecipeDir("gitea"), "only-in-b"))
	assertFile(t, filepath.Join(dirs["drone-2"].RecipeDir("gitea"), "VERSION"), "B\n")
	assertFile(t, filepath.Join(dirs["drone-2"].RecipeDir("gitea"), "only-in-b"), "b\n")
	assertFile(t, filepath.Join(dirs["drone-2"].RecipeDir("gitea"), "compose.yml"), "version: A\n")

	assert.Equal(t, before, snapshot(), "canonical staged clone: HEAD, status and refs untouched")
	assertFile(t, filepath.Join(staged, "VERSION"), "A\n")
}

func assertFile(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if assert.NoError(t, err) {
		assert.Equal(t, want, string(got), path)
	}
}

func TestFetchRefKinds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := newGitRepo(t)
	first := src.commit("first", map[string]string{"f": "1\n"})
	src.release("0.1.0+1.0.0", first)
	src.git("checkout", "--quiet", "-b", "feature")
	feature := src.commit("feature", map[string]string{"f": "feature\n"})
	src.git("checkout", "--quiet", "main")
	main := src.commit("second", map[string]string{"f": "2\n"})

	tests := []struct {
		name string
		ref  string
		want string
	}{
		{name: "a full SHA on the default branch", ref: first, want: first},
		{name: "a branch the clone only has as origin/feature", ref: "feature", want: feature},
		{name: "the default branch by name", ref: "main", want: main},
		{name: "an annotated release tag peels to its commit", ref: "0.1.0+1.0.0", want: first},
		{name: "an abbreviated SHA the clone already has", ref: feature[:12], want: feature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sha, err := Fetch(ctx, src.dir, filepath.Join(t.TempDir(), "r"), tt.ref)
			require.NoError(t, err)
			assert.Equal(t, tt.want, sha)
		})
	}
}

func TestFetchAgainIntoTheSameDirKeepsWorking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := newGitRepo(t)
	a := src.commit("A", map[string]string{"f": "A\n"})
	dest := filepath.Join(t.TempDir(), "r")
	_, err := Fetch(ctx, src.dir, dest, a)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dest, "f"), []byte("local edit\n"), 0o644))

	b := src.commit("B", map[string]string{"f": "B\n"})
	sha, err := Fetch(ctx, src.dir, dest, b)
	require.NoError(t, err, "a re-run finds the earlier clone and fetches the new commit")
	assert.Equal(t, b, sha)
	assertFile(t, filepath.Join(dest, "f"), "B\n")

	sha, err = Checkout(ctx, dest, a)
	require.NoError(t, err)
	assert.Equal(t, a, sha)
	assertFile(t, filepath.Join(dest, "f"), "A\n")

	other := newGitRepo(t)
	other.commit("other", map[string]string{"g": "x\n"})
	_, err = Fetch(ctx, other.dir, dest, "main")
	require.Error(t, err, "a clone of another source is never reused")
	assert.Contains(t, err.Error(), "is a clone of "+src.dir)
}

func TestFetchUnknownRefFailsWithClearMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := newGitRepo(t)
	src.commit("A", map[string]string{"f": "A\n"})
	tests := []struct {
		name string
		ref  string
		want string
	}{
		{name: "a SHA that was never pushed", ref: "0123456789abcdef0123456789abcdef01234567",
			want: "ref 0123456789abcdef0123456789abcdef01234567 is not in " + src.dir + ": push it or pin the PR head SHA"},
		{name: "a branch that does not exist", ref: "no-such-branch",
			want: "ref no-such-branch is not in " + src.dir + ": push it or pin the PR head SHA"},
		{name: "a ref that looks like an option is refused before git sees it", ref: "--upload-pack=touch /tmp/x",
			want: "must not start with '-'"},
		{name: "an empty ref is refused", ref: "", want: "empty ref"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Fetch(ctx, src.dir, filepath.Join(t.TempDir(), "r"), tt.ref)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestFetchUnknownSourceFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		src  string
	}{
		{name: "a local path that does not exist", src: filepath.Join(t.TempDir(), "missing")},
		{name: "a file URL that does not exist", src: "file://" + filepath.Join(t.TempDir(), "missing.git")},
		{name: "an http URL nobody listens on fails instead of prompting", src: "http://127.0.0.1:1/recipe.git"},
		{name: "an empty source", src: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dest := filepath.Join(t.TempDir(), "r")
			_, err := Fetch(ctx, tt.src, dest, "main")
			require.Error(t, err)
			if tt.src != "" {
				assert.Contains(t, err.Error(), "clone "+tt.src)
			}
			assert.NoDirExists(t, dest, "a failed clone leaves nothing behind")
		})
	}
}

func TestCheckoutUnknownRefFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := newGitRepo(t)
	a := src.commit("A", map[string]string{"f": "A\n"})
	dest := filepath.Join(t.TempDir(), "r")
	_, err := Fetch(ctx, src.dir, dest, a)
	require.NoError(t, err)

	_, err = Checkout(ctx, dest, "9.9.9+nope")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "checkout 9.9.9+nope in "+dest)
	head, err := Head(ctx, dest)
	require.NoError(t, err)
	assert.Equal(t, a, head, "a failed checkout leaves HEAD where it was")
}
