package main

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// envVar is one KEY=value assignment of an abra .env file.
type envVar struct{ Key, Value string }

// parseEnv reads a .env file the way abra's godotenv does for the subset recipes use: blank
// lines and # comments are skipped, `export ` is dropped, values may be single- or double-quoted,
// and an unquoted value ends at " #". Order is kept; a later duplicate wins in envMap.
func parseEnv(content string) []envVar {
	var out []envVar
	for _, line := range strings.Split(content, "\n") {
		key, value, ok := parseAssignment(line)
		if ok {
			out = append(out, envVar{key, value})
		}
	}
	return out
}

func parseAssignment(line string) (string, string, bool) {
	t := strings.TrimSpace(line)
	if t == "" || strings.HasPrefix(t, "#") {
		return "", "", false
	}
	t = strings.TrimPrefix(t, "export ")
	key, raw, ok := strings.Cut(t, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" || strings.ContainsAny(key, " \t") {
		return "", "", false
	}
	raw = strings.TrimSpace(raw)
	if raw != "" && (raw[0] == '"' || raw[0] == '\'') {
		if end := strings.IndexByte(raw[1:], raw[0]); end >= 0 {
			v := raw[1 : end+1]
			if raw[0] == '"' {
				if u, err := strconv.Unquote(`"` + v + `"`); err == nil {
					v = u
				}
			}
			return key, v, true
		}
	}
	if i := strings.Index(raw, " #"); i >= 0 {
		raw = strings.TrimSpace(raw[:i])
	}
	return key, raw, true
}

func envMap(vars []envVar) map[string]string {
	m := make(map[string]string, len(vars))
	for _, v := range vars {
		m[v.Key] = v.Value
	}
	return m
}

// rewriteEnv returns sample with each key of set assigned its value: the first active (not
// commented) assignment of the key is replaced in place, keys the sample lacks are appended.
// Every other line, comments included, is kept as it is.
func rewriteEnv(sample string, set []envVar) string {
	lines := strings.Split(sample, "\n")
	done := map[string]bool{}
	for i, line := range lines {
		key, _, ok := parseAssignment(line)
		if !ok || done[key] {
			continue
		}
		for _, s := range set {
			if s.Key == key {
				lines[i] = s.Key + "=" + s.Value
				done[key] = true
			}
		}
	}
	out := strings.Join(lines, "\n")
	for _, s := range set {
		if !done[s.Key] {
			if out != "" && !strings.HasSuffix(out, "\n") {
				out += "\n"
			}
			out += s.Key + "=" + s.Value + "\n"
		}
	}
	return out
}

// secretDecl is a secret an app's .env declares as SECRET_<NAME>_VERSION=<version>.
type secretDecl struct {
	Name    string // lower case, as in compose.yml
	Version string
}

var secretKey = regexp.MustCompile(`^SECRET_(.+)_VERSION$`)

// secretDecls returns the declared secrets sorted by name.
func secretDecls(vars []envVar) []secretDecl {
	byName := map[string]string{}
	for _, v := range vars {
		if m := secretKey.FindStringSubmatch(v.Key); m != nil {
			byName[strings.ToLower(m[1])] = v.Value
		}
	}
	out := make([]secretDecl, 0, len(byName))
	for n, ver := range byName {
		out = append(out, secretDecl{Name: n, Version: ver})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// maxSecretName is docker's limit on secret names (swarmkit validates names to 64 characters).
const maxSecretName = 64

// dockerName is the swarm secret name abra uses: <stack>_<name>_<version>.
func (d secretDecl) dockerName(stack string) string {
	return stack + "_" + d.Name + "_" + d.Version
}

// checkSecretNames fails, before anything is created, when a secret's swarm name is too long.
func checkSecretNames(stack string, decls []secretDecl) error {
	for _, d := range decls {
		if d.Version == "" {
			return fmt.Errorf("secret %s has an empty version (SECRET_%s_VERSION)", d.Name, strings.ToUpper(d.Name))
		}
		if n := d.dockerName(stack); len(n) > maxSecretName {
			return fmt.Errorf("secret name too long: %q for secret %s is %d characters, docker allows at most %d: "+
				"invalid name, only %d [a-zA-Z0-9-_.] characters allowed",
				n, d.Name, len(n), maxSecretName, maxSecretName)
		}
	}
	return nil
}
