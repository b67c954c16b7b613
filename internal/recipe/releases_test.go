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
			wantReason:   "newest release 0.2.0+2.0.0 is older than the PR head",
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
			wantReason:   "only one published version (0.1.0+1.0.0)",
		},
		{
			name: "a single release older than the head is the base",
			setup: func(r *gitRepo) string {
				r.release("0.1.0+1.0.0", r.commit("c1", nil))
				return r.commit("head", nil)
			},
			wantReleases: []string{"0.1.0+1.0.0"},
			wantBase:     "0.1.0+1.0.0",
			wantReason:   "newest release 0.1.0+1.0.0 is older than the PR head",
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
			wantReason:   "newest release 0.1.0+1.0.0 is older than the PR head",
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
			wantReason:   "newest release 0.10.0+1.1.0 is older than the PR head",
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
			wantReason:   "newest release 0.2.0+2.0.0 is not an ancestor of the PR head; using 0.1.0+1.0.0",
		},
		{
			name: "releases only at and after the head fall back to the newest other release, with the reason",
			setup: func(r *gitRepo) string {
				r.commit("c1", nil)
				head := r.commit("head", nil)
				r.release("0.1.0+1.0.0", head)
				r.release("0.2.0+2.0.0", r.commit("after", nil))
				return head
			},
			wantReleases: []string{"0.1.0+1.0.0", "0.2.0+2.0.0"},
			wantBase:     "0.2.0+2.0.0",
			wantReason:   "no release is an ancestor of the PR head; falling back to the newest other release 0.2.0+2.0.0",
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
			wantReason:   "every published release (2) is the PR head itself",
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

			base, ok, reason, err := UpgradeBase(ctx, r.dir, head)
			require.NoError(t, err)
			assert.Equal(t, tt.wantBase != "", ok)
			assert.Equal(t, tt.wantBase, base.Tag)
			assert.Equal(t, tt.wantReason, reason)
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
	_, ok, _, err := UpgradeBase(context.Background(), r.dir, "0123456789abcdef0123456789abcdef01234567")
	require.Error(t, err)
	assert.False(t, ok)
}
