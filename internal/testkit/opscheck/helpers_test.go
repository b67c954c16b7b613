// Package opscheck holds tests of what the operator reads and deploys, not of Go code: the NixOS
// modules agree on the shared paths and names (nix_test.go), and the docs name every flag and
// env var of the four binaries (docs_test.go). It has no non-test code.
package opscheck

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// binary is one of cc-ci's four binaries: its module dir and main package, relative to the repo.
type binary struct {
	name, module, pkg string
}

// binaries are the four binaries of DESIGN.md 2.
var binaries = []binary{
	{"cc-ci-plugin", "plugin", "./cmd/cc-ci-plugin"},
	{"cc-ci-janitor", "janitor", "./cmd/cc-ci-janitor"},
	{"cc-ci-bridge", "bridge", "./cmd/cc-ci-bridge"},
	{"cc-ci-dashboard", "dashboard-gen", "./cmd/cc-ci-dashboard"},
}

// repoRoot is the repository root, found from this file's compile-time path (never the working
// directory), and confirmed by its go.work.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test's source file")
	}
	root := filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		t.Fatalf("repo root %s has no go.work: %v", root, err)
	}
	return root
}

// helpText is a binary's --help output, or why it could not be had.
type helpText struct {
	text    string
	missing string // non-empty: the binary's main package does not exist (yet)
	err     error
}

var (
	helpOnce sync.Once
	helps    map[string]helpText
	helpDir  string
)

// TestMain builds the binaries once for every test of the package and removes them after.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "opscheck-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	helpDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir) // a temp dir: nothing to lose
	os.Exit(code)
}

// help builds b (once per package run) and returns its --help text. A binary whose main package
// is absent is reported in missing, so a caller can skip it by name; any other failure is err.
func help(t *testing.T, root string, b binary) helpText {
	t.Helper()
	helpOnce.Do(func() {
		helps = map[string]helpText{}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, b := range binaries {
			wg.Go(func() {
				h := buildHelp(root, b)
				mu.Lock()
				helps[b.name] = h
				mu.Unlock()
			})
		}
		wg.Wait()
	})
	return helps[b.name]
}

func buildHelp(root string, b binary) helpText {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	mod := filepath.Join(root, b.module)
	if _, err := os.Stat(filepath.Join(mod, b.pkg, "main.go")); err != nil {
		return helpText{missing: fmt.Sprintf("%s/%s/main.go does not exist", b.module, strings.TrimPrefix(b.pkg, "./"))}
	}
	out := filepath.Join(helpDir, b.name)
	build := exec.CommandContext(ctx, "go", "build", "-o", out, b.pkg)
	build.Dir = mod
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := build.CombinedOutput(); err != nil {
		return helpText{err: fmt.Errorf("go build %s: %w\n%s", b.name, err, msg)}
	}
	run := exec.CommandContext(ctx, out, "--help")
	run.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()} // no CCCI_* of the caller's
	text, err := run.CombinedOutput()
	if err != nil {
		return helpText{err: fmt.Errorf("%s --help: %w\n%s", b.name, err, text)}
	}
	return helpText{text: string(text)}
}

var (
	// flagLine is an option line of urfave/cli's help: "   --name value   usage ... [$ENV]".
	flagLine = regexp.MustCompile(`(?m)^\s+(?:-[a-z], )?--([a-z0-9][a-z0-9-]*)(?:, -[a-z])?\b(.*)$`)
	// envName is an environment variable as the help names it: $NAME.
	envName = regexp.MustCompile(`\$([A-Z][A-Z0-9_]*[A-Z0-9])`)
	// defaultValue is urfave/cli's "(default: ...)" of a flag line.
	defaultValue = regexp.MustCompile(`\(default: "?([^")]*)"?\)`)
)

// helpFacts is what a --help text declares.
type helpFacts struct {
	flags    []string          // long flag names, without "--", help excluded
	env      []string          // every $NAME in the text (usage lines and descriptions too)
	defaults map[string]string // flag -> its default as printed
}

func parseHelp(text string) helpFacts {
	f := helpFacts{defaults: map[string]string{}}
	for _, m := range flagLine.FindAllStringSubmatch(text, -1) {
		if m[1] == "help" {
			continue
		}
		f.flags = append(f.flags, m[1])
		if d := defaultValue.FindStringSubmatch(m[2]); d != nil {
			f.defaults[m[1]] = d[1]
		}
	}
	seen := map[string]bool{}
	for _, m := range envName.FindAllStringSubmatch(text, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			f.env = append(f.env, m[1])
		}
	}
	sort.Strings(f.env)
	return f
}
