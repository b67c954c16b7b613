package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker/client"
	"golang.org/x/sys/unix"
)

// fake holds what one call needs: the ABRA_DIR, the environment it was started with and its
// output streams. The Docker client is made on first use, so commands that need no engine
// (recipe lint) work without one.
type fake struct {
	abraDir string
	environ []string
	stdout  io.Writer
	stderr  io.Writer
	cli     *client.Client
}

func newFake(environ []string, stdout, stderr io.Writer) *fake {
	return &fake{abraDir: lookup(environ, "ABRA_DIR"), environ: environ, stdout: stdout, stderr: stderr}
}

func (f *fake) close() {
	if f.cli != nil {
		_ = f.cli.Close() // nothing to do about a failed close at exit
	}
}

// docker returns the engine client, negotiating the API version (the daemon here is 20.10).
func (f *fake) docker() (*client.Client, error) {
	if f.cli == nil {
		cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err != nil {
			return nil, fmt.Errorf("docker client: %w", err)
		}
		f.cli = cli
	}
	return f.cli, nil
}

func lookup(environ []string, key string) string {
	v := ""
	for _, kv := range environ {
		if val, ok := strings.CutPrefix(kv, key+"="); ok {
			v = val
		}
	}
	return v
}

// callRecord is one line of the call log.
type callRecord struct {
	Argv    []string `json:"argv"`
	AbraDir string   `json:"abra_dir"`
	Cwd     string   `json:"cwd"`
	TTY     bool     `json:"tty"`
	Time    string   `json:"time"`
}

// logCall appends one JSON line per call to $CCCI_FAKE_ABRA_LOG, else to
// $ABRA_DIR/fake-abra-calls.jsonl, so tests can assert how abra was called (a TTY on stdin, the
// ABRA_DIR, how many `app new`). One write of a short line with O_APPEND keeps concurrent calls'
// lines whole.
func (f *fake) logCall(argv []string) error {
	path := lookup(f.environ, "CCCI_FAKE_ABRA_LOG")
	if path == "" {
		if f.abraDir == "" {
			return nil
		}
		path = filepath.Join(f.abraDir, "fake-abra-calls.jsonl")
	}
	cwd, err := os.Getwd()
	if err != nil {
		cwd = ""
	}
	_, ttyErr := unix.IoctlGetTermios(int(os.Stdin.Fd()), unix.TCGETS)
	line, err := json.Marshal(callRecord{Argv: append([]string{}, argv...), AbraDir: f.abraDir, Cwd: cwd,
		TTY: ttyErr == nil, Time: time.Now().UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return fmt.Errorf("encode call log line: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("call log %s: %w", path, err)
	}
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("call log %s: %w", path, err)
	}
	if _, err := fh.Write(append(line, '\n')); err != nil {
		_ = fh.Close()
		return fmt.Errorf("call log %s: %w", path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("call log %s: %w", path, err)
	}
	return nil
}

func (f *fake) recipeDir(recipe string) string { return filepath.Join(f.abraDir, "recipes", recipe) }

// findEnv returns the path of domain's .env: $ABRA_DIR/servers/<server>/<domain>.env for the one
// server that has it (servers/ may be a symlink into the canonical abra dir).
func (f *fake) findEnv(domain string) (string, error) {
	matches, err := filepath.Glob(filepath.Join(f.abraDir, "servers", "*", domain+".env"))
	if err != nil {
		return "", fmt.Errorf("find .env of %s: %w", domain, err)
	}
	switch len(matches) {
	case 0:
		return "", fmt.Errorf("app %s not found: no %s.env under %s (run abra app new first)",
			domain, domain, filepath.Join(f.abraDir, "servers"))
	case 1:
		return matches[0], nil
	}
	return "", fmt.Errorf("app %s is ambiguous: %s", domain, strings.Join(matches, ", "))
}

// stackName is the swarm stack of a domain: dots become underscores.
func stackName(domain string) string { return strings.ReplaceAll(domain, ".", "_") }

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
