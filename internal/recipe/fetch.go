package recipe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrUnknownRef is wrapped by Fetch when the source has no such commit: bad input, not a broken
// network.
var ErrUnknownRef = errors.New("unknown ref")

// fullSHA is a pinned commit as the bridge passes it in CCCI_REF.
var fullSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

// Fetch clones src (a URL or a local path) into dest without a work tree, makes sure ref is
// present (fetching it from origin when the clone lacks it, so a PR head that only a fork has still
// works), and checks it out detached. It returns the full SHA checked out.
//
// dest belongs to one run only (its private recipes/ dir): nothing here touches any other clone.
// A dest already cloned from the same src is reused, so re-running a run keeps working.
func Fetch(ctx context.Context, src, dest, ref string) (string, error) {
	if src == "" {
		return "", errors.New("fetch recipe: empty source")
	}
	if err := validateRef(ref); err != nil {
		return "", fmt.Errorf("fetch %s: %w", src, err)
	}
	abs, err := filepath.Abs(dest)
	if err != nil {
		return "", fmt.Errorf("fetch %s: dest %q: %w", src, dest, err)
	}
	dest = abs
	if err := cloneOrReuse(ctx, src, dest); err != nil {
		return "", err
	}
	sha, err := ensureRef(ctx, dest, src, ref)
	if err != nil {
		return "", err
	}
	return checkout(ctx, dest, sha)
}

// ensureRef returns the commit ref names in the clone at dir. A full SHA already in the clone is
// used as is; anything else (or a SHA the clone lacks) is fetched from origin, so a branch name
// means origin's branch now, not a stale local copy. When that fetch fails, a name the clone
// already resolves (an abbreviated SHA, which cannot be fetched) still counts.
func ensureRef(ctx context.Context, dir, src, ref string) (string, error) {
	if fullSHA.MatchString(ref) {
		if sha, err := resolve(ctx, dir, ref); err == nil {
			return sha, nil
		}
	}
	_, ferr := runGit(fetchRefCmd(ctx, dir, ref))
	if ferr == nil {
		sha, err := resolve(ctx, dir, "FETCH_HEAD")
		if err != nil {
			return "", fmt.Errorf("ref %s fetched from %s is not a commit: %w", ref, src, err)
		}
		return sha, nil
	}
	if !fullSHA.MatchString(ref) {
		if sha, err := resolve(ctx, dir, ref); err == nil {
			return sha, nil
		}
	}
	return "", fmt.Errorf("ref %s is not in %s: push it or pin the PR head SHA: %w: %w", ref, src, ErrUnknownRef, ferr)
}

// cloneOrReuse clones src into dest, or refreshes dest when it is already a clone of src.
func cloneOrReuse(ctx context.Context, src, dest string) error {
	if _, err := os.Stat(filepath.Join(dest, ".git")); err != nil {
		if _, err := runGit(cloneCmd(ctx, src, dest)); err != nil {
			return fmt.Errorf("clone %s into %s: %w", src, dest, err)
		}
		return nil
	}
	origin, err := runGit(originURLCmd(ctx, dest))
	if err != nil {
		return fmt.Errorf("reuse clone %s: %w", dest, err)
	}
	if origin != src {
		return fmt.Errorf("%s is a clone of %s, not %s: remove it", dest, origin, src)
	}
	if _, err := runGit(fetchTagsCmd(ctx, dest)); err != nil {
		return fmt.Errorf("refresh %s from %s: %w", dest, src, err)
	}
	return nil
}

// Checkout checks out ref (already present in the clone at dir) detached, discarding local changes
// to tracked files, and returns the full SHA checked out.
func Checkout(ctx context.Context, dir, ref string) (string, error) {
	if err := validateRef(ref); err != nil {
		return "", fmt.Errorf("checkout in %s: %w", dir, err)
	}
	sha, err := resolve(ctx, dir, ref)
	if err != nil {
		return "", fmt.Errorf("checkout %s in %s: %w", ref, dir, err)
	}
	return checkout(ctx, dir, sha)
}

// checkout checks out the resolved sha and confirms HEAD landed there.
func checkout(ctx context.Context, dir, sha string) (string, error) {
	if _, err := runGit(checkoutCmd(ctx, dir, sha)); err != nil {
		return "", fmt.Errorf("checkout %s in %s: %w", sha, dir, err)
	}
	head, err := Head(ctx, dir)
	if err != nil {
		return "", err
	}
	if head != sha {
		return "", fmt.Errorf("checkout %s in %s: HEAD is %s", sha, dir, head)
	}
	return head, nil
}

// Head returns the full SHA of the commit checked out in dir.
func Head(ctx context.Context, dir string) (string, error) {
	sha, err := runGit(resolveCmd(ctx, dir, "HEAD"))
	if err != nil {
		return "", fmt.Errorf("read HEAD of %s: %w", dir, err)
	}
	return sha, nil
}

// resolve returns the full SHA of the commit ref names in dir.
func resolve(ctx context.Context, dir, ref string) (string, error) {
	sha, err := runGit(resolveCmd(ctx, dir, ref))
	if err != nil {
		return "", fmt.Errorf("ref %s not found in %s: %w", ref, dir, err)
	}
	return sha, nil
}

// validateRef rejects refs git would read as an option or that cannot name anything.
func validateRef(ref string) error {
	switch {
	case ref == "":
		return errors.New("empty ref")
	case strings.HasPrefix(ref, "-"):
		return fmt.Errorf("ref %q: must not start with '-'", ref)
	case strings.ContainsAny(ref, " \t\n\x00"):
		return fmt.Errorf("ref %q: contains whitespace", ref)
	}
	return nil
}
