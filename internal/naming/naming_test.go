package naming

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDomain(t *testing.T) {
	tests := []struct {
		name, recipe, pr, ref, suffix, want string
	}{
		{"a plain recipe takes its first four letters", "gitea", "12", strings.Repeat("a", 40), "ci.local", "gite-"},
		{"punctuation is dropped from the prefix", "my_app-x", "1", strings.Repeat("b", 40), "ci.local", "myap-"},
		{"a short recipe keeps what it has", "n8n", "1", strings.Repeat("c", 40), "ci.local", "n8n-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Domain(tt.recipe, tt.pr, tt.ref, tt.suffix)
			assert.True(t, strings.HasPrefix(got, tt.want), got)
			assert.True(t, strings.HasSuffix(got, "."+tt.suffix), got)
			assert.Len(t, strings.TrimSuffix(strings.TrimPrefix(got, tt.want), "."+tt.suffix), 6)
			assert.True(t, IsCIStack(Stack(got)), "stack %s of a CI domain must be recognised", Stack(got))
		})
	}
}

func TestDomainDiffersByPRAndRef(t *testing.T) {
	ref := strings.Repeat("a", 40)
	a := Domain("gitea", "1", ref, "x")
	assert.NotEqual(t, a, Domain("gitea", "2", ref, "x"))
	assert.NotEqual(t, a, Domain("gitea", "1", strings.Repeat("b", 40), "x"))
	assert.Equal(t, a, Domain("gitea", "1", ref, "x"), "the same inputs must give the same domain")
}

func TestIsCIStack(t *testing.T) {
	tests := []struct {
		name  string
		stack string
		want  bool
	}{
		{"a CI stack is recognised", "gite-1a2b3c_ci_local", true},
		{"a warm app is never a CI stack", "warm-gitea_ci_local", false},
		{"a canonical app is never a CI stack", "gitea_example_com", false},
		{"the front door is never a CI stack", "ccci-frontdoor", false},
		{"upper-case hex is not ours", "gite-1A2B3C_ci_local", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, IsCIStack(tt.stack))
		})
	}
}

func TestDomainOfStackRoundTrips(t *testing.T) {
	d := Domain("sample", "7", strings.Repeat("f", 40), "ci.local")
	got, ok := DomainOfStack(Stack(d), "ci.local")
	assert.True(t, ok)
	assert.Equal(t, d, got)
	_, ok = DomainOfStack(Stack(d), "other.suffix")
	assert.False(t, ok)
}

func TestDomainOfStackRefusesNestedSuffixes(t *testing.T) {
	tests := []struct {
		name  string
		stack string
	}{
		{"a CI stack of another instance under a sub-suffix is not ours", "samp-84ffa5_staging_ci_coopcloud_tech"},
		{"an app merely named like a CI label under our suffix is not ours", "wiki-c0ffee_old_ci_coopcloud_tech"},
		{"a warm app is never ours", "warm-c0ffee_ci_coopcloud_tech"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ok := DomainOfStack(tt.stack, "ci.coopcloud.tech")
			assert.False(t, ok)
		})
	}
	assert.True(t, IsCIDomain("samp-84ffa5.ci.coopcloud.tech", "ci.coopcloud.tech"))
	assert.False(t, IsCIDomain("samp-84ffa5.staging.ci.coopcloud.tech", "ci.coopcloud.tech"))
	assert.False(t, IsCIDomain("warm-84ffa5.ci.coopcloud.tech", "ci.coopcloud.tech"))
}

func TestRecipesStartingWithWarmNeverLookWarm(t *testing.T) {
	d := Domain("warmup", "1", strings.Repeat("a", 40), "ci.local")
	assert.True(t, strings.HasPrefix(d, "wrm-"), d)
	assert.True(t, IsCIStack(Stack(d)))
	assert.True(t, IsCIDomain(d, "ci.local"))
}

func TestUpgradeDomainIsASecondCIAppOfTheSameRun(t *testing.T) {
	ref := "0123456789abcdef0123456789abcdef01234567"
	fresh := Domain("gitea", "7", ref, "ci.example.org")
	up := UpgradeDomain("gitea", "7", ref, "ci.example.org")
	if up == fresh {
		t.Fatalf("the upgrade app must not share the fresh app's domain %s", fresh)
	}
	if !IsCIStack(Stack(up)) || !IsCIDomain(up, "ci.example.org") {
		t.Fatalf("the janitor must know %s as a CI app", up)
	}
	if got, ok := DomainOfStack(Stack(up), "ci.example.org"); !ok || got != up {
		t.Fatalf("DomainOfStack(%s) = %q, %v", Stack(up), got, ok)
	}
}
