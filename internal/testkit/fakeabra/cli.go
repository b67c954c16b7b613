package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// command is one abra command line the fake understands. The set and shape of the command lines
// is the contract with internal/abra, which builds exactly these.
type command struct {
	path     string   // words after "abra", e.g. "app new"
	synopsis string   // positional arguments, for the usage message
	minArgs  int      // positional arguments required
	maxArgs  int      // positional arguments allowed
	bools    []string // boolean flags allowed
	values   []string // flags taking a value
	required []string // flags that must be given
	run      func(ctx context.Context, f *fake, in invocation) error
}

// invocation is a parsed command line: positional arguments and flags (booleans map to "true").
type invocation struct {
	args  []string
	flags map[string]string
}

func (in invocation) has(flag string) bool { _, ok := in.flags[flag]; return ok }

func (in invocation) arg(i int) string {
	if i < len(in.args) {
		return in.args[i]
	}
	return ""
}

// usageError is a command line the fake does not accept; main prints the usage with it.
type usageError struct {
	msg   string
	usage string
}

func (e *usageError) Error() string { return e.msg + "\n" + e.usage }

// commands returns the command table. Every command requires --no-input: the fake never prompts,
// and an adapter that forgets the flag would hang on the real abra.
func commands() []command {
	ni := []string{"--no-input"}
	return []command{
		{path: "app new", synopsis: "<recipe> [<version>]", minArgs: 1, maxArgs: 2,
			bools: []string{"--no-input", "--secrets", "--chaos"}, values: []string{"--server", "--domain"},
			required: []string{"--no-input", "--server", "--domain"}, run: appNew},
		{path: "app deploy", synopsis: "<domain> [<version>]", minArgs: 1, maxArgs: 2,
			bools: []string{"--no-input", "--chaos", "--no-converge-checks", "--no-domain-checks"}, required: ni, run: appDeploy},
		{path: "app undeploy", synopsis: "<domain>", minArgs: 1, maxArgs: 1,
			bools: ni, required: ni, run: appUndeploy},
		{path: "app remove", synopsis: "<domain>", minArgs: 1, maxArgs: 1,
			bools: []string{"--no-input", "--force"}, required: []string{"--no-input", "--force"}, run: appRemove},
		{path: "app secret generate", synopsis: "<domain> (--all | <secret> <version>)", minArgs: 1, maxArgs: 3,
			bools: []string{"--no-input", "--all"}, required: ni, run: appSecretGenerate},
		{path: "app backup create", synopsis: "<domain>", minArgs: 1, maxArgs: 1,
			bools: ni, required: ni, run: appBackupCreate},
		{path: "app restore", synopsis: "<domain>", minArgs: 1, maxArgs: 1, bools: ni,
			values: []string{"--snapshot"}, required: []string{"--no-input", "--snapshot"}, run: appRestore},
		{path: "recipe fetch", synopsis: "<recipe>", minArgs: 1, maxArgs: 1,
			bools: ni, required: ni, run: recipeFetch},
		{path: "recipe lint", synopsis: "<recipe>", minArgs: 1, maxArgs: 1,
			bools: ni, required: ni, run: recipeLint},
	}
}

func (c command) usage() string {
	var flags []string
	for _, b := range c.bools {
		flags = append(flags, "["+b+"]")
	}
	for _, v := range c.values {
		flags = append(flags, "["+v+" <value>]")
	}
	return fmt.Sprintf("usage: abra %s %s %s", c.path, c.synopsis, strings.Join(flags, " "))
}

func allUsage(cmds []command) string {
	lines := []string{"usage (FAKE abra understands only these):"}
	for _, c := range cmds {
		lines = append(lines, "  "+strings.TrimPrefix(c.usage(), "usage: "))
	}
	return strings.Join(lines, "\n")
}

// parseArgs matches argv against cmds (longest command path first) and parses the rest. Flags
// may come before, between or after positional arguments; `--flag=value` and `--flag value`
// are both accepted for value flags. Anything unknown is a usageError.
func parseArgs(argv []string, cmds []command) (command, invocation, error) {
	var best *command
	for i := range cmds {
		words := strings.Fields(cmds[i].path)
		if len(argv) >= len(words) && slices.Equal(argv[:len(words)], words) &&
			(best == nil || len(words) > len(strings.Fields(best.path))) {
			best = &cmds[i]
		}
	}
	if best == nil {
		return command{}, invocation{}, &usageError{
			msg: fmt.Sprintf("unknown command %q", strings.Join(argv, " ")), usage: allUsage(cmds)}
	}
	c := *best
	in, err := parseRest(c, argv[len(strings.Fields(c.path)):])
	if err != nil {
		return command{}, invocation{}, &usageError{msg: err.Error(), usage: c.usage()}
	}
	return c, in, nil
}

func parseRest(c command, rest []string) (invocation, error) {
	in := invocation{flags: map[string]string{}}
	for i := 0; i < len(rest); i++ {
		tok := rest[i]
		if !strings.HasPrefix(tok, "-") || tok == "-" {
			in.args = append(in.args, tok)
			continue
		}
		name, value, hasValue := strings.Cut(tok, "=")
		switch {
		case slices.Contains(c.bools, name) && !hasValue:
			in.flags[name] = "true"
		case slices.Contains(c.values, name) && hasValue:
			in.flags[name] = value
		case slices.Contains(c.values, name):
			if i+1 >= len(rest) {
				return in, fmt.Errorf("flag %s needs a value", name)
			}
			i++
			in.flags[name] = rest[i]
		default:
			return in, fmt.Errorf("flag provided but not defined: %s", tok)
		}
	}
	if len(in.args) < c.minArgs || len(in.args) > c.maxArgs {
		return in, fmt.Errorf("abra %s takes %s, got %d argument(s)", c.path, c.synopsis, len(in.args))
	}
	for _, r := range c.required {
		if !in.has(r) {
			return in, fmt.Errorf("flag %s is required by the FAKE abra", r)
		}
	}
	for _, v := range c.values {
		if in.has(v) && in.flags[v] == "" {
			return in, fmt.Errorf("flag %s needs a non-empty value", v)
		}
	}
	return in, nil
}
