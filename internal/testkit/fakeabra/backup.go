package main

import (
	"archive/tar"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"coopcloud.tech/cc-ci/internal/backupbot"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

const manifestName = "manifest.json"

// manifest describes one snapshot: $ABRA_DIR/backups/<domain>/<snapshot id>/.
type manifest struct {
	ID       string            `json:"id"` // 64 hex digits, like a restic snapshot id
	Domain   string            `json:"domain"`
	Stack    string            `json:"stack"`
	Created  string            `json:"created"`
	Services []manifestService `json:"services"`
}

type manifestService struct {
	Service string   `json:"service"` // short name, e.g. "app"
	Paths   []string `json:"paths"`   // the paths that existed and were copied
	Tar     string   `json:"tar"`     // entries relative to "/", e.g. data/dump/dump.json
}

// appBackupCreate: `abra app backup create <domain> --no-input`. It backs up what
// internal/backupbot says the stack's labels cover and prints the new snapshot's id the way
// restic reports it ("snapshot <short id> saved", https://restic.readthedocs.io/en/stable/040_backup.html).
func appBackupCreate(ctx context.Context, f *fake, in invocation) error {
	domain := in.arg(0)
	if _, err := f.findEnv(domain); err != nil {
		return err
	}
	stack := stackName(domain)
	targets, err := f.stackBackupTargets(ctx, stack)
	if err != nil {
		return fmt.Errorf("backup %s: %w", domain, err)
	}
	id, err := newSnapshotID()
	if err != nil {
		return fmt.Errorf("backup %s: %w", domain, err)
	}
	root := filepath.Join(f.abraDir, "backups", domain)
	// Built under a dot-name and renamed when complete, so a failed backup is never restored.
	partial := filepath.Join(root, "."+id+".partial")
	if err := os.MkdirAll(partial, 0o755); err != nil {
		return fmt.Errorf("backup %s: %w", domain, err)
	}
	defer os.RemoveAll(partial)
	m := manifest{ID: id, Domain: domain, Stack: stack, Created: time.Now().UTC().Format(time.RFC3339Nano)}
	for _, t := range targets {
		ms, err := f.backupService(ctx, stack, t, partial)
		if err != nil {
			return fmt.Errorf("backup %s: %w", domain, err)
		}
		m.Services = append(m.Services, ms)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("backup %s: encode manifest: %w", domain, err)
	}
	if err := os.WriteFile(filepath.Join(partial, manifestName), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("backup %s: %w", domain, err)
	}
	if err := os.Rename(partial, filepath.Join(root, id)); err != nil {
		return fmt.Errorf("backup %s: %w", domain, err)
	}
	fmt.Fprintf(f.stdout, "snapshot %s saved\n", shortID(id))
	return nil
}

// newSnapshotID returns 32 random bytes in hex, the shape of a restic snapshot id.
func newSnapshotID() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("snapshot id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// stackBackupTargets reads the stack's services and resolves their backupbot labels.
func (f *fake) stackBackupTargets(ctx context.Context, stack string) ([]backupbot.Target, error) {
	cli, err := f.docker()
	if err != nil {
		return nil, err
	}
	svcs, err := cli.ServiceList(ctx, swarm.ServiceListOptions{Filters: stackFilter(stack)})
	if err != nil {
		return nil, fmt.Errorf("list services of %s: %w", stack, err)
	}
	in := make([]backupbot.Service, 0, len(svcs))
	for _, s := range svcs {
		var mounts []backupbot.Mount
		if cs := s.Spec.TaskTemplate.ContainerSpec; cs != nil {
			mounts = backupbot.MountsFromSpec(stack, cs.Mounts)
		}
		in = append(in, backupbot.Service{Name: s.Spec.Name, Labels: s.Spec.Labels, Mounts: mounts})
	}
	targets, ok, err := backupbot.StackTargets(in)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("no service of %s has the label %s=true", stack, backupbot.LabelBackup)
	}
	return targets, nil
}

// backupService runs the pre-hook, copies every covered path into <dir>/<service>.tar, and runs
// the post-hook. A covered path that does not exist is left out, as backup-bot-two does.
func (f *fake) backupService(ctx context.Context, stack string, t backupbot.Target, dir string) (manifestService, error) {
	short := strings.TrimPrefix(t.Service, stack+"_")
	ctr, err := f.runningContainer(ctx, t.Service)
	if err != nil {
		return manifestService{}, err
	}
	if err := f.hook(ctx, ctr, t.Service, backupbot.LabelPreHook, t.PreHook); err != nil {
		return manifestService{}, err
	}
	tarName := short + ".tar"
	copied, err := f.copyOut(ctx, ctr, t.Paths, filepath.Join(dir, tarName))
	if err != nil {
		return manifestService{}, fmt.Errorf("service %s: %w", t.Service, err)
	}
	if err := f.hook(ctx, ctr, t.Service, backupbot.LabelPostHook, t.PostHook); err != nil {
		return manifestService{}, err
	}
	return manifestService{Service: short, Paths: copied, Tar: tarName}, nil
}

// copyOut writes one tar holding every existing path, entries re-rooted at "/" so a restore
// extracts it with a single copy to "/". It returns the paths it copied.
func (f *fake) copyOut(ctx context.Context, ctr string, paths []string, file string) ([]string, error) {
	cli, err := f.docker()
	if err != nil {
		return nil, err
	}
	out, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", file, err)
	}
	tw := tar.NewWriter(out)
	var copied []string
	for _, p := range paths {
		rc, _, err := cli.CopyFromContainer(ctx, ctr, p)
		if cerrdefs.IsNotFound(err) {
			fmt.Fprintf(f.stdout, "%s does not exist in %s, not backed up\n", p, shortID(ctr))
			continue
		}
		if err != nil {
			_ = out.Close()
			return nil, fmt.Errorf("copy %s out of %s: %w", p, ctr, err)
		}
		err = reroot(tar.NewReader(rc), tw, strings.TrimPrefix(path.Dir(p), "/"))
		if err := errors.Join(err, rc.Close()); err != nil {
			_ = out.Close()
			return nil, fmt.Errorf("copy %s out of %s: %w", p, ctr, err)
		}
		copied = append(copied, p)
	}
	if err := errors.Join(tw.Close(), out.Close()); err != nil {
		return nil, fmt.Errorf("write %s: %w", file, err)
	}
	return copied, nil
}

// reroot copies every entry of r to w with prefix (the path's parent, relative to "/") prepended
// to its name, since a copy of /a/b out of a container names entries relative to /a.
func reroot(r *tar.Reader, w *tar.Writer, prefix string) error {
	for {
		hdr, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		hdr.Name = path.Join(prefix, hdr.Name)
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = path.Join(prefix, hdr.Linkname)
		}
		if err := w.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write tar: %w", err)
		}
		if _, err := io.Copy(w, r); err != nil {
			return fmt.Errorf("write tar: %w", err)
		}
	}
}

// runningContainer returns the id of a running container of the swarm service.
func (f *fake) runningContainer(ctx context.Context, service string) (string, error) {
	cli, err := f.docker()
	if err != nil {
		return "", err
	}
	ctrs, err := cli.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", "com.docker.swarm.service.name="+service), filters.Arg("status", "running"))})
	if err != nil {
		return "", fmt.Errorf("list containers of %s: %w", service, err)
	}
	if len(ctrs) == 0 {
		return "", fmt.Errorf("service %s has no running container", service)
	}
	return ctrs[0].ID, nil
}

// hook runs cmd (the value of label key; nothing when empty) inside the container with
// /bin/sh -c, as backup-bot-two does; a non-zero exit fails the backup or restore.
func (f *fake) hook(ctx context.Context, ctr, service, key, cmd string) error {
	if cmd == "" {
		return nil
	}
	fmt.Fprintf(f.stdout, "running %s of %s: %s\n", key, service, cmd)
	if _, err := f.execRun(ctx, execSpec{name: "docker", args: []string{"exec", ctr, "/bin/sh", "-c", cmd},
		stdout: f.stdout}); err != nil {
		return fmt.Errorf("%s of %s failed: %w", key, service, err)
	}
	return nil
}
