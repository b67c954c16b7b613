package testkit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// PluginImage is the tag BuildPluginImage gives the plugin's TEST image: the real cc-ci-plugin
// with the FAKE abra in abra's place. It is never the production tag (.drone.yml's
// cc-ci-plugin:local, built by Nix with the real abra), so building it on a CI host cannot
// replace the image real recipe runs use.
const PluginImage = "cc-ci-plugin:fake-abra"

// Paths inside the plugin image.
const (
	// ImagePluginPath is the image's entrypoint.
	ImagePluginPath = "/usr/local/bin/cc-ci-plugin"
	// ImageAbraPath is where the FAKE abra sits, first on the image's PATH as `abra`.
	ImageAbraPath = "/usr/local/bin/abra"
	// ImageOverlaysDir holds this repo's recipes/ (the per-recipe overlays); the image's
	// CCCI_OVERLAYS_DIR points there.
	ImageOverlaysDir = "/usr/share/cc-ci/recipes"
	// imagePath is the image's PATH: the plugin and the fake abra, then the copied host tools
	// and busybox's applets.
	imagePath = "/usr/local/bin:/usr/bin:/bin"
)

// pluginImageDockerfile is the whole image: one layer of the assembled root file system.
// Docker's legacy builder, FROM scratch: nothing is pulled.
var pluginImageDockerfile = "FROM scratch\nCOPY rootfs/ /\n" +
	"ENV PATH=" + imagePath + " HOME=/root CCCI_OVERLAYS_DIR=" + ImageOverlaysDir + "\n" +
	"ENTRYPOINT [\"" + ImagePluginPath + "\"]\n"

// BuildPluginImage builds the plugin's OCI image without Nix and without pulling anything
// (docs/image.md) and returns its tag (PluginImage): FROM scratch, the static cc-ci-plugin
// (CGO_ENABLED=0) as entrypoint, the FAKE abra as abra, the host's git (with git-core's remote
// helpers), docker CLI (the fake abra deploys with `docker stack deploy`) and curl (the overlay
// hooks use it), each with the shared libraries ldd lists, busybox-static as /bin/sh and its
// applets, the host's CA certificates, and this repo's recipes/ overlays. Chromium is left
// out: browser checks then report unverified, the landing screenshot is skipped.
//
// An image whose inputs are unchanged is left alone. A host-wide lock keeps concurrent test
// processes from building it twice at once.
func BuildPluginImage(ctx context.Context) (string, error) {
	unlock, err := lockFile(ctx, filepath.Join(os.TempDir(), "ccci-testkit-plugin-image.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	root, err := RepoRoot(ctx)
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp("", "ccci-plugin-image-")
	if err != nil {
		return "", fmt.Errorf("build plugin image: %w", err)
	}
	defer os.RemoveAll(tmp)
	rootfs := filepath.Join(tmp, "rootfs")
	if err := assembleRootfs(ctx, root, rootfs); err != nil {
		return "", fmt.Errorf("build plugin image: %w", err)
	}
	if err := buildTreeImage(ctx, tmp, PluginImage, pluginImageDockerfile); err != nil {
		return "", err
	}
	return PluginImage, nil
}

// BuildCommand builds one cc-ci command, named by its module and binary
// ("janitor/cc-ci-janitor"), as a static binary into dir and returns its path.
func BuildCommand(ctx context.Context, command, dir string) (string, error) {
	root, err := RepoRoot(ctx)
	if err != nil {
		return "", err
	}
	module, name := filepath.Split(command)
	if module == "" || name == "" {
		return "", fmt.Errorf("build %q: name a command as <module>/<binary>", command)
	}
	out, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		return "", fmt.Errorf("build %s: %w", command, err)
	}
	if err := goBuild(ctx, filepath.Join(root, module, "cmd", name), out); err != nil {
		return "", err
	}
	return out, nil
}

// RepoRoot is the root of this repository (the directory holding go.work), found from this
// package's source directory, never from the working directory.
func RepoRoot(ctx context.Context) (string, error) {
	src, err := sourceDir(ctx)
	if err != nil {
		return "", err
	}
	root := filepath.Clean(filepath.Join(src, "..", ".."))
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		return "", fmt.Errorf("repo root %s has no go.work: %w", root, err)
	}
	return root, nil
}

// assembleRootfs lays the image's root file system out under rootfs.
func assembleRootfs(ctx context.Context, repo, rootfs string) error {
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		return err
	}
	fsys := &imageFS{root: rootfs, copied: map[string]bool{}}
	// Debian's merged /usr: /bin, /lib, /lib64 and /sbin are symlinks into /usr. Mirroring them
	// keeps every path ldd prints (/lib/x86_64-linux-gnu/..., /lib64/ld-linux-x86-64.so.2)
	// valid inside the image.
	if err := fsys.mirrorTopLevelLinks(); err != nil {
		return err
	}
	if err := goBuild(ctx, filepath.Join(repo, "plugin", "cmd", "cc-ci-plugin"), fsys.path(ImagePluginPath)); err != nil {
		return err
	}
	src, err := sourceDir(ctx)
	if err != nil {
		return err
	}
	if err := goBuild(ctx, filepath.Join(src, "fakeabra"), fsys.path(ImageAbraPath)); err != nil {
		return err
	}
	for _, p := range hostTools {
		if err := fsys.copyHost(p); err != nil {
			return fmt.Errorf("copy %s from the host (installed by .ci/run): %w", p, err)
		}
	}
	for _, d := range hostTrees {
		if err := fsys.copyTree(d); err != nil {
			return fmt.Errorf("copy %s from the host (installed by .ci/run): %w", d, err)
		}
	}
	if err := fsys.copyLibraries(ctx); err != nil {
		return err
	}
	if err := fsys.linkBusyboxApplets(ctx); err != nil {
		return err
	}
	if err := fsys.writeSystemFiles(); err != nil {
		return err
	}
	return copyOverlays(filepath.Join(repo, "recipes"), fsys.path(ImageOverlaysDir))
}

// buildTreeImage builds contextDir (a Dockerfile's COPY sources) as tag with the legacy
// builder, unless an image with the same input hash already carries the tag.
func buildTreeImage(ctx context.Context, contextDir, tag, dockerfile string) error {
	hash, err := treeHash(contextDir, dockerfile)
	if err != nil {
		return fmt.Errorf("build %s: %w", tag, err)
	}
	have, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format",
		`{{index .Config.Labels "`+hashLabel+`"}}`, tag).Output()
	if err == nil && strings.TrimSpace(string(have)) == hash {
		return nil
	}
	df := filepath.Join(contextDir, "Dockerfile")
	if err := os.WriteFile(df, []byte(dockerfile+"LABEL "+hashLabel+"="+hash+"\n"), 0o644); err != nil {
		return fmt.Errorf("build %s: %w", tag, err)
	}
	cmd := exec.CommandContext(ctx, "docker", "build", "--quiet", "--tag", tag, "--file", df, contextDir)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("docker build %s: %w: %s", tag, err, bytes.TrimSpace(b))
	}
	return nil
}

// treeHash hashes the Dockerfile and every entry under dir: path, mode, and the link target or
// the content.
func treeHash(dir, dockerfile string) (string, error) {
	h := sha256.New()
	h.Write([]byte(dockerfile))
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%o\x00", rel, info.Mode())
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			h.Write([]byte(target))
		case info.Mode().IsRegular():
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			_, err = io.Copy(h, f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
		h.Write([]byte{0})
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}
