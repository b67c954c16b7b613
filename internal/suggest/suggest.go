// Package suggest finds the "did you mean" for a misspelt key: the valid word closest to what was
// typed. Strict config readers (the plugin's recipe overlay, the bridge's enrolment file) refuse an
// unknown key, because a typo silently ignored would change what runs; naming the nearest valid
// key makes that refusal easy to act on.
package suggest

// Nearest returns the word of valid with the smallest edit distance to got; of equally near
// words, the first in valid (a caller that wants another tie-break orders valid first). It
// returns "" when valid is empty. Comparison is byte for byte and case-sensitive: the keys it
// serves are ASCII, and a caller that ignores case lowers got first.
func Nearest(got string, valid []string) string {
	best, bestD := "", -1
	for _, v := range valid {
		if d := distance(got, v); bestD < 0 || d < bestD {
			best, bestD = v, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b over bytes: the fewest single-byte
// insertions, deletions and substitutions that turn a into b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
