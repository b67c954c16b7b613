package policy

import (
	"errors"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Where dockerd listens: the rootful socket (/var/run is a symlink to /run on current
// distributions, so both spellings) and the rootless one under the user's runtime dir
// (https://docs.docker.com/engine/security/rootless/: "the socket path is set to
// $XDG_RUNTIME_DIR/docker.sock").
var (
	socketFiles   = []string{"/var/run/docker.sock", "/run/docker.sock"}
	socketParents = []string{"/", "/var", "/var/run", "/run", "/run/user", "/var/run/user"}
	rootlessDir   = regexp.MustCompile(`^(/var)?/run/user/[0-9]+$`)
)

// mount reports a service volume that is not a named volume or tmpfs.
func (w workload) mount(key string, v types.ServiceVolumeConfig) []Finding {
	switch v.Type {
	case types.VolumeTypeTmpfs:
		return nil
	case types.VolumeTypeVolume:
		return w.namedVolume(key, v)
	case types.VolumeTypeBind, types.VolumeTypeNamedPipe:
		src := w.display(v.Source)
		real, via := w.follow(v.Source)
		if via != "" {
			via = "binds " + via + ": it"
		}
		return w.hostPath(key, mountValue(src, v), real, via)
	}
	return []Finding{w.finding(HostPath, key, mountValue(v.Source, v),
		"is a mount of type "+plain(v.Type)+": only named volumes, tmpfs, configs and secrets may be mounted")}
}

// namedVolume reports a named volume whose local driver has driver_opts. The local driver runs
// mount(8) on the CI host with them (type, o and device,
// https://docs.docker.com/reference/cli/docker/volume/create/#driver-specific-options): with
// o=bind it is a bind mount of a host path under another name, and with any other type it has
// the host mount a filesystem (a disk, an overlay of /etc, a network share) as root. Plain named
// volumes take no driver_opts.
func (w workload) namedVolume(key string, v types.ServiceVolumeConfig) []Finding {
	vol, ok := w.p.Volumes[v.Source]
	if v.Source == "" || !ok || (vol.Driver != "" && vol.Driver != "local") || len(vol.DriverOpts) == 0 {
		return nil
	}
	bind := false
	for _, o := range strings.Split(vol.DriverOpts["o"], ",") {
		if o = strings.TrimSpace(o); o == "bind" || o == "rbind" {
			bind = true
		}
	}
	if !bind {
		dev := vol.DriverOpts["device"]
		f := w.finding(HostPath, key, mountValue(v.Source, v), "uses volume "+plain(v.Source)+
			", whose driver_opts make the CI host mount "+plain(dev)+" (type "+plain(vol.DriverOpts["type"])+
			") for it: only plain named volumes, tmpfs, configs and secrets may be mounted")
		f.Source = dev
		return []Finding{f}
	}
	real, link := w.follow(vol.DriverOpts["device"])
	if link == "" {
		link = plain(real)
	}
	via := "uses volume " + plain(v.Source) + ", whose local driver binds " + link + " (driver_opts o=bind): it"
	return w.hostPath(key, mountValue(v.Source, v), real, via)
}

// hostPath classifies a mount of host path src (as display shows it). The socket itself is a
// docker-socket finding only, so allowing the socket allows nothing else; a directory holding the
// socket, or another file named docker.sock, is both. via, when set, says how the path is reached.
func (w workload) hostPath(key, value, src, via string) []Finding {
	clean := filepath.Clean(src)
	socket := slices.Contains(socketFiles, clean) ||
		(filepath.Base(clean) == "docker.sock" && rootlessDir.MatchString(filepath.Dir(clean)))
	holdsSocket := slices.Contains(socketParents, clean) || rootlessDir.MatchString(clean)
	otherSocket := !socket && filepath.Base(clean) == "docker.sock"
	prefix := func(s string) string {
		if via != "" {
			return via + " " + s
		}
		return s
	}
	sock := func(detail string) Finding {
		f := w.finding(DockerSocket, key, value, prefix(detail))
		f.Source = src
		return f
	}
	var out []Finding
	switch {
	case socket:
		return []Finding{sock("mounts the Docker socket, which gives the app the CI host")}
	case holdsSocket:
		out = append(out, sock("mounts a directory that holds the Docker socket, which gives the app the CI host"))
	case otherSocket:
		out = append(out, sock("mounts a file named docker.sock, which would give the app a Docker daemon"))
	}
	f := w.finding(HostPath, key, value,
		prefix("mounts a path of the CI host into the app: only named volumes, tmpfs, configs and secrets may be mounted"))
	f.Source = src
	return append(out, f)
}

// follow returns a bind source as display shows it, after following symlinks when it lies in
// the recipe: the recipe is PR-authored and may commit `conf -> /var/run/docker.sock`, which
// dockerd follows on the host. For such a link it also says so ("./conf, a symlink to /x"),
// else the second result is empty. Paths outside the recipe are the host's own and taken as
// written; a link that cannot be resolved is judged as written (the bind then fails on deploy).
func (w workload) follow(path string) (string, string) {
	src := w.display(path)
	if !strings.HasPrefix(src, "./") && src != "." {
		return src, ""
	}
	dir, err := filepath.EvalSymlinks(w.p.WorkingDir)
	if err != nil {
		return src, ""
	}
	real, err := filepath.EvalSymlinks(filepath.Join(w.p.WorkingDir, src))
	if err != nil {
		return src, ""
	}
	shown := real
	if rel, ok := within(dir, real); ok {
		shown = "./" + rel
		if rel == "." {
			shown = "."
		}
	}
	if shown == src {
		return src, ""
	}
	return shown, plain(src) + ", a symlink to " + plain(shown)
}

// mountValue is the mount as a short-syntax string: "src:target", ":ro" when read-only.
func mountValue(src string, v types.ServiceVolumeConfig) string {
	s := src + ":" + v.Target
	if v.ReadOnly {
		s += ":ro"
	}
	return s
}

// display is path as an operator reads it: "./rel" when it lies in the recipe (compose-go has
// made it absolute under the run's checkout, which differs per run), else the cleaned absolute
// path. A relative path is taken from the recipe dir, as compose-go resolves it.
func (w workload) display(path string) string {
	if path == "" {
		return path
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(w.p.WorkingDir, path)
	}
	path = filepath.Clean(path)
	if rel, ok := within(w.p.WorkingDir, path); ok {
		if rel == "." {
			return "."
		}
		return "./" + rel
	}
	return path
}

// within returns path relative to dir when path lies in dir.
func within(dir, path string) (string, bool) {
	if dir == "" {
		return "", false
	}
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return rel, true
}

// fileOutside reports whether file (a config's, secret's or env_file's path, made absolute by
// compose-go) lies outside the recipe, following symlinks when it exists: a recipe may commit a
// symlink to /etc/shadow. It returns the path as display shows it and, for a symlink that leads
// out, where it leads.
func (w workload) fileOutside(file string) (src, target string, outside bool) {
	src = w.display(file)
	abs := file
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(w.p.WorkingDir, abs)
	}
	if _, ok := within(w.p.WorkingDir, filepath.Clean(abs)); !ok {
		return src, "", true
	}
	real, err := filepath.EvalSymlinks(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return src, "", false // nothing to read: the deploy fails on the missing file
	}
	if err != nil {
		return src, "", true // cannot tell where it leads: refuse
	}
	dir, err := filepath.EvalSymlinks(w.p.WorkingDir)
	if err != nil {
		return src, "", true
	}
	if _, ok := within(dir, real); !ok {
		return src, real, true
	}
	return src, "", false
}
