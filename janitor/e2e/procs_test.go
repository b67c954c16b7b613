package e2e_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// marked lists the live processes whose environment holds marker (NAME=value): every process of
// one plugin run inherits its CCCI_APP_LOCK_DIR, the wrapper, the guarded child, abra and docker
// alike. A zombie has no environment left, so it is not listed.
func marked(t *testing.T, marker string) []int {
	t.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*")
	require.NoError(t, err)
	want := append([]byte(marker), 0)
	var pids []int
	for _, d := range dirs {
		env, err := os.ReadFile(d + "/environ")
		if err != nil || !bytes.Contains(append([]byte{0}, env...), append([]byte{0}, want...)) {
			continue // gone meanwhile, or not ours
		}
		pid, err := strconv.Atoi(filepath.Base(d))
		require.NoError(t, err)
		if pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// awaitGone waits until no process carrying marker is left: what a killed Drone step leaves must
// have finished (or died of its hangup) before the janitor's pass, as it would once Drone removed
// the step's container. It waits on pidfds (an exit event), never by sleeping, and reaps the
// processes that were reparented to this test (a child subreaper).
func awaitGone(t *testing.T, marker string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		pids := marked(t, marker)
		if len(pids) == 0 {
			return
		}
		left := time.Until(deadline)
		require.Positive(t, left, "processes of the killed run are still alive: %v", pids)
		var fds []unix.PollFd
		for _, pid := range pids {
			fd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				continue // exited and reaped meanwhile
			}
			fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
		}
		for len(fds) > 0 && time.Now().Before(deadline) {
			n, err := unix.Poll(fds, int(time.Until(deadline).Milliseconds())+1)
			if err == unix.EINTR {
				continue
			}
			require.NoError(t, err)
			if n == 0 {
				break
			}
			fds = closeExited(fds)
		}
		for _, f := range fds {
			_ = unix.Close(int(f.Fd))
		}
		for _, pid := range pids {
			var ws unix.WaitStatus
			_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil) // ECHILD: not reparented to us
		}
	}
}

// closeExited closes and drops the pidfds whose process exited.
func closeExited(fds []unix.PollFd) []unix.PollFd {
	out := fds[:0]
	for _, f := range fds {
		if f.Revents != 0 {
			_ = unix.Close(int(f.Fd))
			continue
		}
		f.Revents = 0
		out = append(out, f)
	}
	return out
}
