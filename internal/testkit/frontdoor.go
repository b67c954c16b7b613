package testkit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Front door names: stack ccci-frontdoor, service ccci-frontdoor_proxy.
const (
	FrontDoorStack   = "ccci-frontdoor"
	FrontDoorService = FrontDoorStack + "_proxy"
	// DefaultFrontDoorPort is the host port the front door publishes (host mode).
	DefaultFrontDoorPort = 8480
	// FrontDoorHealthPath answers 200 "ok" on any Host.
	FrontDoorHealthPath = "/ccci-frontdoor/healthz"
	frontDoorConfigHdr  = "X-Ccci-Frontdoor-Config"
	frontDoorReadyWait  = 90 * time.Second
)

// frontDoorCompose deploys the front door on the external overlay "proxy", the only published
// port on the swarm. FRONTDOOR_CONFIG names the image and port: it is part of the task template,
// so a rebuilt image or another port replaces the task, and the health endpoint echoes it, so
// EnsureFrontDoor knows the new task answers.
func frontDoorCompose(port int, config string) string {
	return fmt.Sprintf(`version: "3.8"
services:
  proxy:
    image: %s
    environment:
      - FRONTDOOR_CONFIG=%s
    ports:
      - target: 80
        published: %d
        protocol: tcp
        mode: host
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock:ro
    networks:
      - proxy
    deploy:
      replicas: 1
      restart_policy:
        condition: any
      update_config:
        order: stop-first
      placement:
        constraints:
          - node.role == manager
networks:
  proxy:
    external: true
`, FrontDoorImage, config, port)
}

// EnsureFrontDoor makes sure the FAKE front door runs on the local swarm, publishing port on the
// host, and answers; it returns its URL ("http://127.0.0.1:<port>"). It is idempotent and cheap
// when the front door already runs with the current image and port. BuildImages must have run.
// A host-wide lock keeps concurrent test processes from deploying it twice at once.
func EnsureFrontDoor(ctx context.Context, port int) (string, error) {
	if port <= 0 || port > 65535 {
		return "", fmt.Errorf("front door port %d out of range", port)
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	unlock, err := lockFile(ctx, filepath.Join(os.TempDir(), "ccci-testkit-frontdoor.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	imageID, err := dockerOutput(ctx, "image", "inspect", "--format", "{{.Id}}", FrontDoorImage)
	if err != nil {
		return "", fmt.Errorf("front door image %s missing (run BuildImages first): %w", FrontDoorImage, err)
	}
	config := strings.TrimPrefix(imageID, "sha256:")[:16] + "-" + strconv.Itoa(port)
	if got, ok := frontDoorHealth(ctx, url); ok && got == config {
		return url, nil
	}
	dir, err := os.MkdirTemp("", "ccci-frontdoor-")
	if err != nil {
		return "", fmt.Errorf("deploy front door: %w", err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "compose.yml")
	if err := os.WriteFile(file, []byte(frontDoorCompose(port, config)), 0o644); err != nil {
		return "", fmt.Errorf("deploy front door: %w", err)
	}
	if _, err := dockerOutput(ctx, "stack", "deploy", "--resolve-image", "never", "--prune",
		"--compose-file", file, FrontDoorStack); err != nil {
		return "", fmt.Errorf("deploy front door: %w", err)
	}
	if err := waitFrontDoor(ctx, url, config); err != nil {
		return "", err
	}
	return url, nil
}

// waitFrontDoor polls the health endpoint until the task with config answers.
func waitFrontDoor(ctx context.Context, url, config string) error {
	ctx, cancel := context.WithTimeout(ctx, frontDoorReadyWait)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		got, ok := frontDoorHealth(ctx, url)
		if ok && got == config {
			return nil
		}
		select {
		case <-ctx.Done():
			state, _ := dockerOutput(context.Background(), "service", "ps", "--no-trunc",
				"--format", "{{.CurrentState}} {{.Error}}", FrontDoorService)
			return fmt.Errorf("front door at %s not ready within %s (answering config %q, want %q); tasks: %s",
				url, frontDoorReadyWait, got, config, state)
		case <-tick.C:
		}
	}
}

// frontDoorHealth returns the config of the front door answering at url, and whether one did.
func frontDoorHealth(ctx context.Context, url string) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+FrontDoorHealthPath, nil)
	if err != nil {
		return "", false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != "ok" {
		return "", false
	}
	return resp.Header.Get(frontDoorConfigHdr), true
}

// dockerOutput runs the docker CLI and returns trimmed stdout.
func dockerOutput(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}
