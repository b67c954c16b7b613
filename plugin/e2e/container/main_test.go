// Package container runs the plugin's OCI image (testkit.BuildPluginImage: the real cc-ci-plugin,
// the FAKE abra) the way Drone's docker runner starts the recipe-test step of the repo's
// .drone.yml (testkit/dronecfg): the env Drone sets (its DRONE_* variables, the bridge's CCCI_*
// build params, the settings as PLUGIN_*), the declared host mounts, the host network, no init,
// so the plugin is the container's PID 1. Drone cannot run here; everything else is real: the
// Docker engine and swarm, git over HTTP (git http-backend), the janitor binary.
//
// The only departures from the step as .drone.yml declares it: the image is the test image
// (cc-ci-plugin:fake-abra, not cc-ci-plugin:local), and the host side of the lock, runs and abra
// dirs are per-test temp dirs (the container side, and the settings, stay DESIGN.md 3's paths),
// so a test never touches the real /var/lib/cc-ci of the machine.
package container

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"path/filepath"
	"testing"
	"time"

	"coopcloud.tech/cc-ci/internal/testkit"
)

// env is what TestMain prepared once: the janitor binary, the front door, the git server.
var env struct {
	janitor   string
	frontDoor string
	gitRoot   string // served by git http-backend at gitURL
	gitURL    string
}

func TestMain(m *testing.M) {
	os.Exit(setup(m))
}

func setup(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	tmp, err := os.MkdirTemp("", "ccci-container-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if err := prepare(ctx, tmp); err != nil {
		fmt.Fprintf(os.Stderr, "container e2e setup: %v\n", err)
		return 1
	}
	return m.Run()
}

func prepare(ctx context.Context, tmp string) error {
	if _, err := testkit.BuildPluginImage(ctx); err != nil {
		return err
	}
	if err := testkit.BuildImages(ctx); err != nil {
		return err
	}
	var err error
	if env.frontDoor, err = testkit.EnsureFrontDoor(ctx, testkit.DefaultFrontDoorPort); err != nil {
		return err
	}
	if env.janitor, err = testkit.BuildCommand(ctx, "janitor/cc-ci-janitor", filepath.Join(tmp, "bin")); err != nil {
		return err
	}
	env.gitRoot = filepath.Join(tmp, "git")
	if err := os.MkdirAll(env.gitRoot, 0o755); err != nil {
		return err
	}
	env.gitURL, err = serveGit(env.gitRoot)
	return err
}

// gitHTTPBackend is git's own smart-HTTP server (Debian's git package), run as a CGI program.
const gitHTTPBackend = "/usr/lib/git-core/git-http-backend"

// serveGit serves every repository under root over git's smart HTTP protocol on the host's
// loopback and returns the base URL. The plugin in the container (host network) clones from it
// with the image's git-remote-http, as it clones a recipe from its forge in production.
func serveGit(root string) (string, error) {
	if _, err := os.Stat(gitHTTPBackend); err != nil {
		return "", fmt.Errorf("git http-backend (Debian package git): %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	h := &cgi.Handler{Path: gitHTTPBackend, Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}
