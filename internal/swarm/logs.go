package swarm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/pkg/stdcopy"
)

const (
	logLines    = 20
	logMaxBytes = 1 << 20
	logTimeout  = 10 * time.Second
)

// lastLogs returns the last n log lines of task t, stdout and stderr interleaved in the order
// written. It reads the task's container directly (swarm keeps the containers of recent tasks), and
// falls back to the swarm task log when the container is gone. Logs are a diagnostic: when neither
// source answers, the reason is returned as the only line instead of failing the caller.
func (c *Client) lastLogs(ctx context.Context, t swarm.Task, n int) []string {
	ctx, cancel := context.WithTimeout(ctx, logTimeout)
	defer cancel()
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: fmt.Sprint(n)}
	tty := t.Spec.ContainerSpec != nil && t.Spec.ContainerSpec.TTY
	read := func(rc io.ReadCloser, err error) ([]string, error) {
		if err != nil {
			return nil, err
		}
		return readLogs(rc, tty, n)
	}
	var errs []error
	if id := containerID(t); id != "" {
		lines, err := read(c.api.ContainerLogs(ctx, id, opts))
		if err == nil {
			return lines
		}
		errs = append(errs, fmt.Errorf("container %s: %w", id, err))
	}
	lines, err := read(c.api.TaskLogs(ctx, t.ID, opts))
	if err == nil {
		return lines
	}
	errs = append(errs, fmt.Errorf("task %s: %w", t.ID, err))
	return []string{fmt.Sprintf("(logs unavailable: %v)", errors.Join(errs...))}
}

// readLogs returns the last n lines of a log stream. Streams of containers without a TTY are
// multiplexed and must be demultiplexed; with a TTY they are raw.
func readLogs(rc io.ReadCloser, tty bool, n int) ([]string, error) {
	defer rc.Close()
	var buf bytes.Buffer
	src := io.LimitReader(rc, logMaxBytes)
	var err error
	if tty {
		_, err = io.Copy(&buf, src)
	} else {
		_, err = stdcopy.StdCopy(&buf, &buf, src)
	}
	if err != nil {
		return nil, fmt.Errorf("read logs: %w", err)
	}
	return tail(buf.String(), n), nil
}

// tail returns the last n non-empty lines of s.
func tail(s string, n int) []string {
	var lines []string
	for l := range strings.SplitSeq(strings.TrimRight(s, "\n"), "\n") {
		if l = strings.TrimRight(l, "\r"); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
