package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/swarm"
)

// appRestore: `abra app restore <domain> --no-input`: restore the newest backup of the domain
// into the running services, with backupbot's restore hooks.
func appRestore(ctx context.Context, f *fake, in invocation) error {
	domain := in.arg(0)
	if _, err := f.findEnv(domain); err != nil {
		return err
	}
	dir, m, err := newestBackup(filepath.Join(f.abraDir, "backups", domain))
	if err != nil {
		return fmt.Errorf("restore %s: %w", domain, err)
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
	fmt.Fprintf(f.stdout, "restoring %s from %s\n", domain, dir)
	for _, ms := range m.Services {
		s, ok := byName[stack+"_"+ms.Service]
		if !ok {
			return fmt.Errorf("restore %s: service %s_%s is not deployed", domain, stack, ms.Service)
		}
		t := backupTarget{Short: ms.Service, Name: s.Spec.Name, Labels: s.Spec.Labels}
		if err := f.restoreService(ctx, t, filepath.Join(dir, ms.Tar)); err != nil {
			return fmt.Errorf("restore %s: %w", domain, err)
		}
	}
	fmt.Fprintf(f.stdout, "restored %s from %s\n", domain, dir)
	return nil
}

// restoreService extracts the service's tar at "/" in its container: every file in the backup
// replaces the container's file of the same path.
func (f *fake) restoreService(ctx context.Context, t backupTarget, tarPath string) error {
	ctr, err := f.runningContainer(ctx, t.Name)
	if err != nil {
		return err
	}
	if err := f.hook(ctx, ctr, t, labelRestorePreHook); err != nil {
		return err
	}
	file, err := os.Open(tarPath)
	if err != nil {
		return fmt.Errorf("open %s: %w", tarPath, err)
	}
	_, err = f.execRun(ctx, execSpec{name: "docker", args: []string{"cp", "-", ctr + ":/"}, stdin: file})
	if cerr := file.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy backup into %s: %w", t.Name, err)
	}
	return f.hook(ctx, ctr, t, labelRestorePost)
}

// newestBackup returns the newest backup directory under root (names are UTC timestamps, so
// they sort by time) and its manifest.
func newestBackup(root string) (string, manifest, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0) {
		return "", manifest{}, fmt.Errorf("no backup found in %s: run abra app backup create first", root)
	}
	if err != nil {
		return "", manifest{}, fmt.Errorf("list backups: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return "", manifest{}, fmt.Errorf("no backup found in %s: run abra app backup create first", root)
	}
	sort.Strings(names)
	dir := filepath.Join(root, names[len(names)-1])
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return "", manifest{}, fmt.Errorf("read backup manifest: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return "", manifest{}, fmt.Errorf("decode %s: %w", filepath.Join(dir, manifestName), err)
	}
	return dir, m, nil
}
