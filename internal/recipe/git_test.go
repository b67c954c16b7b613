package recipe

import (
	"context"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGitCommandBuilders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name    string
		cmd     *exec.Cmd
		wantDir string
		want    []string
	}{
		{
			name: "clone takes no work tree and guards a source that looks like an option",
			cmd:  cloneCmd(ctx, "-evil", "/runs/drone-1/abra/recipes/gitea"),
			want: []string{"git", "-c", "advice.detachedHead=false", "clone", "--no-checkout", "--quiet",
				"--", "-evil", "/runs/drone-1/abra/recipes/gitea"},
		},
		{
			name:    "fetching one ref asks origin for exactly that ref",
			cmd:     fetchRefCmd(ctx, "/r", sha),
			wantDir: "/r",
			want:    []string{"git", "-c", "advice.detachedHead=false", "fetch", "--quiet", "origin", sha},
		},
		{
			name:    "refreshing a reused clone brings tags",
			cmd:     fetchTagsCmd(ctx, "/r"),
			wantDir: "/r",
			want:    []string{"git", "-c", "advice.detachedHead=false", "fetch", "--quiet", "--tags", "origin"},
		},
		{
			name:    "origin url is read from the clone",
			cmd:     originURLCmd(ctx, "/r"),
			wantDir: "/r",
			want:    []string{"git", "-c", "advice.detachedHead=false", "remote", "get-url", "origin"},
		},
		{
			name:    "resolve peels tags to the commit and stays quiet on a miss",
			cmd:     resolveCmd(ctx, "/r", "0.1.0+1.0.0"),
			wantDir: "/r",
			want:    []string{"git", "-c", "advice.detachedHead=false", "rev-parse", "--verify", "--quiet", "0.1.0+1.0.0^{commit}"},
		},
		{
			name:    "checkout is forced and detached",
			cmd:     checkoutCmd(ctx, "/r", sha),
			wantDir: "/r",
			want:    []string{"git", "-c", "advice.detachedHead=false", "checkout", "--force", "--detach", "--quiet", sha},
		},
		{
			name:    "listing all tags",
			cmd:     listTagsCmd(ctx, "/r", ""),
			wantDir: "/r",
			want:    []string{"git", "-c", "advice.detachedHead=false", "for-each-ref", "--format=" + tagsFormat, "refs/tags"},
		},
		{
			name:    "listing tags reachable from the head",
			cmd:     listTagsCmd(ctx, "/r", sha),
			wantDir: "/r",
			want: []string{"git", "-c", "advice.detachedHead=false", "for-each-ref", "--format=" + tagsFormat,
				"--merged=" + sha, "refs/tags"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.cmd.Args)
			assert.Equal(t, tt.wantDir, tt.cmd.Dir)
			assert.Contains(t, tt.cmd.Env, "GIT_TERMINAL_PROMPT=0", "git must never wait for a password")
		})
	}
}

func TestParseTagLine(t *testing.T) {
	t.Parallel()
	const c = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name   string
		line   string
		want   Release
		wantOK bool
	}{
		{name: "an annotated recipe version tag is a release", line: "tag\tcommit\t" + c + "\t0.2.0+2.0.0",
			want: Release{Tag: "0.2.0+2.0.0", Commit: c, Semver: [3]int{0, 2, 0}}, wantOK: true},
		{name: "upstream is free text", line: "tag\tcommit\t" + c + "\t12.3.40+v1.21-rootless",
			want: Release{Tag: "12.3.40+v1.21-rootless", Commit: c, Semver: [3]int{12, 3, 40}}, wantOK: true},
		{name: "a lightweight tag is not a release", line: "commit\t\t\t0.2.0+2.0.0"},
		{name: "a tag of a tree is not a release", line: "tag\ttree\t" + c + "\t0.2.0+2.0.0"},
		{name: "a version without upstream is not a recipe version", line: "tag\tcommit\t" + c + "\t0.2.0"},
		{name: "a v prefix is not a recipe version", line: "tag\tcommit\t" + c + "\tv0.2.0+2.0.0"},
		{name: "a pre-release is not a published version", line: "tag\tcommit\t" + c + "\t0.2.0-rc1+2.0.0"},
		{name: "an overflowing version number is ignored", line: "tag\tcommit\t" + c + "\t99999999999999999999.0.0+1"},
		{name: "an empty line is ignored", line: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := parseTagLine(tt.line)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}
