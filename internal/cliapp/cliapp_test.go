package cliapp

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/urfave/cli/v2"
)

func newApp(action cli.ActionFunc) *cli.App {
	app := &cli.App{Name: "tool", Flags: []cli.Flag{&cli.StringFlag{Name: "x"}}, Action: action}
	Harden(app)
	return app
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		action   cli.ActionFunc
		want     int
		wantText string
	}{
		{"a clean run returns the binary's own code", []string{"tool"}, func(*cli.Context) error { return nil }, 7, ""},
		{"an unknown flag is bad input", []string{"tool", "--nope"}, func(*cli.Context) error { return nil }, 2, "see --help"},
		{"a positional argument is bad input", []string{"tool", "extra"}, NoArgs, 2, "unexpected arguments"},
		{"a settings problem is bad input naming it", []string{"tool"}, func(c *cli.Context) error {
			var p Problems
			p.Add("x is missing: set X")
			return Validated(c, p.Err())
		}, 2, "x is missing: set X"},
		{"an exit error keeps its code", []string{"tool"}, func(*cli.Context) error { return cli.Exit("boom", 3) }, 3, "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			app := newApp(tt.action)
			app.Writer, app.ErrWriter = &stderr, &stderr
			got := Run(app, tt.args, &stderr, func() int { return 7 })
			assert.Equal(t, tt.want, got)
			assert.Contains(t, stderr.String(), tt.wantText)
		})
	}
}

func TestProblemsErr(t *testing.T) {
	var p Problems
	assert.NoError(t, p.Err())
	p.Add("a %d", 1)
	p.Add("b")
	err := p.Err()
	assert.True(t, IsConfigError(err))
	assert.Equal(t, "invalid settings:\n  - a 1\n  - b", err.Error())
}

func TestUndocumented(t *testing.T) {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "ok", EnvVars: []string{"OK"}},
		&cli.StringFlag{Name: "bare"},
		&cli.StringFlag{Name: "hidden", EnvVars: []string{"HIDDEN"}},
	}
	help := "--ok value [$OK]\n--bare value\n"
	assert.Equal(t, []string{"--bare has no env var", "--hidden is not in --help", "$HIDDEN of --hidden is not in --help"},
		Undocumented(flags, help))
}
