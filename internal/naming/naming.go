// Package naming derives every name cc-ci gives to things on the shared swarm: app domains, stack
// names and the patterns the janitor uses to recognise what a CI run created. One place, so the
// plugin and the janitor can never disagree.
package naming

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// MaxSwarmName is Docker's limit for service, secret, config and network names.
const MaxSwarmName = 64

// WarmPrefix marks long-lived apps that the janitor never touches.
const WarmPrefix = "warm-"

// Domain returns the app domain of one run: "<first 4 letters of recipe>-<6 hex>.<suffix>", where
// the hex is sha256("recipe|pr|ref"). The hash keys the app to the exact commit under test, so two
// PRs (or two pushes to one PR) never share a deployment, and the fixed length keeps swarm names
// short whatever the recipe is called.
func Domain(recipe, pr, ref, suffix string) string {
	sum := sha256.Sum256([]byte(recipe + "|" + pr + "|" + ref))
	return fmt.Sprintf("%s-%s.%s", prefix4(recipe), hex.EncodeToString(sum[:])[:6], suffix)
}

// UpgradeDomain returns the domain of the run's second app, the one installed at the upgrade
// base and upgraded to the PR head: named like Domain (so the janitor knows it as a CI app) from
// a hash that cannot collide with the fresh install's.
func UpgradeDomain(recipe, pr, ref, suffix string) string {
	return Domain(recipe, pr, ref+"|upgrade", suffix)
}

// WarmDomain is the domain of recipe's long-lived warm app, which quick runs reuse and the
// janitor never touches.
func WarmDomain(recipe, suffix string) string { return WarmPrefix + recipe + "." + suffix }

// prefix4 is the recipe's first four letters and digits; "warm" becomes "wrm" so no CI app is
// ever named like a long-lived warm-* app (which the janitor must never reap).
func prefix4(recipe string) string {
	p := alnum4(recipe)
	if p == strings.TrimSuffix(WarmPrefix, "-") {
		return "wrm"
	}
	return p
}

func alnum4(recipe string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(recipe) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
		if b.Len() == 4 {
			break
		}
	}
	return b.String()
}

// Stack returns the swarm stack name abra uses for a domain: dots become underscores.
func Stack(domain string) string {
	return strings.ReplaceAll(domain, ".", "_")
}

// SecretName returns the docker secret name abra creates for a recipe secret: <stack>_<name>_<version>.
func SecretName(stack, name, version string) string {
	return stack + "_" + name + "_" + version
}

// ciStack matches stacks created by CI runs: "<1-4 alnum>-<6 hex>_<suffix with underscores>".
var ciStack = regexp.MustCompile(`^[a-z0-9]{1,4}-[0-9a-f]{6}_[a-z0-9_-]+$`)

// ciLabel is the first DNS label of a CI domain, exactly: "<1-4 alnum>-<6 hex>".
var ciLabel = regexp.MustCompile(`^[a-z0-9]{1,4}-[0-9a-f]{6}$`)

// IsCIStack reports whether a stack name was made by Domain+Stack (and so may be reaped by the
// janitor). warm-* and any canonical name never match.
func IsCIStack(stack string) bool {
	return !strings.HasPrefix(stack, WarmPrefix) && ciStack.MatchString(stack)
}

// DomainOfStack reverses Stack for a CI stack of this suffix. What is left after the suffix must
// be exactly one CI label: "samp-1a2b3c_staging_<suffix>" belongs to another instance (or to
// nobody) and is not ours to reap.
func DomainOfStack(stack, suffix string) (string, bool) {
	tail := "_" + Stack(suffix)
	if !IsCIStack(stack) || !strings.HasSuffix(stack, tail) {
		return "", false
	}
	label := strings.TrimSuffix(stack, tail)
	if !ciLabel.MatchString(label) {
		return "", false
	}
	return label + "." + suffix, true
}

// IsCIDomain reports whether domain is a CI app domain of this suffix (exactly one CI label in
// front of it), the same rule as DomainOfStack.
func IsCIDomain(domain, suffix string) bool {
	label, ok := strings.CutSuffix(domain, "."+suffix)
	return ok && ciLabel.MatchString(label) && !strings.HasPrefix(label, WarmPrefix)
}
