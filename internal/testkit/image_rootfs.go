package testkit

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// hostTools are the host's programs and files the plugin image carries, by their host path. Debian
// ships no static git, docker CLI or curl: they are copied with the shared libraries ldd lists
// (copyLibraries). busybox-static is static already.
var hostTools = []string{
	"/usr/bin/git",                       // internal/recipe fetches recipes with the git CLI; the fake abra reads tags
	"/usr/bin/docker",                    // the FAKE abra deploys with `docker stack deploy` (the real abra does not need it)
	"/usr/bin/curl",                      // recipes/*/hooks talk to the front door with curl
	busyboxPath,                          // /bin/sh and the file tools the hooks use (mktemp, grep, cat, ...)
	"/etc/ssl/certs/ca-certificates.crt", // Debian's CA bundle: git and curl over https
}

// hostTrees are whole host directories the image carries: git's helpers (git-remote-https for
// https:// recipe sources, git-upload-pack for local ones) and its repository templates.
var hostTrees = []string{"/usr/lib/git-core", "/usr/share/git-core/templates"}

// imageFS is the image's root file system being assembled on the host.
type imageFS struct {
	root   string
	copied map[string]bool // host paths already copied
}

// path is where the image path p lives under the root.
func (f *imageFS) path(p string) string { return filepath.Join(f.root, p) }

// mirrorTopLevelLinks recreates the host's top-level symlinks (/bin -> usr/bin, ...).
func (f *imageFS) mirrorTopLevelLinks() error {
	for _, name := range []string{"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"} {
		info, err := os.Lstat(name)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && info.Mode()&fs.ModeSymlink == 0) {
			continue
		}
		if err != nil {
			return err
		}
		target, err := os.Readlink(name)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, f.path(name)); err != nil {
			return err
		}
	}
	return nil
}

// copyHost copies the host file p to the same path in the image. A symlink is recreated as it
// is and its target copied too; the parent directories are resolved the way the host resolves
// them, so the copy lands where the mirrored top-level links point.
func (f *imageFS) copyHost(p string) error {
	if f.copied[p] {
		return nil
	}
	f.copied[p] = true
	parent, err := filepath.EvalSymlinks(filepath.Dir(p))
	if err != nil {
		return err
	}
	dst := f.path(filepath.Join(parent, filepath.Base(p)))
	info, err := os.Lstat(p)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		if _, err := os.Lstat(dst); errors.Is(err, fs.ErrNotExist) {
			if err := os.Symlink(target, dst); err != nil {
				return err
			}
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(parent, target)
		}
		return f.copyHost(target)
	case info.Mode().IsRegular():
		return copyMode(p, dst, info.Mode().Perm())
	default:
		return fmt.Errorf("%s is neither a file nor a symlink", p)
	}
}

// copyTree copies the host directory dir, keeping symlinks as symlinks.
func (f *imageFS) copyTree(dir string) error {
	base, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	return filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		f.copied[p] = true
		dst := f.path(p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case info.Mode().IsRegular():
			return copyMode(p, dst, info.Mode().Perm())
		}
		return nil
	})
}

// copyLibraries copies the shared libraries (and the dynamic loader) every dynamically linked
// program in the image needs, as ldd lists them on the host. ldd prints the whole closure, so one
// pass suffices.
func (f *imageFS) copyLibraries(ctx context.Context) error {
	var elves []string
	err := filepath.WalkDir(f.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		if ok, err := isELF(p); err != nil || !ok {
			return err
		}
		elves = append(elves, p)
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range elves {
		out, err := exec.CommandContext(ctx, "ldd", p).CombinedOutput()
		if err != nil && bytes.Contains(out, []byte("not a dynamic executable")) {
			continue // static: the Go binaries, busybox
		}
		if err != nil {
			return fmt.Errorf("ldd %s: %w: %s", p, err, bytes.TrimSpace(out))
		}
		libs, err := lddPaths(out)
		if err != nil {
			return fmt.Errorf("ldd %s: %w", p, err)
		}
		for _, lib := range libs {
			if err := f.copyHost(lib); err != nil {
				return fmt.Errorf("copy %s (needed by %s): %w", lib, p, err)
			}
		}
	}
	return nil
}

// lddPaths returns the absolute paths ldd's output names ("libz.so.1 => /lib/.../libz.so.1
// (0x...)", "/lib64/ld-linux-x86-64.so.2 (0x...)"); a library ldd could not find is an error.
func lddPaths(out []byte) ([]string, error) {
	var paths []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.Contains(line, "not found") {
			return nil, fmt.Errorf("missing library: %s", line)
		}
		if _, after, ok := strings.Cut(line, "=> "); ok {
			line = after
		}
		if p, _, _ := strings.Cut(line, " "); strings.HasPrefix(p, "/") {
			paths = append(paths, p)
		}
	}
	return paths, sc.Err()
}

// isELF reports whether the file at p starts with the ELF magic.
func isELF(p string) (bool, error) {
	file, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer file.Close()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(file, magic); err != nil {
		return false, nil // shorter than a header: a script or data
	}
	return bytes.Equal(magic, []byte("\x7fELF")), nil
}

// linkBusyboxApplets makes every busybox applet a command on the image's PATH (/usr/bin/<applet>
// -> busybox) unless a real program of that name is there; /bin/sh is one of them. busybox's
// wget and nslookup resolve names with glibc's static resolver and segfault (DESIGN.md 9):
// hooks reach the front door by its IP address, or use curl.
func (f *imageFS) linkBusyboxApplets(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, busyboxPath, "--list").Output()
	if err != nil {
		return fmt.Errorf("busybox --list: %w", err)
	}
	bin, err := filepath.EvalSymlinks(filepath.Dir(busyboxPath))
	if err != nil {
		return err
	}
	for _, applet := range strings.Fields(string(out)) {
		if strings.Contains(applet, "/") {
			continue
		}
		dst := f.path(filepath.Join(bin, applet))
		if _, err := os.Lstat(dst); err == nil {
			continue
		}
		if err := os.Symlink(filepath.Base(busyboxPath), dst); err != nil {
			return err
		}
	}
	return nil
}

// writeSystemFiles writes what a root file system needs besides programs: root's account (git
// and the docker CLI look up the user's home), name service order, and world-writable temp dirs.
func (f *imageFS) writeSystemFiles() error {
	files := map[string]string{
		"/etc/passwd":        "root:x:0:0:root:/root:/bin/sh\n",
		"/etc/group":         "root:x:0:\n",
		"/etc/nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\n",
	}
	for p, content := range files {
		if err := os.MkdirAll(filepath.Dir(f.path(p)), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f.path(p), []byte(content), 0o644); err != nil {
			return err
		}
	}
	for p, mode := range map[string]fs.FileMode{"/tmp": 0o777 | fs.ModeSticky, "/var/tmp": 0o777 | fs.ModeSticky, "/root": 0o700} {
		if err := os.MkdirAll(f.path(p), 0o755); err != nil {
			return err
		}
		// Chmod after MkdirAll: the umask would clear the sticky and world bits.
		if err := os.Chmod(f.path(p), mode); err != nil {
			return err
		}
	}
	return nil
}

// copyOverlays copies the repo's recipes/ into the image. An overlay holds only directories
// and regular files (docs/overlays.md); anything else is refused rather than followed.
func copyOverlays(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case info.Mode().IsRegular():
			return copyMode(p, target, info.Mode().Perm())
		}
		return fmt.Errorf("overlay %s is not a regular file or directory", p)
	})
}

// copyMode copies the regular file from to to with mode perm.
func copyMode(from, to string, perm fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	// OpenFile's mode is filtered by the umask; the image must carry the host's bits.
	return os.Chmod(to, perm)
}
