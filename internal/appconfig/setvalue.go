package appconfig

import (
	"fmt"
	"regexp"
	"strings"
)

// envKeyPattern is a key SetValue may write: what compose and a shell accept.
var envKeyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// plainValue is a value that reads back unchanged without quotes.
var plainValue = regexp.MustCompile(`^[A-Za-z0-9_./:@%+,=~-]*$`)

// SetValue returns content with key set to value: every assignment of key has its value
// rewritten in place (keeping `export `, the inline comment and its modifiers), or, when key is
// not assigned, `KEY=value` is appended. All other lines are kept. The value is written so that
// ParseEnv reads it back exactly (see quoteValue); a value holding a line break is refused.
func SetValue(content, key, value string) (string, error) {
	if !envKeyPattern.MatchString(key) {
		return "", fmt.Errorf("set %s: invalid key", key)
	}
	quoted, err := quoteValue(value)
	if err != nil {
		return "", fmt.Errorf("set %s: %w", key, err)
	}
	as, src, err := parseAssignments(content)
	if err != nil {
		return "", fmt.Errorf("set %s: %w", key, err)
	}
	var b strings.Builder
	last, found := 0, false
	for _, a := range as {
		if a.Key != key {
			continue
		}
		b.WriteString(src[last:a.valStart])
		b.WriteString(quoted)
		last, found = a.valEnd, true
	}
	if found {
		b.WriteString(src[last:])
		return b.String(), nil
	}
	if src != "" && !strings.HasSuffix(src, "\n") {
		src += "\n"
	}
	return src + key + "=" + quoted + "\n", nil
}

// quoteValue writes v so that ParseEnv reads it back unchanged. godotenv finds a closing quote
// as the first quote not preceded by a backslash and trims every quote character at both ends, so
// a double-quoted value must not end in `"` or `\`; a single-quoted one (literal) must hold no `'`
// and not end in `\`.
func quoteValue(v string) (string, error) {
	switch {
	case v == "":
		return `""`, nil // plain, a following `# comment` would become the value
	case plainValue.MatchString(v):
		return v, nil
	case strings.ContainsAny(v, "\n\r"):
		return "", fmt.Errorf("value contains a newline")
	case !strings.HasSuffix(v, `"`) && !strings.HasSuffix(v, `\`):
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`).Replace(v) + `"`, nil
	case !strings.Contains(v, "'") && !strings.HasSuffix(v, `\`):
		return "'" + v + "'", nil
	}
	return "", fmt.Errorf("value %q cannot be written so that abra reads it back unchanged", v)
}
