package appconfig

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Var is one assignment of an env file, in file order.
type Var struct {
	Key   string
	Value string // quotes removed, escapes and $VAR references of earlier lines expanded
	// Modifiers are the key=value words of the inline comment after the value, which abra reads
	// as instructions (e.g. `SECRET_DB_PASSWORD_VERSION=v1 # length=128`); nil when there are none.
	Modifiers map[string]string
	Line      int // 1-based line of the key
}

// Env is an env file's assignments in file order. A key may appear more than once; the later
// assignment wins, as in abra.
type Env struct {
	Vars []Var
}

// ReadEnvFile reads the env file at path as abra does (see ParseEnv). Errors name the file and
// the line.
func ReadEnvFile(path string) (Env, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Env{}, fmt.Errorf("read env file: %w", err)
	}
	env, err := ParseEnv(string(data))
	if err != nil {
		return Env{}, fmt.Errorf("%s %w", path, err)
	}
	return env, nil
}

// ParseEnv parses env file content the way abra does. abra reads app .env files with its fork of
// joho/godotenv (v1.5 parser, plus the inline-comment modifiers), so this follows that parser:
// https://github.com/joho/godotenv/blob/main/parser.go
//   - blank lines and lines whose first non-space character is # are skipped;
//   - a leading `export ` is dropped; KEY=value and KEY: value are both assignments;
//   - an unquoted value runs to the end of the line, cut at the last `#` that follows a space or
//     tab (`URL=http://x/#frag` keeps its #), and is trimmed;
//   - a single-quoted value is literal and may span lines; a double-quoted value may span lines
//     and has \n and \r unescaped and other backslash escapes removed;
//   - in unquoted and double-quoted values, $VAR and ${VAR} (upper case, digits and _) are
//     replaced by the value of VAR assigned on an earlier line, or "" when there is none (unlike
//     godotenv the process environment is never consulted: the runner's variables must not leak
//     into a recipe's configuration); \$ is a literal $;
//   - CRLF line ends are read as LF and a YAML document marker `---` at a line end is dropped.
//
// It is stricter than godotenv where godotenv silently accepts nonsense: a key containing
// spaces, an empty key and a last line without `=` are errors. Errors name the line.
func ParseEnv(content string) (Env, error) {
	as, _, err := parseAssignments(content)
	if err != nil {
		return Env{}, err
	}
	env := Env{Vars: make([]Var, len(as))}
	for i, a := range as {
		env.Vars[i] = a.Var
	}
	return env, nil
}

// Map returns the variables as a map; a later assignment of a key wins.
func (e Env) Map() map[string]string {
	m := make(map[string]string, len(e.Vars))
	for _, v := range e.Vars {
		m[v.Key] = v.Value
	}
	return m
}

// Get returns the value of key's last assignment.
func (e Env) Get(key string) (string, bool) {
	for i := len(e.Vars) - 1; i >= 0; i-- {
		if e.Vars[i].Key == key {
			return e.Vars[i].Value, true
		}
	}
	return "", false
}

// Keys returns the keys in order of first assignment.
func (e Env) Keys() []string {
	seen := map[string]bool{}
	var keys []string
	for _, v := range e.Vars {
		if !seen[v.Key] {
			seen[v.Key] = true
			keys = append(keys, v.Key)
		}
	}
	return keys
}

// Secret is a secret an env file declares as SECRET_<NAME>_VERSION=<version>.
type Secret struct {
	Name    string // lower case, as compose.yml names it
	Version string
	// Length is the `# length=N` modifier: abra generates a password of N characters for it;
	// 0 when absent (abra then generates a passphrase).
	Length int
}

// secretKey matches abra's secret version keys.
var secretKey = regexp.MustCompile(`^SECRET_(.+)_VERSION$`)

// SecretName returns the secret a SECRET_<NAME>_VERSION key declares (lower case, as
// compose.yml names it), or false when key declares none.
func SecretName(key string) (string, bool) {
	m := secretKey.FindStringSubmatch(key)
	if m == nil {
		return "", false
	}
	return strings.ToLower(m[1]), true
}

// Secrets returns the declared secrets sorted by name; a later declaration of a name wins. A
// length modifier that is not a positive number is ignored (Length 0).
func (e Env) Secrets() []Secret {
	byName := map[string]Secret{}
	for _, v := range e.Vars {
		name, ok := SecretName(v.Key)
		if !ok {
			continue
		}
		s := Secret{Name: name, Version: v.Value}
		if n, err := strconv.Atoi(v.Modifiers["length"]); err == nil && n > 0 {
			s.Length = n
		}
		byName[s.Name] = s
	}
	out := make([]Secret, 0, len(byName))
	for _, s := range byName {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// DefaultComposeFile is what abra deploys when the env sets no COMPOSE_FILE.
const DefaultComposeFile = "compose.yml"

// ComposeFiles returns the compose files env selects, in order: COMPOSE_FILE split on ':', or
// compose.yml when COMPOSE_FILE is unset or empty. abra does the same (pkg/app GetComposeFiles);
// empty segments (a stray ':') are dropped here.
func ComposeFiles(env map[string]string) []string {
	var files []string
	for _, f := range strings.Split(env["COMPOSE_FILE"], ":") {
		if f = strings.TrimSpace(f); f != "" {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return []string{DefaultComposeFile}
	}
	return files
}

// assignment is a parsed Var with the byte range of its raw value in the normalised content
// (quotes included, inline comment excluded), so SetValue can rewrite it in place.
type assignment struct {
	Var
	valStart, valEnd int
}

// normalise applies godotenv's two rewrites before parsing.
func normalise(content string) string {
	content = strings.ReplaceAll(content, "---\n", "\n")
	return strings.ReplaceAll(content, "\r\n", "\n")
}

// parseAssignments parses content and returns the assignments and the normalised content their
// offsets refer to.
func parseAssignments(content string) ([]assignment, string, error) {
	src := normalise(content)
	vars := map[string]string{}
	var out []assignment
	pos := 0
	for {
		start := statementStart(src, pos)
		if start < 0 {
			return out, src, nil
		}
		line := lineOf(src, start)
		key, valStart, err := locateKey(src, start)
		if err != nil {
			return nil, "", fmt.Errorf("line %d: %w", line, err)
		}
		v, err := extractValue(src, valStart, vars)
		if err != nil {
			return nil, "", fmt.Errorf("line %d: %s: %w", line, key, err)
		}
		vars[key] = v.value
		out = append(out, assignment{
			Var:      Var{Key: key, Value: v.value, Modifiers: modifiers(v.comment), Line: line},
			valStart: valStart, valEnd: v.end,
		})
		pos = v.rest
	}
}

func lineOf(src string, offset int) int {
	return strings.Count(src[:offset], "\n") + 1
}

// statementStart returns the offset of the next assignment at or after pos, skipping white
// space and comment lines; -1 at the end.
func statementStart(src string, pos int) int {
	for {
		i := strings.IndexFunc(src[pos:], func(r rune) bool { return !unicode.IsSpace(r) })
		if i < 0 {
			return -1
		}
		pos += i
		if src[pos] != '#' {
			return pos
		}
		nl := strings.IndexByte(src[pos:], '\n')
		if nl < 0 {
			return -1
		}
		pos += nl
	}
}

// locateKey parses the key of the statement at start and returns it with the offset of its
// value (after `=` or `:` and any spaces).
func locateKey(src string, start int) (string, int, error) {
	p := start
	for p < len(src) && isSpace(rune(src[p])) {
		p++
	}
	if rest := src[p:]; strings.HasPrefix(rest, "export") && len(rest) > 6 && isSpace(rune(rest[6])) {
		p += 6
		for p < len(src) && isSpace(rune(src[p])) {
			p++
		}
	}
	end := -1
	for i := p; i < len(src); i++ {
		c := rune(src[i])
		if isSpace(c) {
			continue
		}
		if c == '=' || c == ':' {
			end = i
			break
		}
		if c == '_' || c == '.' || unicode.IsLetter(c) || unicode.IsNumber(c) {
			continue
		}
		if c == '\n' {
			break
		}
		return "", 0, fmt.Errorf("unexpected character %q in variable name near %q", string(c), firstLine(src[p:]))
	}
	if end < 0 {
		return "", 0, fmt.Errorf("no '=' in %q", firstLine(src[p:]))
	}
	key := strings.TrimRightFunc(src[p:end], unicode.IsSpace)
	if key == "" {
		return "", 0, fmt.Errorf("empty variable name in %q", firstLine(src[p:]))
	}
	if strings.IndexFunc(key, isSpace) >= 0 {
		return "", 0, fmt.Errorf("invalid key %q: a variable name has no spaces", key)
	}
	v := end + 1
	for v < len(src) && isSpace(rune(src[v])) {
		v++
	}
	return key, v, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// rawValue is one extracted value: end is where its raw text ends (after the closing quote, or
// before the inline comment), rest where parsing goes on, comment the inline comment (from '#').
type rawValue struct {
	value, comment string
	end, rest      int
}

// extractValue reads the value starting at p (godotenv's extractVarValue).
func extractValue(src string, p int, vars map[string]string) (rawValue, error) {
	if p >= len(src) || (src[p] != '"' && src[p] != '\'') {
		eol := strings.IndexAny(src[p:], "\n\r")
		if eol < 0 {
			eol = len(src) - p
		}
		line := []rune(src[p : p+eol])
		endOfVar := len(line)
		for i := len(line) - 1; i > 0; i-- {
			if line[i] == '#' && isSpace(line[i-1]) {
				endOfVar = i
				break
			}
		}
		raw := strings.TrimRightFunc(string(line[:endOfVar]), isSpace)
		return rawValue{
			value:   expandVariables(strings.TrimFunc(raw, isSpace), vars),
			comment: string(line[endOfVar:]),
			end:     p + len(raw),
			rest:    p + eol,
		}, nil
	}
	quote := src[p]
	for i := p + 1; i < len(src); i++ {
		if src[i] != quote || src[i-1] == '\\' {
			continue
		}
		isQuote := func(r rune) bool { return r == rune(quote) }
		value := strings.TrimLeftFunc(strings.TrimRightFunc(src[p:i], isQuote), isQuote)
		if quote == '"' {
			value = expandVariables(expandEscapes(value), vars)
		}
		return rawValue{value: value, comment: trailingComment(src[i+1:]), end: i + 1, rest: i + 1}, nil
	}
	return rawValue{}, fmt.Errorf("unterminated quoted value %s", firstLine(src[p:]))
}

// trailingComment returns the comment that follows a closing quote on the same line ("" when
// the rest of the line is not a comment after white space).
func trailingComment(after string) string {
	line := firstLine(after)
	trimmed := strings.TrimLeftFunc(line, isSpace)
	if strings.HasPrefix(trimmed, "#") && len(trimmed) < len(line) {
		return trimmed
	}
	return ""
}

// modifiers parses an inline comment such as "# length=128" into its key=value words.
func modifiers(comment string) map[string]string {
	comment = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(comment), "#"))
	var mods map[string]string
	for _, w := range strings.Fields(comment) {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			continue
		}
		if mods == nil {
			mods = map[string]string{}
		}
		mods[k] = v
	}
	return mods
}

// isSpace is godotenv's: white space that is not a line break.
func isSpace(r rune) bool {
	switch r {
	case '\t', '\v', '\f', '\r', ' ', 0x85, 0xA0:
		return true
	}
	return false
}

var (
	escapeRegex        = regexp.MustCompile(`\\.`)
	expandVarRegex     = regexp.MustCompile(`(\\)?(\$)(\()?\{?([A-Z0-9_]+)?\}?`)
	unescapeCharsRegex = regexp.MustCompile(`\\([^$])`)
)

// expandEscapes is godotenv's: \n and \r become line breaks, other escapes lose their backslash
// (except \$, kept for expandVariables).
func expandEscapes(s string) string {
	out := escapeRegex.ReplaceAllStringFunc(s, func(m string) string {
		switch m[1:] {
		case "n":
			return "\n"
		case "r":
			return "\r"
		}
		return m
	})
	return unescapeCharsRegex.ReplaceAllString(out, "$1")
}

// expandVariables is godotenv's, looking names up only in the variables read so far.
func expandVariables(v string, vars map[string]string) string {
	return expandVarRegex.ReplaceAllStringFunc(v, func(s string) string {
		m := expandVarRegex.FindStringSubmatch(s)
		switch {
		case m == nil:
			return s
		case m[1] == `\`:
			return m[0][1:]
		case m[4] != "":
			return vars[m[4]]
		}
		return s
	})
}
