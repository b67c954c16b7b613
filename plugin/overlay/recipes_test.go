package overlay

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/plugin/policy"

	"coopcloud.tech/cc-ci/internal/suggest"
)

// recipesRoot is this repo's recipes/, the overlays the CI host loads (CCCI_OVERLAYS_DIR), seen
// from this package's directory.
const recipesRoot = "../../recipes"

// The files an overlay directory may hold besides its config. The run finds hooks by these exact
// names and silently passes over anything else, so a misnamed file must fail here instead.
const (
	recipeReadme    = "README.md"
	recipeHooksDir  = "hooks"
	recipeTestsDir  = "tests"
	recipeDataWrite = "data-write"
	recipeDataRead  = "data-read"
)

var (
	recipeOverlayFiles = []string{FileName, InstallSteps, recipeReadme}
	recipeOverlayDirs  = []string{recipeHooksDir, recipeTestsDir}
)

func TestEveryRecipeOverlayLoadsStrictly(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(recipesRoot)
	require.NoError(t, err)
	entries, err := os.ReadDir(root)
	require.NoError(t, err, "recipes/ is found from the package directory")
	var names []string
	for _, e := range entries {
		switch {
		case e.IsDir():
			names = append(names, e.Name())
		case e.Name() != AllowFile && e.Name() != policy.AllowFile:
			t.Errorf("recipes/%s: recipes/ holds one directory per recipe, %s and %s, nothing else", e.Name(), AllowFile, policy.AllowFile)
		}
	}
	require.Contains(t, names, "sample")
	require.GreaterOrEqual(t, len(names), 7, "the sample and at least six real recipes")
	_, err = Allowed(root, "sample")
	require.NoError(t, err, "the allow-list %s parses", AllowFile)

	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			assert.NoError(t, checkRecipeOverlay(root, name))
		})
	}
	assert.NoError(t, checkSharedRecipeFiles(root, names))
}

// checkRecipeOverlay loads recipes/<name>/ as a run would and checks what the loader leaves to
// the run: the names of the files beside the config, the data probe's pair of hooks, and that
// every executable is one. It returns every problem found, joined.
func checkRecipeOverlay(root, name string) error {
	dir := filepath.Join(root, name)
	o, err := Load(root, name)
	if err != nil {
		return err
	}
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("recipes/%s: "+format, append([]any{name}, a...)...))
	}
	if o.Dir != dir {
		bad("loaded from %q, not from its own directory", o.Dir)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err == nil && o.File == "" {
		bad("%s is there but was not loaded", FileName)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		switch {
		case e.IsDir() && slices.Contains(recipeOverlayDirs, n), !e.IsDir() && slices.Contains(recipeOverlayFiles, n):
		case e.IsDir():
			bad("unknown directory %s/ (did you mean %s/?): the run reads only %s", n, suggest.Nearest(n, recipeOverlayDirs), strings.Join(recipeOverlayDirs, "/, ")+"/")
		default:
			bad("unknown file %s (did you mean %s?): the run reads only %s", n, suggest.Nearest(n, recipeOverlayFiles), strings.Join(recipeOverlayFiles, ", "))
		}
	}
	errs = append(errs, checkRecipeHooks(name, filepath.Join(dir, recipeHooksDir))...)

	declared := map[string]bool{}
	for _, tc := range o.Config.Tests {
		p := filepath.Join(dir, filepath.FromSlash(tc.Run))
		declared[filepath.Clean(p)] = true
		if err := recipeRunnable(p); err != nil {
			bad("tests (%s): %v", tc.Name, err)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, recipeTestsDir, "*"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if !declared[filepath.Clean(f)] {
			bad("%s/%s is not the run of any tests: entry in %s (a misspelt run path leaves it unused)", recipeTestsDir, filepath.Base(f), FileName)
		}
	}
	return errors.Join(errs...)
}

// checkRecipeHooks checks an overlay's hooks/: the data probe is the pair data-write and data-read
// (with one alone the run uses neither), every file is an executable script, and any other file
// is a helper that one of the pair calls by name.
func checkRecipeHooks(name, dir string) []error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return []error{err}
	}
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("recipes/%s/%s: "+format, append([]any{name, recipeHooksDir}, a...)...))
	}
	var pair []byte
	for _, h := range []string{recipeDataWrite, recipeDataRead} {
		data, err := os.ReadFile(filepath.Join(dir, h))
		if err != nil {
			bad("%s is missing: the data probe is the pair %s and %s, and the run uses neither without the other", h, recipeDataWrite, recipeDataRead)
		}
		pair = append(pair, data...)
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			bad("%s/ is a directory: hooks are files", e.Name())
			continue
		}
		if err := recipeRunnable(p); err != nil {
			bad("%v", err)
		}
		if e.Name() != recipeDataWrite && e.Name() != recipeDataRead && !bytes.Contains(pair, []byte(e.Name())) {
			bad("%s is neither %s nor %s, nor called by them (did you mean %s?)", e.Name(), recipeDataWrite, recipeDataRead,
				suggest.Nearest(e.Name(), []string{recipeDataRead, recipeDataWrite}))
		}
	}
	return errs
}

// recipeRunnable checks that p is a regular, executable file that starts with "#!": the run execs it
// directly, and a script without an interpreter line fails to start.
func recipeRunnable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file (chmod +x it)", filepath.Base(p))
	}
	head := make([]byte, 2)
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Read(head); err != nil || string(head) != "#!" {
		return fmt.Errorf("%s does not start with an interpreter line (#!/bin/sh)", filepath.Base(p))
	}
	return nil
}

// checkSharedRecipeFiles checks that a helper or test kept under the same name in several
// overlays (hooks/dbprobe, hooks/webprobe, tests/serves-content.sh) is the same file in each: a
// fix made to one copy must not leave the others behind.
func checkSharedRecipeFiles(root string, names []string) error {
	copies := map[string][]string{} // hooks/<file> or tests/<file> -> overlays holding it
	for _, name := range names {
		for _, sub := range recipeOverlayDirs {
			entries, _ := os.ReadDir(filepath.Join(root, name, sub))
			for _, e := range entries {
				if sub == recipeHooksDir && (e.Name() == recipeDataWrite || e.Name() == recipeDataRead) {
					continue // each overlay's own entry points
				}
				rel := sub + "/" + e.Name()
				copies[rel] = append(copies[rel], name)
			}
		}
	}
	var errs []error
	for _, rel := range slices.Sorted(maps.Keys(copies)) {
		holders := copies[rel]
		first, err := os.ReadFile(filepath.Join(root, holders[0], rel))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, other := range holders[1:] {
			data, err := os.ReadFile(filepath.Join(root, other, rel))
			if err != nil || !bytes.Equal(first, data) {
				errs = append(errs, fmt.Errorf("recipes/%s/%s differs from recipes/%s/%s: keep the copies of a shared file identical", other, rel, holders[0], rel))
			}
		}
	}
	return errors.Join(errs...)
}

// TestRecipeOverlayCheckCatchesTypos proves the check above fails for each mistake it names: a
// check that passed everything would let every overlay under recipes/ through.
func TestRecipeOverlayCheckCatchesTypos(t *testing.T) {
	t.Parallel()
	const script = "#!/bin/sh\nexit 0\n"
	good := map[string]string{
		FileName:                    "timeouts: {http: 5m}\ntests:\n  - {name: smoke, run: tests/smoke.sh}\n",
		"hooks/data-write":          "#!/bin/sh\nexec \"$(dirname \"$0\")/probe\" write \"$@\"\n",
		"hooks/data-read":           "#!/bin/sh\nexec \"$(dirname \"$0\")/probe\" read \"$@\"\n",
		"hooks/probe":               script,
		"tests/smoke.sh":            script,
		recipeReadme:                "# Overlay\n",
		"../other/hooks/data-write": "#!/bin/sh\nexec \"$(dirname \"$0\")/probe\" write \"$@\"\n",
		"../other/hooks/data-read":  "#!/bin/sh\nexec \"$(dirname \"$0\")/probe\" read \"$@\"\n",
		"../other/hooks/probe":      script,
	}
	tests := []struct {
		name    string
		mutate  func(t *testing.T, dir string)
		wantErr string
	}{
		{"a complete overlay passes", func(*testing.T, string) {}, ""},
		{"a misspelt key in cc-ci.yml fails and names the nearest", func(t *testing.T, dir string) {
			writeRecipeFile(t, dir, FileName, "timeouts: {htpt: 5m}\n", 0o644)
		}, `did you mean "http"`},
		{"a misnamed config file fails", func(t *testing.T, dir string) {
			require.NoError(t, os.Rename(filepath.Join(dir, FileName), filepath.Join(dir, "cc-ci.yaml")))
		}, "unknown file cc-ci.yaml (did you mean cc-ci.yml?)"},
		{"a misnamed install_steps.sh fails", func(t *testing.T, dir string) {
			writeRecipeFile(t, dir, "install-steps.sh", script, 0o755)
		}, "unknown file install-steps.sh (did you mean install_steps.sh?)"},
		{"a misnamed hooks directory fails", func(t *testing.T, dir string) {
			require.NoError(t, os.Rename(filepath.Join(dir, recipeHooksDir), filepath.Join(dir, "hook")))
		}, "unknown directory hook/ (did you mean hooks/?)"},
		{"a data-write without its data-read fails", func(t *testing.T, dir string) {
			require.NoError(t, os.Rename(filepath.Join(dir, "hooks/data-read"), filepath.Join(dir, "hooks/data-raed")))
		}, "data-read is missing"},
		{"a hook that is not executable fails", func(t *testing.T, dir string) {
			require.NoError(t, os.Chmod(filepath.Join(dir, "hooks/probe"), 0o644))
		}, "probe is not an executable file"},
		{"a hook without an interpreter line fails", func(t *testing.T, dir string) {
			writeRecipeFile(t, dir, "hooks/probe", "exit 0\n", 0o755)
		}, "does not start with an interpreter line"},
		{"a hook file nothing calls fails", func(t *testing.T, dir string) {
			writeRecipeFile(t, dir, "hooks/data-wirte", script, 0o755)
		}, "data-wirte is neither data-write nor data-read"},
		{"a tests: entry whose file is missing fails", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "tests/smoke.sh")))
		}, "tests/smoke.sh"},
		{"a test file no tests: entry runs fails", func(t *testing.T, dir string) {
			writeRecipeFile(t, dir, FileName, "tests:\n  - {name: smoke, run: tests/smoke.sh}\n", 0o644)
			writeRecipeFile(t, dir, "tests/smoke-old.sh", script, 0o755)
		}, "tests/smoke-old.sh is not the run of any tests: entry"},
		{"a shared helper whose copies differ fails", func(t *testing.T, dir string) {
			writeRecipeFile(t, dir, "hooks/probe", script+"# changed in one copy only\n", 0o755)
		}, "recipes/other/hooks/probe differs from recipes/app/hooks/probe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			dir := filepath.Join(root, "app")
			for rel, content := range good {
				writeRecipeFile(t, dir, rel, content, 0o755)
			}
			tt.mutate(t, dir)
			err := errors.Join(checkRecipeOverlay(root, "app"), checkRecipeOverlay(root, "other"),
				checkSharedRecipeFiles(root, []string{"app", "other"}))
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func writeRecipeFile(t *testing.T, dir, rel, content string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), mode))
	require.NoError(t, os.Chmod(p, mode), "the mode is the test's, whatever the umask")
}
