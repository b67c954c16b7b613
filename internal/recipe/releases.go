package recipe

import (
	"context"
	"fmt"
	"regexp"
	"slices"
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

// Base is where the upgrade path starts: a release (Tag set) or, when no release can serve, the
// default branch's tip (Tag empty, Commit set). Reason records every step of the chain tried.
type Base struct {
	Tag    string
	Commit string
	Reason string
}

// UpgradeBase walks the base chain (DESIGN.md 4.4) and returns the first base that holds:
//  1. override, when set (a release tag or a commit; never the head itself);
//  2. the newest release (by recipe semver) whose commit is a proper ancestor of head;
//  3. the default branch's tip (origin/HEAD), when it differs from head and is not newer than
//     it (an ancestor of head, or a branch the PR forked from before it moved on);
//  4. none: ok is false and Reason says why, so the ladder records a gap.
//
// A base is never newer than the head: a release that is not an ancestor of the head is passed
// over (upgrading "from" it would be a downgrade reported as an upgrade).
func UpgradeBase(ctx context.Context, dir, head, override string) (base Base, ok bool, err error) {
	return UpgradeBaseFrom(ctx, dir, head, override, "")
}

// UpgradeBaseFrom is UpgradeBase with the recipe's last green canonical (a release tag, "" when
// there is none) tried right after the override: a release cc-ci has proven green is where an
// upgrade is best proven from, as long as it is an ancestor of the head and not the head.
func UpgradeBaseFrom(ctx context.Context, dir, head, override, canonical string) (base Base, ok bool, err error) {
	if err := validateRef(head); err != nil {
		return Base{}, false, fmt.Errorf("upgrade base in %s: %w", dir, err)
	}
	headSHA, err := resolve(ctx, dir, head)
	if err != nil {
		return Base{}, false, fmt.Errorf("upgrade base: %w", err)
	}
	var steps []string
	done := func(b Base, ok bool) (Base, bool, error) {
		b.Reason = strings.Join(steps, "; ")
		return b, ok, nil
	}
	if override != "" {
		b, err := overrideBase(ctx, dir, override, headSHA)
		if err != nil {
			return Base{}, false, err
		}
		steps = append(steps, "explicit override "+override)
		return done(b, true)
	}
	steps = append(steps, "no explicit override")
	all, err := listReleases(ctx, dir, "")
	if err != nil {
		return Base{}, false, err
	}
	merged, err := listReleases(ctx, dir, headSHA)
	if err != nil {
		return Base{}, false, err
	}
	var older []Release
	for _, r := range merged {
		if r.Commit != headSHA {
			older = append(older, r)
		}
	}
	if canonical != "" {
		if i := slices.IndexFunc(older, func(r Release) bool { return r.Tag == canonical }); i >= 0 {
			steps = append(steps, fmt.Sprintf("last green canonical %s is an ancestor of the PR head", canonical))
			return done(Base{Tag: older[i].Tag, Commit: older[i].Commit}, true)
		}
		steps = append(steps, fmt.Sprintf("last green canonical %s is not an older release on the PR head's history (the head itself, newer, or not in this clone)", canonical))
	}
	if len(older) > 0 {
		b := older[len(older)-1]
		steps = append(steps, releaseStep(all, b, headSHA))
		return done(Base{Tag: b.Tag, Commit: b.Commit}, true)
	}
	switch {
	case len(all) == 0:
		steps = append(steps, "no published release")
	case len(merged) > 0:
		steps = append(steps, fmt.Sprintf("the only release that is an ancestor of the PR head is the head itself (%s)", merged[len(merged)-1].Tag))
	default:
		steps = append(steps, fmt.Sprintf("no published release is an ancestor of the PR head (newest: %s); a newer base would be a downgrade", all[len(all)-1].Tag))
	}
	tip, tipOK, why := defaultTip(ctx, dir, headSHA)
	steps = append(steps, why)
	if tipOK {
		return done(Base{Commit: tip}, true)
	}
	return done(Base{}, false)
}

func releaseStep(all []Release, b Release, headSHA string) string {
	newest := all[len(all)-1]
	switch {
	case newest == b:
		return fmt.Sprintf("newest release %s is an ancestor of the PR head", b.Tag)
	case newest.Commit == headSHA:
		return fmt.Sprintf("newest release %s is the PR head itself; using the previous release %s", newest.Tag, b.Tag)
	default:
		return fmt.Sprintf("newest release %s is not an ancestor of the PR head; using %s, the newest that is", newest.Tag, b.Tag)
	}
}

// overrideBase resolves an explicit base: a release tag or a commit, never the head itself.
func overrideBase(ctx context.Context, dir, override, headSHA string) (Base, error) {
	if err := validateRef(override); err != nil {
		return Base{}, fmt.Errorf("upgrade base override: %w", err)
	}
	sha, err := resolve(ctx, dir, override)
	if err != nil {
		return Base{}, fmt.Errorf("upgrade base override %s: %w", override, err)
	}
	if sha == headSHA {
		return Base{}, fmt.Errorf("upgrade base override %s is the PR head itself: an upgrade needs an older base", override)
	}
	all, err := listReleases(ctx, dir, "")
	if err != nil {
		return Base{}, err
	}
	for _, r := range all {
		if r.Tag == override {
			return Base{Tag: r.Tag, Commit: r.Commit}, nil
		}
	}
	return Base{Commit: sha}, nil
}

// defaultTip returns the default branch's tip when it can serve as the base.
func defaultTip(ctx context.Context, dir, headSHA string) (string, bool, string) {
	tip, err := resolve(ctx, dir, "refs/remotes/origin/HEAD")
	if err != nil {
		return "", false, "the clone has no default branch (origin/HEAD)"
	}
	if tip == headSHA {
		return "", false, "the default branch's tip is the PR head itself"
	}
	if _, err := runGit(gitCmd(ctx, dir, "merge-base", "--is-ancestor", headSHA, tip)); err == nil {
		return "", false, fmt.Sprintf("the default branch's tip %s already contains the PR head: it is newer, not a base", tip[:12])
	}
	return tip, true, fmt.Sprintf("using the default branch's tip %s", tip[:12])
}

// VersionAt returns the newest release tag pointing at commit, "" when commit is no release: a
// run of a released version records it, so later summaries can say "since 0.2.0+2.0.0".
func VersionAt(ctx context.Context, dir, commit string) (string, error) {
	releases, err := Releases(ctx, dir)
	if err != nil {
		return "", err
	}
	for i := len(releases) - 1; i >= 0; i-- {
		if releases[i].Commit == commit {
			return releases[i].Tag, nil
		}
	}
	return "", nil
}
