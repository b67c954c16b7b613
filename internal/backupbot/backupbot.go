// Package backupbot holds backup-bot-two's label semantics, once: which paths of which service a
// backup covers and which hooks run around a backup and a restore. The abra test double backs up
// and restores exactly these paths, the ladder reads which services declared backups, and the
// generic data floor puts a marker into every covered path.
//
// Sources (quoted in docs/abra-contract.md, "Backup and restore"):
//   - the Co-op Cloud backup specification, docs.coopcloud.tech's Specification.md,
//     https://git.coopcloud.tech/coop-cloud/docs.coopcloud.tech/src/commit/81c2a43128cd10522f636b02d0ea4d899e4cff83/Specification.md
//     and its later revision
//     https://git.coopcloud.tech/p4u1/docs.coopcloud.tech/src/branch/backupbottwo-spec/Specification.md:
//     `backupbot.backup=true` on one service enables backups for the whole stack; by default
//     every volume is backed up; `backupbot.backup.volumes.<volume>=false` excludes a volume;
//     `backupbot.backup.volumes.<volume>.path` limits it to paths relative to the volume root,
//     comma-separated; `backupbot.{backup,restore}.{pre,post}-hook` run inside the service's
//     running container before/after the files are copied.
//   - the maintainers' guide to those labels,
//     https://git.coopcloud.tech/coop-cloud/docs.coopcloud.tech/pulls/258/files (Maintainers.md),
//     which writes relative paths with a leading "/" ("/mypath1/foo,/mypath2/bar").
//   - backup-bot-two, https://git.coopcloud.tech/coop-cloud/backup-bot-two (README, backupbot.py):
//     a volume is named in labels by its compose name (the mount source without "<stack>_");
//     only mounts of type volume are backed up; paths that do not exist are left out.
//   - the legacy spec of backup-bot-two 1.x and abra before 0.9,
//     `backupbot.backup.path=<absolute path>[,...]`: exactly those paths inside the container of
//     the labelled service.
package backupbot

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/mount"
)

// Label keys of the backupbot specification.
const (
	LabelBackup          = "backupbot.backup"
	LabelPath            = "backupbot.backup.path" // legacy spec
	LabelVolumes         = "backupbot.backup.volumes."
	LabelPreHook         = "backupbot.backup.pre-hook"
	LabelPostHook        = "backupbot.backup.post-hook"
	LabelRestorePreHook  = "backupbot.restore.pre-hook"
	LabelRestorePostHook = "backupbot.restore.post-hook"
)

// Mount is one named volume mounted into a service.
type Mount struct {
	Volume string // compose volume name, without the "<stack>_" prefix
	Target string // mount path in the container
}

// Service is one swarm service of a stack, as the backup sees it.
type Service struct {
	Name   string // full swarm service name, e.g. "<stack>_app"
	Labels map[string]string
	Mounts []Mount
}

// Target is what a backup covers in one service and the hooks it runs there.
type Target struct {
	Service string   // full swarm service name
	Paths   []string // absolute paths inside the service's containers that a backup covers, sorted
	// Legacy is true when Paths come from the legacy label backupbot.backup.path.
	Legacy                          bool
	PreHook, PostHook               string
	RestorePreHook, RestorePostHook string
}

// ServiceTarget returns the service's backup declaration judged on its own labels and mounts;
// ok=false when it did not opt in with backupbot.backup=true. Errors name the label and the fix.
// A backup of a whole stack follows StackTargets, where one opted-in service enables the others.
func ServiceTarget(service string, labels map[string]string, mounts []Mount) (t Target, ok bool, err error) {
	svc := Service{Name: service, Labels: labels, Mounts: mounts}
	on, err := optedIn(svc)
	if err != nil || !on {
		return Target{}, false, err
	}
	rules, err := volumeRules([]Service{svc})
	if err != nil {
		return Target{}, false, err
	}
	t, err = target(svc, rules)
	if err != nil {
		return Target{}, false, err
	}
	return t, true, nil
}

// StackTargets returns what a backup of the stack covers, as backup-bot-two does it: when any
// service carries backupbot.backup=true, every service of the stack is a target for its volumes
// and hooks (sorted by service name; services with neither are left out). ok=false when no
// service opted in. Volume labels apply to the stack's volume of that name, whichever service
// carries them.
func StackTargets(services []Service) (targets []Target, ok bool, err error) {
	for _, s := range services {
		on, err := optedIn(s)
		if err != nil {
			return nil, false, err
		}
		ok = ok || on
	}
	if !ok {
		return nil, false, nil
	}
	rules, err := volumeRules(services)
	if err != nil {
		return nil, false, err
	}
	for _, s := range services {
		t, err := target(s, rules)
		if err != nil {
			return nil, false, err
		}
		if len(t.Paths) > 0 || t.PreHook != "" || t.PostHook != "" || t.RestorePreHook != "" || t.RestorePostHook != "" {
			targets = append(targets, t)
		}
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].Service < targets[j].Service })
	return targets, true, nil
}

// MountsFromSpec converts a swarm service spec's mounts for stack: volumes only (binds, tmpfs and
// anonymous volumes are never backed up), named by their compose name.
func MountsFromSpec(stack string, mounts []mount.Mount) []Mount {
	var out []Mount
	for _, m := range mounts {
		if m.Type != mount.TypeVolume || m.Source == "" {
			continue
		}
		out = append(out, Mount{Volume: strings.TrimPrefix(m.Source, stack+"_"), Target: m.Target})
	}
	return out
}

// optedIn reads backupbot.backup: "true" opts in, "false" or no label does not.
func optedIn(s Service) (bool, error) {
	v, set := s.Labels[LabelBackup]
	switch v = strings.TrimSpace(v); {
	case !set || v == "" || strings.EqualFold(v, "false"):
		return false, nil
	case strings.EqualFold(v, "true"):
		return true, nil
	}
	return false, fmt.Errorf("service %s: label %s=%q: set it to true or false", s.Name, LabelBackup, v)
}

// volumeRule is what the labels say about one volume: excluded, or limited to relative paths.
type volumeRule struct {
	exclude bool
	paths   []string // cleaned, relative to the volume root; "." is the whole volume
}

// volumeRules parses every backupbot.backup.volumes.* label of the services, keyed by volume
// name. A label naming a volume that none of the services mounts is an error.
func volumeRules(services []Service) (map[string]volumeRule, error) {
	mounted := map[string]bool{}
	for _, s := range services {
		for _, m := range s.Mounts {
			mounted[m.Volume] = true
		}
	}
	rules := map[string]volumeRule{}
	for _, s := range services {
		for _, key := range sortedKeys(s.Labels) {
			rest, found := strings.CutPrefix(key, LabelVolumes)
			if !found {
				continue
			}
			if err := addRule(rules, mounted, key, rest, s.Labels[key]); err != nil {
				return nil, fmt.Errorf("service %s: %w", s.Name, err)
			}
		}
	}
	return rules, nil
}

// addRule reads one label backupbot.backup.volumes.<rest>. Volume names may hold dots, so
// "<vol>.path" is a path label only when <vol> is mounted; otherwise <rest> is the volume.
func addRule(rules map[string]volumeRule, mounted map[string]bool, key, rest, value string) error {
	if vol, isPath := strings.CutSuffix(rest, ".path"); isPath && mounted[vol] {
		paths, err := relativePaths(key, value)
		if err != nil {
			return err
		}
		r := rules[vol]
		r.paths = append(r.paths, paths...)
		rules[vol] = r
		return nil
	}
	if !mounted[rest] {
		return fmt.Errorf("label %s names volume %q, which no service of the stack mounts: "+
			"name a volume from the service's volumes (without the stack prefix) or remove the label", key, volumeOf(rest))
	}
	switch v := strings.TrimSpace(value); {
	case strings.EqualFold(v, "false"):
		r := rules[rest]
		r.exclude = true
		rules[rest] = r
	case strings.EqualFold(v, "true"):
	default:
		return fmt.Errorf("label %s=%q: set it to false to leave the volume out of backups, "+
			"or use %s.path to limit it to some paths", key, value, key)
	}
	return nil
}

func volumeOf(rest string) string {
	if vol, ok := strings.CutSuffix(rest, ".path"); ok {
		return vol
	}
	return rest
}

// relativePaths parses a comma-separated list of paths relative to a volume root. A leading "/"
// is read as the volume root (the maintainers' guide writes them so); ".." may not leave it.
func relativePaths(key, value string) ([]string, error) {
	return pathList(key, value, "give paths relative to the volume root, comma-separated, or remove the label",
		func(p string) (string, error) {
			clean := path.Clean(strings.TrimLeft(p, "/"))
			if clean == ".." || strings.HasPrefix(clean, "../") {
				return "", fmt.Errorf("label %s: path %q leaves the volume: give a path inside it, relative to the volume root", key, p)
			}
			return clean, nil
		})
}

// legacyPaths parses backupbot.backup.path: comma-separated absolute paths in the container.
func legacyPaths(value string) ([]string, error) {
	return pathList(LabelPath, value, "give absolute paths, comma-separated, or use "+LabelVolumes+"<volume>.path",
		func(p string) (string, error) {
			if !path.IsAbs(p) || path.Clean(p) == "/" || hasDotDot(p) {
				return "", fmt.Errorf("label %s: path %q must be an absolute path below / without \"..\"", LabelPath, p)
			}
			return path.Clean(p), nil
		})
}

// pathList splits a label's comma-separated paths, drops empty items, refuses control characters
// and passes each path through check. A list with no path is an error saying fix.
func pathList(key, value, fix string, check func(string) (string, error)) ([]string, error) {
	var out []string
	for _, p := range strings.Split(value, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if err := checkChars(key, p); err != nil {
			return nil, err
		}
		clean, err := check(p)
		if err != nil {
			return nil, err
		}
		out = append(out, clean)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("label %s is empty: %s", key, fix)
	}
	return out, nil
}

func hasDotDot(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

// checkChars refuses control characters, which no real path label holds.
func checkChars(key, p string) error {
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("label %s: path %q holds a control character", key, p)
		}
	}
	return nil
}

// target resolves one service: the legacy label when the service carries it and no volume label
// of its own, the volume spec otherwise.
func target(s Service, rules map[string]volumeRule) (Target, error) {
	t := Target{Service: s.Name,
		PreHook: hook(s.Labels, LabelPreHook), PostHook: hook(s.Labels, LabelPostHook),
		RestorePreHook: hook(s.Labels, LabelRestorePreHook), RestorePostHook: hook(s.Labels, LabelRestorePostHook)}
	if v, ok := s.Labels[LabelPath]; ok && !hasVolumeLabel(s.Labels) {
		paths, err := legacyPaths(v)
		if err != nil {
			return Target{}, fmt.Errorf("service %s: %w", s.Name, err)
		}
		t.Paths, t.Legacy = uniqueSorted(paths), true
		return t, nil
	}
	var paths []string
	for _, m := range s.Mounts {
		r := rules[m.Volume]
		switch {
		case r.exclude:
		case len(r.paths) == 0:
			paths = append(paths, path.Clean(m.Target))
		default:
			for _, p := range r.paths {
				paths = append(paths, path.Join(m.Target, p))
			}
		}
	}
	t.Paths = uniqueSorted(paths)
	return t, nil
}

func hasVolumeLabel(labels map[string]string) bool {
	for k := range labels {
		if strings.HasPrefix(k, LabelVolumes) {
			return true
		}
	}
	return false
}

func hook(labels map[string]string, key string) string { return strings.TrimSpace(labels[key]) }

func uniqueSorted(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	sort.Strings(in)
	out := in[:1]
	for _, p := range in[1:] {
		if p != out[len(out)-1] {
			out = append(out, p)
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
