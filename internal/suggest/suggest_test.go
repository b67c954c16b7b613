package suggest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNearest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		got   string
		valid []string
		want  string
	}{
		{"a one-letter typo names the key it was meant to be", "recipie", []string{"repo", "recipe"}, "recipe"},
		{"a dropped letter names the key", "githb", []string{"github", "gitea"}, "github"},
		{"a swapped pair of letters still finds the key", "raeson", []string{"tier", "reason"}, "reason"},
		{"of equally near keys the first in valid wins", "ab", []string{"xb", "ax"}, "xb"},
		{"the tie-break follows the order given", "ab", []string{"ax", "xb"}, "ax"},
		{"case counts: an upper-case letter is one edit away", "expected_nA", []string{"redirect_hosts", "expected_na"}, "expected_na"},
		{"an exact key is its own nearest", "gitea", []string{"github", "gitea"}, "gitea"},
		{"no valid keys means no suggestion", "anything", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, Nearest(tt.got, tt.valid))
		})
	}
}

func TestDistance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b string
		want int
	}{
		{"equal strings are zero apart", "recipe", "recipe", 0},
		{"the empty string is as far as the other's length", "", "repo", 4},
		{"and the same the other way round", "repo", "", 4},
		{"one substitution is one edit", "tier", "tiar", 1},
		{"one insertion is one edit", "githb", "github", 1},
		{"a transposition is two edits", "raeson", "reason", 2},
		{"kitten to sitting is the textbook three", "kitten", "sitting", 3},
		{"bytes, not runes: é is two bytes from e", "é", "e", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, distance(tt.a, tt.b))
			assert.Equal(t, tt.want, distance(tt.b, tt.a), "distance is symmetric")
		})
	}
}
