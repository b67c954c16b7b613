package results

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shellSplit runs words through a real bash and returns the arguments it parsed.
func shellSplit(t *testing.T, words string) []string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed: the round trip needs a real shell to parse the quoting")
	}
	out, err := exec.Command(bash, "-c", `printf '%s\0' `+words).Output()
	require.NoError(t, err)
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

func TestShellWordRoundTripsThroughARealShell(t *testing.T) {
	t.Parallel()
	values := []string{"sample", "https://git.coopcloud.tech/coop-cloud/sample.git", "", "-rf", "a b", "it's", `back\slash`,
		"$(touch /tmp/pwned)", "`id`", "new\nline", "tab\there", "\x01ctl", "ünïcødé", "'; touch /tmp/pwned; '", "*", "~", "a&&b|c;d"}
	var words []string
	for _, v := range values {
		w := ShellWord(v)
		assert.NotContains(t, w, "\n", "the command must stay on one line: %q", v)
		words = append(words, w)
	}
	assert.Equal(t, values, shellSplit(t, strings.Join(words, " ")))
}

func TestRerunCommandRepeatsTheRun(t *testing.T) {
	t.Parallel()
	sha := strings.Repeat("ab", 20)
	tests := []struct {
		name string
		r    Rerun
		want []string
	}{
		{"hostile values stay single arguments", Rerun{Forge: "gitea", Repo: "o/r$(id)", PR: "7", Ref: sha, Mode: "quick",
			Recipe: "-x; rm -rf ~", Src: "https://x/y.git'; touch /tmp/pwned; '"},
			[]string{"cc-ci-plugin", "--recipe=-x; rm -rf ~", "--src=https://x/y.git'; touch /tmp/pwned; '", "--ref=" + sha,
				"--pr=7", "--repo=o/r$(id)", "--mode=quick", "--forge=gitea"}},
		{"empty values are left out", Rerun{Recipe: "sample", Ref: sha},
			[]string{"cc-ci-plugin", "--recipe=sample", "--ref=" + sha}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := tt.r.Command()
			assert.NotContains(t, cmd, "\n")
			assert.Equal(t, tt.want, shellSplit(t, cmd))
		})
	}
}
