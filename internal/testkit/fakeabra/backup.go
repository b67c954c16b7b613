package main

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

// backupbot label keys (backup-bot-two's contract with recipes).
const (
	labelBackup         = "backupbot.backup"
	labelBackupPath     = "backupbot.backup.path"
	labelBackupPreHook  = "backupbot.backup.pre-hook"
	labelBackupPostHook = "backupbot.backup.post-hook"
	labelRestorePreHook = "backupbot.restore.pre-hook"
	labelRestorePost    = "backupbot.restore.post-hook"
	manifestName        = "manifest.json"
)

// manifest describes one backup directory.
type manifest struct {
	Domain   string            `json:"domain"`
	Stack    string            `json:"stack"`
	Created  string            `json:"created"`
	Services []manifestService `json:"services"`
}

type manifestService struct {
	Service string   `json:"service"` // short name, e.g. "app"
	Paths   []string `json:"paths"`
	Tar     string   `json:"tar"` // entries relative to "/", e.g. data/dump/dump.json
}

// backupTarget is a service with backupbot.backup=true.
type backupTarget struct {
	Short, Name string
	Labels      map[string]string
}

// backupTargets picks the stack's services that opted into backups, sorted by name.
func backupTargets(stack string, svcs []swarm.Service) []backupTarget {
	var out []backupTarget
	for _, s := range svcs {
		if s.Spec.Labels[labelBackup] == "true" {
			out = append(out, backupTarget{Short: strings.TrimPrefix(s.Spec.Name, stack+"_"),
				Name: s.Spec.Name, Labels: s.Spec.Labels})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// backupPaths parses backupbot.backup.path: comma-separated absolute paths.
func backupPaths(label string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(label, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !path.IsAbs(p) || path.Clean(p) == "/" {
			return nil, fmt.Errorf("backup path %q must be an absolute path below /", p)
		}
		out = append(out, path.Clean(p))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s label is empty", labelBackupPath)
	}
	return out, nil
}

// appBackupCreate: `abra app backup create <domain> --no-input`, with backupbot's semantics.
func appBackupCreate(ctx context.Context, f *fake, in invocation) error {
	domain := in.arg(0)
	if _, err := f.findEnv(domain); err != nil {
		return err
	}
	stack := stackName(domain)
	targets, err := f.stackBackupTargets(ctx, stack)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	name := now.Format("20060102T150405.000000000Z")
	dir := filepath.Join(f.abraDir, "backups", domain, name)
	// Built under a dot-name and renamed when complete, so a failed backup is never restored.
	partial := filepath.Join(f.abraDir, "backups", domain, "."+name+".partial")
	if err := os.MkdirAll(partial, 0o755); err != nil {
		return fmt.Errorf("backup %s: %w", domain, err)
	}
	defer os.RemoveAll(partial)
	m := manifest{Domain: domain, Stack: stack, Created: now.Format(time.RFC3339Nano)}
	for _, t := range targets {
		ms, err := f.backupService(ctx, t, partial)
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
	if err := os.Rename(partial, dir); err != nil {
		return fmt.Errorf("backup %s: %w", domain, err)
	}
	fmt.Fprintf(f.stdout, "backup created: %s\n", dir)
	return nil
}

func (f *fake) stackBackupTargets(ctx context.Context, stack string) ([]backupTarget, error) {
	cli, err := f.docker()
	if err != nil {
		return nil, err
	}
	svcs, err := cli.ServiceList(ctx, swarm.ServiceListOptions{Filters: stackFilter(stack)})
	if err != nil {
		return nil, fmt.Errorf("list services of %s: %w", stack, err)
	}
	targets := backupTargets(stack, svcs)
	if len(targets) == 0 {
		return nil, fmt.Errorf("no %s=true service in %s", labelBackup, stack)
	}
	return targets, nil
}

// backupService runs the pre-hook, copies every backup path into <dir>/<service>.tar, and runs
// the post-hook.
func (f *fake) backupService(ctx context.Context, t backupTarget, dir string) (manifestService, error) {
	paths, err := backupPaths(t.Labels[labelBackupPath])
	if err != nil {
		return manifestService{}, fmt.Errorf("service %s: %w", t.Name, err)
	}
	ctr, err := f.runningContainer(ctx, t.Name)
	if err != nil {
		return manifestService{}, err
	}
	if err := f.hook(ctx, ctr, t, labelBackupPreHook); err != nil {
		return manifestService{}, err
	}
	tarName := t.Short + ".tar"
	if err := f.copyOut(ctx, ctr, paths, filepath.Join(dir, tarName)); err != nil {
		return manifestService{}, fmt.Errorf("service %s: %w", t.Name, err)
	}
	if err := f.hook(ctx, ctr, t, labelBackupPostHook); err != nil {
		return manifestService{}, err
	}
	return manifestService{Service: t.Short, Paths: paths, Tar: tarName}, nil
}

// copyOut writes one tar holding every path, entries re-rooted at "/" so a restore extracts it
// with a single `docker cp - <ctr>:/`.
func (f *fake) copyOut(ctx context.Context, ctr string, paths []string, file string) error {
	out, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("create %s: %w", file, err)
	}
	tw := tar.NewWriter(out)
	for _, p := range paths {
		pr, pw := io.Pipe()
		errc := make(chan error, 1)
		go func() {
			_, err := f.execRun(ctx, execSpec{name: "docker", args: []string{"cp", ctr + ":" + p, "-"}, stdout: pw})
			pw.CloseWithError(err)
			errc <- err
		}()
		rerr := reroot(tar.NewReader(pr), tw, strings.TrimPrefix(path.Dir(p), "/"))
		_ = pr.CloseWithError(rerr) // unblocks docker cp if reroot stopped early
		if err := errors.Join(<-errc, rerr); err != nil {
			_ = out.Close()
			return fmt.Errorf("copy %s out of %s: %w", p, ctr, err)
		}
	}
	if err := errors.Join(tw.Close(), out.Close()); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}

// reroot copies every entry of r to w with prefix (the path's parent, relative to "/") prepended
// to its name, since `docker cp <ctr>:/a/b -` names entries relative to /a.
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

// hook runs the command in label key (when set) inside the container with /bin/sh -c, as
// backupbot does; a non-zero exit fails the backup or restore.
func (f *fake) hook(ctx context.Context, ctr string, t backupTarget, key string) error {
	cmd := strings.TrimSpace(t.Labels[key])
	if cmd == "" {
		return nil
	}
	fmt.Fprintf(f.stdout, "running %s of %s: %s\n", key, t.Name, cmd)
	if _, err := f.execRun(ctx, execSpec{name: "docker", args: []string{"exec", ctr, "/bin/sh", "-c", cmd},
		stdout: f.stdout}); err != nil {
		return fmt.Errorf("%s of %s failed: %w", key, t.Name, err)
	}
	return nil
}
