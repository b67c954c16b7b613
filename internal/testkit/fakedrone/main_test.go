package fakedrone_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drone/drone-go/drone"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/internal/testkit/fakedrone"
)

// The repository and commit every test builds.
const (
	owner = "coop-cloud"
	name  = "cc-ci"
	sha   = "0123456789abcdef0123456789abcdef01234567"
)

// leakVar is set in this process only: a step must never see it (only PATH and USER pass).
const leakVar = "FAKEDRONE_TEST_SECRET"

// helperEnv is the env switch that turns the test binary into a step helper (see helper).
const helperEnv = "FAKEDRONE_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	if err := os.Setenv(leakVar, "must-not-leak"); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// helper is the step the exec tests run (this test binary, re-executed):
//
//	env     print the working directory and the environment, exit $FAKEDRONE_EXIT
//	block   write the pid to $FAKEDRONE_PIDFILE, then wait for SIGTERM and exit 143, or
//	        ignore it when $FAKEDRONE_IGNORE_TERM is set
//	orphan  start a "late" helper that shares stdout, then exit 0 at once
//	late    print "late line" after $FAKEDRONE_LATE (a Go duration; "forever" never)
func helper(mode string) int {
	switch mode {
	case "env":
		wd, _ := os.Getwd()
		fmt.Println("PWD_IS=" + wd)
		env := os.Environ()
		sort.Strings(env)
		for _, kv := range env {
			fmt.Println(kv)
		}
		code, _ := strconv.Atoi(os.Getenv("FAKEDRONE_EXIT"))
		return code
	case "block":
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGTERM)
		pidfile := os.Getenv("FAKEDRONE_PIDFILE")
		if err := os.WriteFile(pidfile+".tmp", []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
			return 10
		}
		if err := os.Rename(pidfile+".tmp", pidfile); err != nil {
			return 10
		}
		fmt.Println("blocking")
		for range sigs {
			if os.Getenv("FAKEDRONE_IGNORE_TERM") != "" {
				fmt.Println("ignoring SIGTERM")
				continue
			}
			fmt.Println("got SIGTERM, exiting")
			return 143
		}
	case "orphan":
		exe, _ := os.Executable()
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), helperEnv+"=late")
		cmd.Stdout = os.Stdout
		if err := cmd.Start(); err != nil {
			return 10
		}
		fmt.Println("step exits")
		return 0
	case "late":
		if d, err := time.ParseDuration(os.Getenv("FAKEDRONE_LATE")); err == nil {
			time.Sleep(d) // stands for a slow teardown in a process the step left behind
			fmt.Println("late line")
			return 0
		}
		select {}
	}
	return 10
}

// start starts a fake server closed at the end of the test.
func start(t *testing.T, cfg fakedrone.Config) *fakedrone.Server {
	t.Helper()
	s := fakedrone.New(cfg)
	t.Cleanup(s.Close)
	return s
}

// deadline is the test's context for waits: generous, so only a real hang fails it.
func deadline(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// helperRunner runs this test binary as the step, in helper mode mode.
func helperRunner(t *testing.T, mode string, c fakedrone.ExecConfig) fakedrone.Runner {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	c.Bin = exe
	c.Env = append(c.Env, helperEnv+"="+mode,
		// Under -race a binary sleeps 1s at exit by default; helpers need not.
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	return c.Runner()
}

// createAndWait creates a build with params and waits for it to finish.
func createAndWait(t *testing.T, s *fakedrone.Server, params map[string]string) drone.Build {
	t.Helper()
	b, err := s.Client().BuildCreate(owner, name, sha, "", params)
	require.NoError(t, err)
	done, err := s.WaitFinished(deadline(t), owner, name, b.Number)
	require.NoError(t, err)
	return done
}

// stepOf is stage 1 step 1 of a build with stages, failing the test when it is missing.
func stepOf(t *testing.T, b drone.Build) *drone.Step {
	t.Helper()
	require.Len(t, b.Stages, 1)
	require.Len(t, b.Stages[0].Steps, 1)
	return b.Stages[0].Steps[0]
}
