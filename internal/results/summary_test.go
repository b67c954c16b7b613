package results

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCodeFence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"text without backticks gets the shortest fence CommonMark allows", "plain log", "```"},
		{"a run shorter than three still gets three", "a `code` span and ``two``", "```"},
		{"a run of three needs a fence of four", "```\n# heading", "````"},
		{"the longest run decides, wherever it stands", "`` ````` `", "``````"},
		{"separate runs do not add up", "`` `` ``", "```"},
		{"an empty body gets three", "", "```"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, CodeFence(tt.in))
		})
	}
}
