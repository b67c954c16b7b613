package rundir

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"coopcloud.tech/cc-ci/internal/atomicfile"
)

// envKey is what a dotenv key may look like; anything else on an assignment line is an error.
var envKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// plainValue is a value that needs no quotes to survive a round trip.
var plainValue = regexp.MustCompile(`^[A-Za-z0-9_./:@%+,=~-]*$`)

// envLine is one parsed assignment. prefix is everything before the value (e.g. `export KEY=`),
// trailer everything after it (an inline comment such as abra's `# length=32`), so a rewrite can
// keep both.
type envLine struct {
	key, value, prefix, trailer string
}

// ReadEnvFile reads a dotenv-style app .env as abra writes it: KEY=value lines, blank lines and
// # comments, optional `export `, single or double quoted values and inline comments after
// whitespace. It returns the values and the keys in first-seen order; a later assignment of the
// same key wins, as in abra.
func ReadEnvFile(path string) (map[string]string, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read env file: %w", err)
	}
	values := map[string]string{}
	var order []string
	for i, line := range strings.Split(string(data), "\n") {
		l, ok, err := parseEnvLine(line)
		if err != nil {
			return nil, nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		if !ok {
			continue
		}
		if _, seen := values[l.key]; !seen {
			order = append(order, l.key)
		}
		values[l.key] = l.value
	}
	return values, order, nil
}

// SetEnvValue sets key to value in the .env at path, rewriting every assignment of key in place
// (keeping its inline comment) or appending one, and keeping all other lines, comments and their
// order. The file is replaced atomically (temp file + rename in the same directory, after
// resolving symlinks so a linked file stays linked); it must already exist, so a mistyped domain
// fails instead of creating a stray app.
func SetEnvValue(path, key, value string) error {
	if !envKey.MatchString(key) {
		return fmt.Errorf("set %s in %s: invalid key", key, path)
	}
	if strings.ContainsAny(value, "\n\r") {
		return fmt.Errorf("set %s in %s: value contains a newline", key, path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("set %s: %w", key, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("set %s: %w", key, err)
	}
	data, err := os.ReadFile(real)
	if err != nil {
		return fmt.Errorf("set %s: %w", key, err)
	}
	out, err := setInLines(string(data), key, value)
	if err != nil {
		return fmt.Errorf("set %s in %s: %w", key, path, err)
	}
	if err := atomicfile.Write(real, []byte(out), fi.Mode().Perm()); err != nil {
		return fmt.Errorf("set %s in %s: %w", key, path, err)
	}
	return nil
}

// setInLines returns text with key set to value.
func setInLines(text, key, value string) (string, error) {
	lines := strings.Split(text, "\n")
	found := false
	for i, line := range lines {
		l, ok, err := parseEnvLine(line)
		if err != nil {
			return "", fmt.Errorf("line %d: %w", i+1, err)
		}
		if ok && l.key == key {
			lines[i] = l.prefix + quoteEnvValue(value) + l.trailer
			found = true
		}
	}
	if found {
		return strings.Join(lines, "\n"), nil
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return text + key + "=" + quoteEnvValue(value) + "\n", nil
}

// parseEnvLine parses one line; ok is false for blank and comment lines.
func parseEnvLine(line string) (envLine, bool, error) {
	trimmed := strings.TrimSpace(line)
	if trimmed == "" || strings.HasPrefix(trimmed, "#") {
		return envLine{}, false, nil
	}
	eq := strings.IndexByte(line, '=')
	if eq < 0 {
		return envLine{}, false, fmt.Errorf("no '=' in %q", trimmed)
	}
	key := strings.TrimSpace(line[:eq])
	key = strings.TrimSpace(strings.TrimPrefix(key, "export "))
	if !envKey.MatchString(key) {
		return envLine{}, false, fmt.Errorf("invalid key %q", key)
	}
	rest := line[eq+1:]
	lead := len(rest) - len(strings.TrimLeft(rest, " \t"))
	if lead > 0 && strings.HasPrefix(rest[lead:], "#") {
		// `KEY= # note`: an empty value followed by a comment.
		return envLine{key: key, prefix: line[:eq+1], trailer: rest}, true, nil
	}
	prefix := line[:eq+1+lead]
	value, trailer, err := splitEnvValue(rest[lead:])
	if err != nil {
		return envLine{}, false, fmt.Errorf("%s: %w", key, err)
	}
	return envLine{key: key, value: value, prefix: prefix, trailer: trailer}, true, nil
}

// splitEnvValue separates a raw value from what follows it (whitespace and an inline comment).
func splitEnvValue(raw string) (value, trailer string, err error) {
	switch {
	case strings.HasPrefix(raw, `"`):
		var b strings.Builder
		for i := 1; i < len(raw); i++ {
			c := raw[i]
			switch {
			case c == '"':
				return b.String(), raw[i+1:], nil
			case c == '\\' && i+1 < len(raw):
				i++
				switch raw[i] {
				case 'n':
					b.WriteByte('\n')
				default:
					b.WriteByte(raw[i])
				}
			default:
				b.WriteByte(c)
			}
		}
		return "", "", fmt.Errorf("unterminated double quote")
	case strings.HasPrefix(raw, "'"):
		end := strings.IndexByte(raw[1:], '\'')
		if end < 0 {
			return "", "", fmt.Errorf("unterminated single quote")
		}
		return raw[1 : 1+end], raw[2+end:], nil
	}
	cut := len(raw)
	for i := 1; i < len(raw); i++ {
		if raw[i] == '#' && (raw[i-1] == ' ' || raw[i-1] == '\t') {
			cut = i
			break
		}
	}
	value = strings.TrimRight(raw[:cut], " \t\r")
	return value, raw[len(value):], nil
}

// quoteEnvValue writes value plain when that is unambiguous, else double-quoted.
func quoteEnvValue(value string) string {
	if plainValue.MatchString(value) {
		return value
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(value) + `"`
}
