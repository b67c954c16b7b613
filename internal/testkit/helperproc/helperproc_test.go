package helperproc

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	if os.Getenv("HELPERPROC_TEST") == "echo" {
		fmt.Println("hello")
		_, _ = os.Stdin.Read(make([]byte, 1)) // hold until stdin is written or closed
		fmt.Println("bye")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestHelperLinesStdinAndExit(t *testing.T) {
	p := Start(t, Command(t, context.Background(), "HELPERPROC_TEST=echo"))
	assert.Equal(t, "hello", p.Next(t, 10*time.Second))
	require.NoError(t, p.Stdin.Close())
	assert.Equal(t, "bye", p.Next(t, 10*time.Second))
	assert.NoError(t, p.Wait())
}

func TestKillReportsSIGKILL(t *testing.T) {
	p := Start(t, Command(t, context.Background(), "HELPERPROC_TEST=echo"))
	assert.Equal(t, "hello", p.Next(t, 10*time.Second))
	p.Kill(t)
	assert.Error(t, p.Wait(), "Wait keeps reporting the kill")
}
