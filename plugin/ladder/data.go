package ladder

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"coopcloud.tech/cc-ci/internal/naming"
)

// seed writes a fresh random datum under key through the overlay's data probe and remembers it;
// without a probe it records that (a skipped check, which never hides a failure elsewhere).
func (l *Ladder) seed(ctx context.Context, t *tier, a *app, key string) bool {
	if l.Data == nil {
		t.skipCheck("seed "+key, "no data probe declared in the overlay")
		return true
	}
	v := randomValue()
	if err := l.Data.Write(ctx, a.Domain, key, v); err != nil {
		t.failOrAbort(ctx, "seed "+key, "the app did not accept a datum through the data probe: %v", err)
		return false
	}
	a.seeded[key] = v
	t.pass("seed "+key, "wrote %s", key)
	return true
}

// mutate changes the seeded backup datum and writes one that did not exist at backup time.
func (l *Ladder) mutate(ctx context.Context, t *tier, a *app) bool {
	if l.Data == nil {
		return true
	}
	for _, key := range []string{keyBackup, keyMutation} {
		v := randomValue()
		if err := l.Data.Write(ctx, a.Domain, key, v); err != nil {
			t.failOrAbort(ctx, "mutate "+key, "the app did not accept a datum through the data probe: %v", err)
			return false
		}
		a.seeded["mutated:"+key] = v
	}
	t.pass("mutate", "overwrote %s and wrote %s after the backup", keyBackup, keyMutation)
	return true
}

// verify proves the datum seeded under key reads back unchanged.
func (l *Ladder) verify(ctx context.Context, t *tier, a *app, check, key, lost string) bool {
	if l.Data == nil {
		t.skipCheck(check, "no data probe declared in the overlay")
		return true
	}
	got, found, err := l.Data.Read(ctx, a.Domain, key)
	mutated, wasMutated := a.seeded["mutated:"+key]
	switch {
	case err != nil:
		t.failOrAbort(ctx, check, "read %s through the data probe: %v", key, err)
	case !found:
		t.fail(check, "%s (%s is absent)", lost, key)
	case wasMutated && got == mutated:
		t.fail(check, "%s still holds the value written after the backup: the restore left the live (mutated) data in place", key)
	case got != a.seeded[key]:
		t.fail(check, "%s (%s reads %q, want the seeded %q)", lost, key, clip(got), a.seeded[key])
	default:
		t.pass(check, "%s reads back as seeded", key)
		return true
	}
	return false
}

// absent proves key is gone.
func (l *Ladder) absent(ctx context.Context, t *tier, a *app, check, key, present string) bool {
	if l.Data == nil {
		return true
	}
	_, found, err := l.Data.Read(ctx, a.Domain, key)
	switch {
	case err != nil:
		t.failOrAbort(ctx, check, "read %s through the data probe: %v", key, err)
	case found:
		t.fail(check, "%s (%s is present)", present, key)
	default:
		t.pass(check, "%s is absent", key)
		return true
	}
	return false
}

func randomValue() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the kernel's RNG failing is not recoverable
	}
	return "ccci-" + hex.EncodeToString(b)
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// ExitAbsent is the exit code a data-read hook uses to say "no such key" (any other non-zero exit
// is an error).
const ExitAbsent = 3

// HookProbe is the data probe declared by a recipe overlay: two executables, data-write KEY VALUE
// and data-read KEY (prints the value; exit ExitAbsent when the key is absent). They run with the
// run's environment (CCCI_FRONTDOOR, ABRA_DIR, ...) plus CCCI_DOMAIN and CCCI_STACK of the app
// they are asked about.
type HookProbe struct {
	WritePath string
	ReadPath  string
	Env       []string
	Dir       string
	// Timeout bounds each hook run, children included (one minute when zero).
	Timeout time.Duration
}

// Write implements DataProbe.
func (h *HookProbe) Write(ctx context.Context, domain, key, value string) error {
	_, err := h.run(ctx, domain, h.WritePath, key, value)
	return err
}

// Read implements DataProbe.
func (h *HookProbe) Read(ctx context.Context, domain, key string) (string, bool, error) {
	out, err := h.run(ctx, domain, h.ReadPath, key)
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == ExitAbsent {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return strings.TrimRight(out, "\r\n"), true, nil
}

// hookWaitDelay bounds how long a killed hook's output pipes may stay open afterwards.
const hookWaitDelay = 5 * time.Second

// defaultHookTimeout bounds a hook when HookProbe.Timeout is zero: a data probe must never be
// unbounded, nor fail at once because of an unset field.
const defaultHookTimeout = time.Minute

func (h *HookProbe) run(ctx context.Context, domain, path string, args ...string) (string, error) {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = defaultHookTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(append([]string{}, h.Env...), "CCCI_DOMAIN="+domain, "CCCI_STACK="+naming.Stack(domain))
	cmd.Dir = h.Dir
	// A hook is usually a script whose children (curl, docker exec) hold its stdout open: on
	// timeout kill its whole process group, and stop waiting for the pipes soon after, or a hung
	// child would hold the run past the hook's timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = hookWaitDelay
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (after %s): %w", ctx.Err(), timeout, err)
		}
		return "", fmt.Errorf("%s %s: %w: %s", path, args[0], err, clip(strings.TrimSpace(stderr.String())))
	}
	return stdout.String(), nil
}
