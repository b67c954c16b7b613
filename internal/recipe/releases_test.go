package recipe

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReleasesAndUpgradeBase(t *testing.T) {
	t.Parallel()
	// Each setup builds a repo and returns the PR head; wantBase is a tag name or "" for none.
	tests := []struct {
		name         string
		setup        func(r *gitRepo) string
		wantReleases []string
		wantBase     string
		wantReason   string
	}{
		{
			name: "two releases and the head on top: the newest release is the base",
			setup: func(r *gitRepo) string {
				r.release("0.1.0+1.0.0", r.commit("c1", nil))
				r.release("0.2.0+2.0.0", r.commit("c2", nil))
				return r.commit("head", nil)
			},
			wantReleases: []string{"0.1.0+1.0.0", "0.2.0+2.0.0"},
			wantBase:     "0.2.0+2.0.0",
			wantReason:   "newest release 0.2.0+2.0.0 is an ancestor of the PR head",
		},
		{
			name: "the head is tagged itself: the previous release is the base",
			setup: func(r *gitRepo) string {
				r.release("0.1.0+1.0.0", r.commit("c1", nil))
				head := r.commit("head", nil)
				r.release("0.2.0+2.0.0", head)
				return head
			},
			wantReleases: []string{"0.1.0+1.0.0", "0.2.0+2.0.0"},
			wantBase:     "0.1.0+1.0.0",
			wantReason:   "newest release 0.2.0+2.0.0 is the PR head itself; using the previous release 0.1.0+1.0.0",
		},
		{
			name: "a single release at the head: upgrade has nothing to start from",
			setup: func(r *gitRepo) string {
				r.commit("c1", nil)
				head := r.commit("head", nil)
				r.release("0.1.0+1.0.0", head)
				return head
			},
			wantReleases: []string{"0.1.0+1.0.0"},
			wantReason:   "the only release that is an ancestor of the PR head is the head itself (0.1.0+1.0.0)",
		},
		{
			name: "a single release older than the head is the base",
			setup: func(r *gitRepo) string {
				r.release("0.1.0+1.0.0", r.commit("c1", nil))
				return r.commit("head", nil)
			},
			wantReleases: []string{"0.1.0+1.0.0"},
			wantBase:     "0.1.0+1.0.0",
			wantReason:   "newest release 0.1.0+1.0.0 is an ancestor of the PR head",
		},
		{
			name:       "no tags at all",
			setup:      func(r *gitRepo) string { r.commit("c1", nil); return r.commit("head", nil) },
			wantReason: "no published release",
		},
		{
			name: "lightweight and non-version tags are not releases",
			setup: func(r *gitRepo) string {
				c1 := r.commit("c1", nil)
				r.release("0.1.0+1.0.0", c1)
				c2 := r.commit("c2", nil)
				r.lightTag("0.2.0+2.0.0", c2)
				r.release("latest", c2)
				r.release("0.3.0", c2)
				return r.commit("head", nil)
			},
			wantReleases: []string{"0.1.0+1.0.0"},
			wantBase:     "0.1.0+1.0.0",
			wantReason:   "newest release 0.1.0+1.0.0 is an ancestor of the PR head",
		},
		{
			name: "only lightweight tags means no published release",
			setup: func(r *gitRepo) string {
				r.lightTag("0.1.0+1.0.0", r.commit("c1", nil))
				return r.commit("head", nil)
			},
			wantReason: "no published release",
		},
		{
			name: "versions order numerically, not as strings",
			setup: func(r *gitRepo) string {
				r.release("0.9.0+1.0.0", r.commit("c1", nil))
				r.release("0.10.0+1.1.0", r.commit("c2", nil))
				return r.commit("head", nil)
			},
			wantReleases: []string{"0.9.0+1.0.0", "0.10.0+1.1.0"},
			wantBase:     "0.10.0+1.1.0",
			wantReason:   "newest release 0.10.0+1.1.0 is an ancestor of the PR head",
		},
		{
			name: "a newer release on another line is not an ancestor and is passed over",
			setup: func(r *gitRepo) string {
				c1 := r.commit("c1", nil)
				r.release("0.1.0+1.0.0", c1)
				r.release("0.2.0+2.0.0", r.commit("c2", nil))
				r.git("checkout", "--quiet", "-b", "pr", c1)
				return r.commit("pr head", nil)
			},
			wantReleases: []string{"0.1.0+1.0.0", "0.2.0+2.0.0"},
			wantBase:     "0.1.0+1.0.0",
			wantReason:   "newest release 0.2.0+2.0.0 is not an ancestor of the PR head; using 0.1.0+1.0.0, the newest that is",
		},
		{
			name: "releases only at and after the head are never a base: a newer base would be a downgrade",
			setup: func(r *gitRepo) string {
				r.commit("c1", nil)
				head := r.commit("head", nil)
				r.release("0.1.0+1.0.0", head)
				r.release("0.2.0+2.0.0", r.commit("after", nil))
				return head
			},
			wantReleases: []string{"0.1.0+1.0.0", "0.2.0+2.0.0"},
			wantReason:   "the only release that is an ancestor of the PR head is the head itself (0.1.0+1.0.0)",
		},
		{
			name: "two releases both at the head leave nothing to upgrade from",
			setup: func(r *gitRepo) string {
				r.commit("c1", nil)
				head := r.commit("head", nil)
				r.release("0.1.0+1.0.0", head)
				r.release("0.1.1+1.0.0", head)
				return head
			},
			wantReleases: []string{"0.1.0+1.0.0", "0.1.1+1.0.0"},
			wantReason:   "the only release that is an ancestor of the PR head is the head itself (0.1.1+1.0.0)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r := newGitRepo(t)
			head := tt.setup(r)

			releases, err := Releases(ctx, r.dir)
			require.NoError(t, err)
			var tags []string
			for _, rel := range releases {
				tags = append(tags, rel.Tag)
				assert.Equal(t, r.git("rev-parse", rel.Tag+"^{commit}"), rel.Commit, "commit of %s", rel.Tag)
			}
			assert.Equal(t, tt.wantReleases, tags)

			base, ok, err := UpgradeBase(ctx, r.dir, head, "")
			require.NoError(t, err)
			assert.Equal(t, tt.wantBase != "", ok)
			assert.Equal(t, tt.wantBase, base.Tag)
			assert.Contains(t, base.Reason, tt.wantReason)
			assert.Contains(t, base.Reason, "no explicit override", "every step of the chain is recorded")
			if !ok {
				assert.Contains(t, base.Reason, "no default branch", "a repo that is not a clone has no default branch tip to fall back to")
			}
			if ok {
				assert.NotEqual(t, head, base.Commit, "a release at the head is never the base")
			}
		})
	}
}

func TestUpgradeBaseUnknownHeadIsAnError(t *testing.T) {
	t.Parallel()
	r := newGitRepo(t)
	r.release("0.1.0+1.0.0", r.commit("c1", nil))
	_, ok, err := UpgradeBase(context.Background(), r.dir, "0123456789abcdef0123456789abcdef01234567", "")
	require.Error(t, err)
	assert.False(t, ok)
}

// clone clones r (so origin/HEAD names r's current branch) and returns the clone's directory.
func clone(t *testing.T, r *gitRepo) string {
	t.Helper()
	dir := t.TempDir()
	gitIn(t, "", "clone", "--quiet", "--no-checkout", r.dir, dir)
	return dir
}

func TestUpgradeBaseDefaultBranchAndOverride(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newGitRepo(t)
	c1 := r.commit("c1", nil)
	tip := r.commit("main tip", nil)
	r.git("checkout", "--quiet", "-b", "pr", c1)
	head := r.commit("pr head", nil)
	r.git("checkout", "--quiet", "main")
	dir := clone(t, r)
	gitIn(t, dir, "fetch", "--quiet", "origin", head)

	base, ok, err := UpgradeBase(ctx, dir, head, "")
	require.NoError(t, err)
	require.True(t, ok, base.Reason)
	assert.Equal(t, tip, base.Commit, "no release: the default branch's tip is the base")
	assert.Empty(t, base.Tag)
	assert.Contains(t, base.Reason, "no published release; using the default branch's tip")

	base, ok, err = UpgradeBase(ctx, dir, tip, "")
	require.NoError(t, err)
	assert.False(t, ok, "the tip itself under test: no base")
	assert.Contains(t, base.Reason, "the default branch's tip is the PR head itself")

	base, ok, err = UpgradeBase(ctx, dir, c1, "")
	require.NoError(t, err)
	assert.False(t, ok, "a tip that contains the head is newer than it")
	assert.Contains(t, base.Reason, "already contains the PR head")

	base, ok, err = UpgradeBase(ctx, dir, head, c1)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, c1, base.Commit)
	assert.Equal(t, "explicit override "+c1, base.Reason)

	_, _, err = UpgradeBase(ctx, dir, head, head)
	assert.ErrorContains(t, err, "is the PR head itself")
	_, _, err = UpgradeBase(ctx, dir, head, "no-such-ref")
	assert.ErrorContains(t, err, "no-such-ref")
}

func TestVersionAtNamesTheReleaseOfACommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newGitRepo(t)
	c1 := r.commit("c1", nil)
	r.release("0.1.0+1.0.0", c1)
	c2 := r.commit("c2", nil)
	r.release("0.2.0+2.0.0", c2)
	r.release("0.2.1+2.0.0", c2) // re-tagged: the newest name wins
	head := r.commit("head", nil)

	for commit, want := range map[string]string{c1: "0.1.0+1.0.0", c2: "0.2.1+2.0.0", head: ""} {
		got, err := VersionAt(ctx, r.dir, commit)
		require.NoError(t, err)
		assert.Equal(t, want, got, "version at %s", commit)
	}
}

func TestTheLastGreenCanonicalIsTriedFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newGitRepo(t)
	r.release("0.1.0+1.0.0", r.commit("c1", nil))
	r.release("0.2.0+2.0.0", r.commit("c2", nil))
	head := r.commit("head", nil)
	r.release("0.3.0+3.0.0", head)

	base, ok, err := UpgradeBaseFrom(ctx, r.dir, head, "", "0.1.0+1.0.0")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "0.1.0+1.0.0", base.Tag, "the canonical wins over the newest release")
	assert.Contains(t, base.Reason, "last green canonical 0.1.0+1.0.0 is an ancestor of the PR head")

	for _, canonical := range []string{"0.3.0+3.0.0", "9.9.9+9"} {
		base, ok, err = UpgradeBaseFrom(ctx, r.dir, head, "", canonical)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, "0.2.0+2.0.0", base.Tag, "canonical %s (the head itself, or unknown) is passed over, never used", canonical)
		assert.Contains(t, base.Reason, "last green canonical "+canonical+" is not an older release")
	}

	base, _, err = UpgradeBaseFrom(ctx, r.dir, head, "0.2.0+2.0.0", "0.1.0+1.0.0")
	require.NoError(t, err)
	assert.Equal(t, "0.2.0+2.0.0", base.Tag, "an explicit override comes before the canonical")
}
