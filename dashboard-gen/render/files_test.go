package render

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// plant writes each rel: content into dir.
func plant(t *testing.T, dir string, rel map[string]string) {
	t.Helper()
	for r, content := range rel {
		p := filepath.Join(dir, r)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

// contents are the files of dir by path, dot files included.
func contents(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = string(data)
		return err
	}))
	return out
}

func newSite(t *testing.T, out string) *Site {
	t.Helper()
	s, err := New(out, "t", "", "")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

func TestAFileIsReplacedByANewOneNeverRewrittenInPlace(t *testing.T) {
	t.Parallel()
	s := newSite(t, t.TempDir())
	require.NoError(t, s.write("run/drone-1.html", []byte("first")))
	reader, err := os.Open(filepath.Join(s.Out, "run/drone-1.html"))
	require.NoError(t, err)
	defer reader.Close()

	require.NoError(t, s.write("run/drone-1.html", []byte("second, longer")))
	old := make([]byte, 64)
	n, err := reader.Read(old)
	require.NoError(t, err)
	assert.Equal(t, "first", string(old[:n]), "a reader that opened the old page reads all of it")
	assert.Equal(t, map[string]string{"run/drone-1.html": "second, longer"}, contents(t, s.Out), "no temp file is left")
	assert.Equal(t, 2, s.Written())
}
