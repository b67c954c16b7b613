package results

import (
	"regexp"
	"strings"
	"unicode"
)

// Rerun is what repeating a run by hand needs: the plugin settings of DESIGN.md 3 that name the
// run (the Drone build params the bridge sets). The bridge's PR comment and the dashboard's run
// page both show Command, so a maintainer reads the same line in both places.
type Rerun struct {
	Recipe, Src, Ref, PR, Repo, Mode, Forge string
}

// Command is the one-line cc-ci-plugin command that repeats the run by hand. Every value came
// from a PR, a forge or a build, so each is shell-quoted; an empty value is left out.
func (r Rerun) Command() string {
	args := []string{"cc-ci-plugin"}
	add := func(flag, v string) {
		if v != "" {
			// --flag=value: a value that starts with '-' can never be read as a flag.
			args = append(args, "--"+flag+"="+ShellWord(v))
		}
	}
	add("recipe", r.Recipe)
	add("src", r.Src)
	add("ref", r.Ref)
	add("pr", r.PR)
	add("repo", r.Repo)
	add("mode", r.Mode)
	add("forge", r.Forge)
	return strings.Join(args, " ")
}

// ShellWord quotes s for a POSIX shell: bare when it holds only characters no shell treats
// specially, else in single quotes (a quote inside closes, escapes and reopens them); a value
// with control characters (a newline would split the one-line command) uses $'...' with
// escapes, which bash, zsh and POSIX.1-2024 sh understand.
func ShellWord(s string) string {
	if s != "" && shellBare.MatchString(s) {
		return s
	}
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for _, c := range s {
		switch {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			b.WriteString(`\x`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&0xf])
		default:
			b.WriteRune(c)
		}
	}
	b.WriteString("'")
	return b.String()
}

var shellBare = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`)
