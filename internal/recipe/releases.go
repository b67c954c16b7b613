package recipe

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// versionTag is a Co-op Cloud recipe version: recipe semver "X.Y.Z", then "+" and the upstream
// version as free text (e.g. "0.2.0+2.0.0", "1.0.0+v1.21-rootless").
var versionTag = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)\+(\S+)$`)

// Release is a published recipe version: an annotated tag named like a recipe version.
type Release struct {
	// Tag is the tag name, e.g. "0.2.0+2.0.0".
	Tag string
	// Commit is the full SHA of the commit the tag points to.
	Commit string
	// Semver is the recipe version before the "+".
	Semver [3]int
}

// Releases lists the published releases of the clone at dir, oldest to newest by recipe semver.
// Lightweight tags and tags not named like a recipe version are ignored: Co-op Cloud publishes
// releases as annotated tags only.
func Releases(ctx context.Context, dir string) ([]Release, error) {
	return listReleases(ctx, dir, "")
}

// listReleases lists releases, only those reachable from mergedInto when it is not empty.
func listReleases(ctx context.Context, dir, mergedInto string) ([]Release, error) {
	out, err := runGit(listTagsCmd(ctx, dir, mergedInto))
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", dir, err)
	}
	var releases []Release
	for _, line := range strings.Split(out, "\n") {
		if r, ok := parseTagLine(line); ok {
			releases = append(releases, r)
		}
	}
	sort.Slice(releases, func(i, j int) bool {
		a, b := releases[i], releases[j]
		if a.Semver != b.Semver {
			return semverLess(a.Semver, b.Semver)
		}
		return a.Tag < b.Tag // same recipe version twice: keep the order deterministic
	})
	return releases, nil
}

// parseTagLine reads one line of tagsFormat; ok is false for anything but an annotated tag of a
// commit named like a recipe version.
func parseTagLine(line string) (Release, bool) {
	fields := strings.Split(line, "\t")
	if len(fields) != 4 || fields[0] != "tag" || fields[1] != "commit" {
		return Release{}, false
	}
	m := versionTag.FindStringSubmatch(fields[3])
	if m == nil {
		return Release{}, false
	}
	r := Release{Tag: fields[3], Commit: fields[2]}
	for i := range r.Semver {
		n, err := strconv.Atoi(m[i+1])
		if err != nil {
			return Release{}, false // out of range: not a version anyone published
		}
		r.Semver[i] = n
	}
	return r, true
}

func semverLess(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// UpgradeBase picks the release the ladder deploys first: the newest release (by recipe semver)
// whose commit is a proper ancestor of head. A release at head itself is not older than the PR,
// so the next older one is used. ok is false when there is none; reason then says why ("no
// published release", "only one published version (X)", "every published release … is the PR head itself"),
// and otherwise says which release was chosen and why newer ones were passed over.
func UpgradeBase(ctx context.Context, dir, head string) (base Release, ok bool, reason string, err error) {
	if err := validateRef(head); err != nil {
		return Release{}, false, "", fmt.Errorf("upgrade base in %s: %w", dir, err)
	}
	headSHA, err := resolve(ctx, dir, head)
	if err != nil {
		return Release{}, false, "", fmt.Errorf("upgrade base: %w", err)
	}
	all, err := listReleases(ctx, dir, "")
	if err != nil {
		return Release{}, false, "", err
	}
	if len(all) == 0 {
		return Release{}, false, "no published release", nil
	}
	merged, err := listReleases(ctx, dir, headSHA)
	if err != nil {
		return Release{}, false, "", err
	}
	var older []Release
	for _, r := range merged {
		if r.Commit != headSHA {
			older = append(older, r)
		}
	}
	if len(older) == 0 {
		if len(all) == 1 {
			return Release{}, false, fmt.Sprintf("only one published version (%s)", all[0].Tag), nil
		}
		// DESIGN 4.4: fall back with a recorded reason rather than skip the upgrade. A release
		// that is not an ancestor (the PR branched before it, or history was rewritten) is still
		// what operators run today.
		var others []Release
		for _, r := range all {
			if r.Commit != headSHA {
				others = append(others, r)
			}
		}
		if len(others) == 0 {
			return Release{}, false, fmt.Sprintf("every published release (%d) is the PR head itself", len(all)), nil
		}
		base = others[len(others)-1]
		return base, true, fmt.Sprintf("no release is an ancestor of the PR head; falling back to the newest other release %s", base.Tag), nil
	}
	base = older[len(older)-1]
	newest := all[len(all)-1]
	switch {
	case newest == base:
		reason = fmt.Sprintf("newest release %s is older than the PR head", base.Tag)
	case newest.Commit == headSHA:
		reason = fmt.Sprintf("newest release %s is the PR head itself; using the previous release %s", newest.Tag, base.Tag)
	default:
		reason = fmt.Sprintf("newest release %s is not an ancestor of the PR head; using %s", newest.Tag, base.Tag)
	}
	return base, true, reason, nil
}
