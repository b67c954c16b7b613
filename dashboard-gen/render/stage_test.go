package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestARebuildGoesLiveOnlyWhenPublishedAndKeepsThePagesItDidNotRender(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	old := map[string]string{"index.html": "old index", "run/drone-1.html": "old 1", "run/drone-9.html": "purged from Drone",
		"recipe/a.html": "old a", "run/.drone-3.html.tmp-x": "a crash's temp file", ".well-known/security.txt": "operator's"}
	plant(t, out, old)
	require.NoError(t, os.Chmod(filepath.Join(out, "recipe"), 0o750))
	s := newSite(t, out)
	require.NoError(t, s.Rebuild())
	for rel, content := range map[string]string{"index.html": "new index", "run/drone-1.html": "new 1",
		"run/drone-2.html": "new 2", "recipe/a.html": "new a", "badge/a.svg": "badge", "api/results.json": "[]", "style.css": "css"} {
		require.NoError(t, s.write(rel, []byte(content)))
	}
	live := contents(t, out)
	for rel := range live {
		if strings.HasPrefix(rel, stagePrefix) {
			delete(live, rel) // the staging directory: the web server never serves a dot file
		}
	}
	assert.Equal(t, old, live, "before Publish a reader sees the old site, whole")

	require.NoError(t, s.Sync())
	require.NoError(t, s.Publish())
	require.NoError(t, s.Close())
	assert.Equal(t, map[string]string{"index.html": "new index", "run/drone-1.html": "new 1", "run/drone-2.html": "new 2",
		"run/drone-9.html": "purged from Drone", "recipe/a.html": "new a", "badge/a.svg": "badge", "api/results.json": "[]",
		"style.css": "css", ".well-known/security.txt": "operator's"}, contents(t, out),
		"the new site, the old page no run rendered, the operator's file; no staging or temp file left")
	fi, err := os.Stat(filepath.Join(out, "recipe"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o750), fi.Mode().Perm(), "a directory put live keeps the old one's permissions")
	assert.Equal(t, 7, s.Written())
}

func TestARebuildIsPublishedFileByFileWhereTheFileSystemCannotExchange(t *testing.T) {
	// Not parallel: it replaces renameat2 for the whole package.
	renameat2 = func(int, string, int, string, uint) error { return unix.EINVAL }
	t.Cleanup(func() { renameat2 = unix.Renameat2 })
	out := t.TempDir()
	plant(t, out, map[string]string{"index.html": "old index", "run/drone-1.html": "old 1", "run/drone-9.html": "kept"})
	s := newSite(t, out)
	require.NoError(t, s.Rebuild())
	for rel, content := range map[string]string{"index.html": "new index", "run/drone-1.html": "new 1",
		"run/drone-2.html": "new 2", "badge/a.svg": "badge"} {
		require.NoError(t, s.write(rel, []byte(content)))
	}
	require.NoError(t, s.Sync())
	require.NoError(t, s.Publish())
	require.NoError(t, s.Close())
	assert.Equal(t, map[string]string{"index.html": "new index", "run/drone-1.html": "new 1", "run/drone-2.html": "new 2",
		"run/drone-9.html": "kept", "badge/a.svg": "badge"}, contents(t, out))
}

func TestARebuildThatIsNotPublishedLeavesTheSiteAsItWas(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	old := map[string]string{"index.html": "old index", "run/drone-1.html": "old 1"}
	plant(t, out, old)
	s, err := New(out, "t", "", "")
	require.NoError(t, err)
	require.NoError(t, s.Rebuild())
	require.NoError(t, s.write("run/drone-1.html", []byte("new 1")))
	require.NoError(t, s.write("index.html", []byte("new index")))

	require.NoError(t, s.Close(), "a run that failed before Publish")
	assert.Equal(t, old, contents(t, out))
}

func TestARebuildWritesThroughALinkedDirectoryInPlace(t *testing.T) {
	t.Parallel()
	out, elsewhere := t.TempDir(), t.TempDir()
	require.NoError(t, os.Symlink(elsewhere, filepath.Join(out, "badge")))
	s := newSite(t, out)
	require.NoError(t, s.Rebuild())
	require.NoError(t, s.write("badge/a.svg", []byte("badge")))
	assert.Equal(t, map[string]string{"a.svg": "badge"}, contents(t, elsewhere), "written in place, at once")
	require.NoError(t, s.Sync())
	require.NoError(t, s.Publish())

	fi, err := os.Lstat(filepath.Join(out, "badge"))
	require.NoError(t, err)
	assert.Equal(t, os.ModeSymlink, fi.Mode().Type(), "the operator's link stays")
}

func TestLeftoversOfAKilledFullRunAreRemovedAndNothingElse(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	plant(t, out, map[string]string{".full-123/run/drone-1.html": "half a run", "index.html": "index",
		".well-known/security.txt": "operator's"})
	require.NoError(t, RemoveLeftovers(out))
	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{".well-known", "index.html"}, names)
	require.NoError(t, RemoveLeftovers(filepath.Join(out, "none")), "no site yet: nothing to remove")
}
