package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Why the app's variables reach compose this way: abra interpolates the compose files in its own
// process (the operator's environment with the app's .env and abra.sh's exports over it) and then
// talks to the server's Docker context, so an app's variables never steer Docker (abra
// pkg/upstream/stack LoadComposefile + buildEnvironment; docs/abra-contract.md). The fake deploys
// with the docker CLI, whose compose interpolation reads only its process environment, which is
// also where the CLI reads its own connection settings (DOCKER_HOST, DOCKER_CONTEXT,
// DOCKER_TLS_VERIFY, DOCKER_CONFIG, HOME, proxies). So the CLI gets the fake's own environment,
// plus each app variable that cannot steer it under its own name; an app variable that could
// (DOCKER_*, or a name the fake's environment already holds) is passed as CCCI_APP_<NAME>, and the
// compose files' references to it are renamed to match, in a copy beside the original (so the
// recipe's relative paths still resolve). docker then does all of the interpolation itself, with
// its own defaults, errors and type casts, and the app's DOCKER_HOST reaches the app's containers
// but never the CI's docker command.

// appVarPrefix is the name under which an app variable that would steer the docker CLI is passed.
const appVarPrefix = "CCCI_APP_"

// cliOwnVars are variables the docker CLI reads for itself besides DOCKER_*.
var cliOwnVars = map[string]bool{
	"PATH": true, "HOME": true, "USER": true, "TMPDIR": true, "XDG_CONFIG_HOME": true, "XDG_RUNTIME_DIR": true,
	"HTTP_PROXY": true, "HTTPS_PROXY": true, "NO_PROXY": true, "ALL_PROXY": true,
	"http_proxy": true, "https_proxy": true, "no_proxy": true, "all_proxy": true, "SSH_AUTH_SOCK": true,
}

// deployEnv returns the docker CLI's environment for a deploy: the fake's own environment, then
// the app's interpolation variables, each under its own name or, when it would steer the CLI or
// shadow the fake's environment, as CCCI_APP_<NAME>; renamed lists the latter.
func deployEnv(environ []string, vars map[string]string) (env []string, renamed map[string]bool) {
	own := map[string]bool{}
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		own[k] = true
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	env = append([]string{}, environ...)
	renamed = map[string]bool{}
	for _, k := range keys {
		if strings.HasPrefix(k, "DOCKER_") || cliOwnVars[k] || own[k] {
			renamed[k] = true
			env = append(env, appVarPrefix+k+"="+vars[k])
			continue
		}
		env = append(env, k+"="+vars[k])
	}
	return env, renamed
}

// renameRefs returns text with every compose reference to a renamed variable ($NAME, ${NAME},
// ${NAME:-default} and the other ${NAME<op>...} forms, nested ones included) pointing at
// CCCI_APP_NAME; `$$` (a literal $) is left alone. changed reports whether anything was renamed.
func renameRefs(text string, renamed map[string]bool) (string, bool) {
	var b strings.Builder
	changed := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		b.WriteByte(c)
		if c != '$' || i+1 >= len(text) {
			continue
		}
		next := text[i+1]
		if next == '$' {
			b.WriteByte(next)
			i++
			continue
		}
		start := i + 1
		if next == '{' {
			b.WriteByte(next)
			start++
			i++
		}
		end := start
		for end < len(text) && isNameByte(text[end], end == start) {
			end++
		}
		if end > start && renamed[text[start:end]] {
			b.WriteString(appVarPrefix)
			changed = true
		}
	}
	return b.String(), changed
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9')
}

// deployFiles are the compose files a deploy hands to docker, relative to the recipe dir.
type deployFiles struct {
	names   []string
	written []string // renamed copies to remove after the deploy
}

func (d deployFiles) cleanup() {
	for _, p := range d.written {
		_ = os.Remove(p) // best effort: a leftover copy is git-ignored (see excludeCopies)
	}
}

// copyPrefix starts the name of a compose file copy with renamed references.
const copyPrefix = ".fake-abra-"

// prepareFiles returns the compose files to deploy: each of cfg's files as it is, or, when it
// references a renamed variable, a renamed copy beside it.
func prepareFiles(dir, stack string, files []string, renamed map[string]bool) (deployFiles, error) {
	var d deployFiles
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			d.cleanup()
			return deployFiles{}, fmt.Errorf("compose file %s: %w", name, err)
		}
		out, changed := renameRefs(string(data), renamed)
		if !changed {
			d.names = append(d.names, name)
			continue
		}
		if err := excludeCopies(dir); err != nil {
			d.cleanup()
			return deployFiles{}, err
		}
		copyName := filepath.Join(filepath.Dir(name), copyPrefix+stack+"-"+filepath.Base(name))
		path := filepath.Join(dir, copyName)
		if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
			d.cleanup()
			return deployFiles{}, fmt.Errorf("compose file %s: %w", name, err)
		}
		d.names, d.written = append(d.names, copyName), append(d.written, path)
	}
	return d, nil
}

// excludeCopies makes git ignore the renamed copies, so a copy left by a killed deploy never
// marks the checkout dirty (a chaos version with "+U").
func excludeCopies(dir string) error {
	info := filepath.Join(dir, ".git", "info")
	if !isDir(filepath.Join(dir, ".git")) {
		return nil
	}
	path := filepath.Join(info, "exclude")
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("git exclude: %w", err)
	}
	line := copyPrefix + "*"
	for _, l := range strings.Split(string(data), "\n") {
		if l == line {
			return nil
		}
	}
	if err := os.MkdirAll(info, 0o755); err != nil {
		return fmt.Errorf("git exclude: %w", err)
	}
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("git exclude: %w", err)
	}
	if _, err := fh.WriteString("\n" + line + "\n"); err != nil {
		_ = fh.Close()
		return fmt.Errorf("git exclude: %w", err)
	}
	return fh.Close()
}

// checkVersionLabel refuses a recipe whose deployed version abra could not record or read. abra
// writes the coop-cloud.<stack>.version (and chaos, chaos-version) labels to the service named
// "app" and reads them back from it (abra pkg/app SetChaosLabel, SetChaosVersionLabel, GetLabel:
// `if service.Name == "app"`; lint rule R010 "service named 'app'"; docs/abra-contract.md).
func checkVersionLabel(p *types.Project, stack string) error {
	key := "coop-cloud." + stack + ".version"
	app, ok := p.Services["app"]
	if !ok {
		return fmt.Errorf("the recipe has no service named app: abra records the deployed version as the %s label on the app service "+
			"(abra recipe lint R010); name the recipe's main service app", key)
	}
	if app.Deploy != nil {
		if _, ok := app.Deploy.Labels[key]; ok {
			return nil
		}
	}
	names := p.ServiceNames()
	sort.Strings(names)
	for _, name := range names {
		s := p.Services[name]
		if s.Deploy == nil {
			continue
		}
		if _, ok := s.Deploy.Labels[key]; ok {
			return fmt.Errorf("the %s label is on service %s, not app: abra writes and reads the version label on the app service only; "+
				"move the coop-cloud.${STACK_NAME}.version label to the app service", key, name)
		}
	}
	return nil
}
