package testkit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// busyboxPath is Debian's busybox-static: statically linked, so it runs in a FROM scratch image
// as /bin/sh for the backupbot hooks (it dispatches on argv0 and runs applets without symlinks).
const busyboxPath = "/bin/busybox"

// hashLabel records what an image was built from, so an unchanged image is not rebuilt.
const hashLabel = "ccci.testkit.hash"

// sourceDir returns this package's source directory, found from this file's compile-time path
// (or `go list` when built with -trimpath), never from the working directory.
func sourceDir(ctx context.Context) (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dir := filepath.Dir(file)
		if _, err := os.Stat(filepath.Join(dir, "sampleapp", "main.go")); err == nil {
			return dir, nil
		}
	}
	out, err := exec.CommandContext(ctx, "go", "list", "-f", "{{.Dir}}", "coopcloud.tech/cc-ci/internal/testkit").Output()
	if err != nil {
		return "", fmt.Errorf("locate testkit sources (go list): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// goBuild builds the main package in pkgDir as a static binary at out.
func goBuild(ctx context.Context, pkgDir, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-o", out, ".")
	cmd.Dir = pkgDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", pkgDir, err, bytes.TrimSpace(b))
	}
	return nil
}

// BuildFakeAbra builds the FAKE abra into binDir/abra and returns its absolute path. Put binDir
// first on PATH so the code under test finds it as `abra`.
func BuildFakeAbra(ctx context.Context, binDir string) (string, error) {
	src, err := sourceDir(ctx)
	if err != nil {
		return "", err
	}
	out, err := filepath.Abs(filepath.Join(binDir, "abra"))
	if err != nil {
		return "", fmt.Errorf("build fake abra: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", fmt.Errorf("build fake abra: %w", err)
	}
	if err := goBuild(ctx, filepath.Join(src, "fakeabra"), out); err != nil {
		return "", fmt.Errorf("build fake abra: %w", err)
	}
	return out, nil
}

// imageSpec is one image to build from a context holding the named files.
type imageSpec struct {
	tag        string
	dockerfile string
}

// BuildImages builds the app images (SampleImages, NotesImages) and the front door image
// (FrontDoorImage) with the legacy builder, from static binaries FROM scratch. An image whose
// inputs are unchanged is left alone, so calling it again is cheap. It holds a host-wide lock
// while building, so concurrent test processes do not build the same tags at once.
func BuildImages(ctx context.Context) error {
	unlock, err := lockFile(ctx, filepath.Join(os.TempDir(), "ccci-testkit-images.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	src, err := sourceDir(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "ccci-testkit-images-")
	if err != nil {
		return fmt.Errorf("build images: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := goBuild(ctx, filepath.Join(src, "sampleapp"), filepath.Join(tmp, "app")); err != nil {
		return fmt.Errorf("build images: %w", err)
	}
	if err := goBuild(ctx, filepath.Join(src, "frontdoor"), filepath.Join(tmp, "frontdoor")); err != nil {
		return fmt.Errorf("build images: %w", err)
	}
	if err := copyFile(busyboxPath, filepath.Join(tmp, "busybox")); err != nil {
		return fmt.Errorf("build images: %w (install Debian's busybox-static)", err)
	}
	var specs []imageSpec
	for _, tag := range append(SampleImages(), NotesImages()...) {
		specs = append(specs, appImage(tag))
	}
	specs = append(specs, imageSpec{tag: FrontDoorImage, dockerfile: "FROM scratch\nCOPY frontdoor /frontdoor\n" +
		"EXPOSE 80\nENTRYPOINT [\"/frontdoor\"]\n"})
	for _, s := range specs {
		if err := buildImage(ctx, tmp, s); err != nil {
			return err
		}
	}
	return nil
}

// appImage is one image of the sample app binary: /app, with busybox as /bin/sh for hooks and
// entrypoint scripts. The tag's version is the app's APP_VERSION; the db image runs `app db` on
// its store in /var/lib/notes-db, as a database image has its data directory built in.
func appImage(tag string) imageSpec {
	_, version, _ := strings.Cut(tag, ":")
	df := "FROM scratch\nCOPY app /app\nCOPY busybox /bin/sh\nENV APP_VERSION=" + version + "\n"
	if tag == notesDBImage {
		return imageSpec{tag: tag, dockerfile: df + "ENV DATA_DIR=/var/lib/notes-db\nEXPOSE 7000\nCMD [\"/app\", \"db\"]\n"}
	}
	return imageSpec{tag: tag, dockerfile: df + "EXPOSE 8080\nCMD [\"/app\", \"serve\"]\n"}
}

// buildImage builds one image unless an image with the same input hash already carries the tag.
func buildImage(ctx context.Context, contextDir string, s imageSpec) error {
	hash, err := inputHash(contextDir, s.dockerfile)
	if err != nil {
		return fmt.Errorf("build %s: %w", s.tag, err)
	}
	have, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format",
		`{{index .Config.Labels "`+hashLabel+`"}}`, s.tag).Output()
	if err == nil && strings.TrimSpace(string(have)) == hash {
		return nil
	}
	df := filepath.Join(contextDir, "Dockerfile."+strings.NewReplacer(":", "-", "/", "-").Replace(s.tag))
	if err := os.WriteFile(df, []byte(s.dockerfile+"LABEL "+hashLabel+"="+hash+"\n"), 0o644); err != nil {
		return fmt.Errorf("build %s: %w", s.tag, err)
	}
	cmd := exec.CommandContext(ctx, "docker", "build", "--quiet", "--tag", s.tag, "--file", df, contextDir)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("docker build %s: %w: %s", s.tag, err, bytes.TrimSpace(b))
	}
	return nil
}

// inputHash hashes the Dockerfile and every file it may COPY from the context.
func inputHash(contextDir, dockerfile string) (string, error) {
	h := sha256.New()
	h.Write([]byte(dockerfile))
	for _, name := range []string{"app", "frontdoor", "busybox"} {
		if !strings.Contains(dockerfile, "COPY "+name+" ") {
			continue
		}
		f, err := os.Open(filepath.Join(contextDir, name))
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}

// lockFile takes an exclusive flock on path, waiting until ctx ends, and returns the release.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o666)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	done := make(chan error, 1)
	go func() { done <- unix.Flock(int(f.Fd()), unix.LOCK_EX) }()
	select {
	case err := <-done:
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
	case <-ctx.Done():
		// The goroutine stays blocked until the holder releases; the kernel then drops the
		// lock with the last reference to the closed file.
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
	}
	return func() { _ = f.Close() }, nil
}
