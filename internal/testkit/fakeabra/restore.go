package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"coopcloud.tech/cc-ci/internal/backupbot"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
)

// snapshotRef is what --snapshot accepts: a restic snapshot id or a prefix of one.
var snapshotRef = regexp.MustCompile(`^[0-9a-f]{1,64}$`)

// appRestore: `abra app restore <domain> --snapshot <id> --no-input`: restore that snapshot of
// the domain into the running services, with backupbot's restore hooks. The FAKE requires
// --snapshot (real abra restores the latest without it), so a run can only ever restore the
// snapshot it named, never another run's newer one.
func appRestore(ctx context.Context, f *fake, in invocation) error {
	domain := in.arg(0)
	if _, err := f.findEnv(domain); err != nil {
		return err
	}
	dir, m, err := findSnapshot(filepath.Join(f.abraDir, "backups", domain), in.flags["--snapshot"])
	if err != nil {
		return fmt.Errorf("restore %s: %w", domain, err)
	}
	if m.Domain != domain {
		return fmt.Errorf("restore %s: snapshot %s is a backup of %s", domain, shortID(m.ID), m.Domain)
	}
	stack := stackName(domain)
	cli, err := f.docker()
	if err != nil {
		return err
	}
	svcs, err := cli.ServiceList(ctx, swarm.ServiceListOptions{Filters: stackFilter(stack)})
	if err != nil {
		return fmt.Errorf("list services of %s: %w", stack, err)
	}
	byName := map[string]swarm.Service{}
	for _, s := range svcs {
		byName[s.Spec.Name] = s
	}
	fmt.Fprintf(f.stdout, "restoring snapshot %s of %s\n", shortID(m.ID), domain)
	for _, ms := range m.Services {
		s, ok := byName[stack+"_"+ms.Service]
		if !ok {
			return fmt.Errorf("restore %s: service %s_%s is not deployed", domain, stack, ms.Service)
		}
		if err := f.restoreService(ctx, s, filepath.Join(dir, ms.Tar)); err != nil {
			return fmt.Errorf("restore %s: %w", domain, err)
		}
	}
	fmt.Fprintf(f.stdout, "restored snapshot %s of %s\n", shortID(m.ID), domain)
	return nil
}

// restoreService extracts the service's tar at "/" in its container: every file in the backup
// replaces the container's file of the same path. The hooks come from the service's labels as
// deployed now, as backup-bot-two reads them at restore time.
func (f *fake) restoreService(ctx context.Context, s swarm.Service, tarPath string) error {
	name := s.Spec.Name
	ctr, err := f.runningContainer(ctx, name)
	if err != nil {
		return err
	}
	pre := strings.TrimSpace(s.Spec.Labels[backupbot.LabelRestorePreHook])
	if err := f.hook(ctx, ctr, name, backupbot.LabelRestorePreHook, pre); err != nil {
		return err
	}
	cli, err := f.docker()
	if err != nil {
		return err
	}
	file, err := os.Open(tarPath)
	if err != nil {
		return fmt.Errorf("open %s: %w", tarPath, err)
	}
	// Ownership comes from the tar headers, as restic restores it. The file is handed over as a
	// plain reader: the HTTP transport would close a ReadCloser itself.
	err = cli.CopyToContainer(ctx, ctr, "/", struct{ io.Reader }{file}, container.CopyToContainerOptions{})
	if err := errors.Join(err, file.Close()); err != nil {
		return fmt.Errorf("copy backup into %s: %w", name, err)
	}
	post := strings.TrimSpace(s.Spec.Labels[backupbot.LabelRestorePostHook])
	return f.hook(ctx, ctr, name, backupbot.LabelRestorePostHook, post)
}

// findSnapshot returns the one snapshot under root whose id starts with ref, and its manifest.
// An unknown or ambiguous ref is an error, never a fallback to another snapshot.
func findSnapshot(root, ref string) (string, manifest, error) {
	if !snapshotRef.MatchString(ref) {
		return "", manifest{}, fmt.Errorf("snapshot %q is not a snapshot id (hex digits)", ref)
	}
	entries, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", manifest{}, fmt.Errorf("list snapshots: %w", err)
	}
	var found []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && strings.HasPrefix(e.Name(), ref) {
			found = append(found, e.Name())
		}
	}
	switch {
	case len(found) == 0:
		return "", manifest{}, fmt.Errorf("no snapshot %s in %s: run abra app backup create first", ref, root)
	case len(found) > 1:
		return "", manifest{}, fmt.Errorf("snapshot %s is ambiguous: %d snapshots start with it", ref, len(found))
	}
	dir := filepath.Join(root, found[0])
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return "", manifest{}, fmt.Errorf("read snapshot manifest: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return "", manifest{}, fmt.Errorf("decode %s: %w", filepath.Join(dir, manifestName), err)
	}
	if m.ID != found[0] {
		return "", manifest{}, fmt.Errorf("snapshot %s: manifest names %q", found[0], m.ID)
	}
	return dir, m, nil
}

// shortID is the first 8 digits of a snapshot id, as restic prints it.
func shortID(id string) string { return id[:min(8, len(id))] }
