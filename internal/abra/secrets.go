package abra

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// secretKey matches abra's secret declarations in an app's .env: SECRET_<NAME>_VERSION=<v>.
var secretKey = regexp.MustCompile(`^\s*(?:export\s+)?SECRET_([A-Z0-9_]+)_VERSION=`)

// appNewMasked runs `app new --secrets`, which prints the secrets it generated. Their values are
// unknown until abra prints them, so the output is held back, every value on a line naming one
// of the app's secrets is registered with the masker, and only then is the output written out.
func (c *Client) appNewMasked(ctx context.Context, args []string, server, domain string) error {
	var held bytes.Buffer
	_, err := c.runTo(ctx, &held, args)
	names := c.secretNames(server, domain)
	var ae *Error
	raw := held.String()
	if errors.As(err, &ae) {
		raw += "\n" + ae.Output
	}
	registerSecretValues(c.Masker, raw, names)
	if errors.As(err, &ae) {
		ae.Output = c.Masker.Mask(ae.Output)
	}
	out := c.Out
	if out == nil {
		out = io.Discard
	}
	_, _ = io.WriteString(out, c.Masker.Mask(held.String()))
	return err
}

// secretNames reads the secret names the app's .env declares (lower-cased, as abra prints them).
func (c *Client) secretNames(server, domain string) []string {
	dir, _ := envValue(c.Env, "ABRA_DIR")
	data, err := os.ReadFile(filepath.Join(dir, "servers", server, domain+".env"))
	if err != nil {
		return nil
	}
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		if m := secretKey.FindStringSubmatch(line); m != nil {
			names = append(names, strings.ToLower(m[1]))
		}
	}
	return names
}

// registerSecretValues adds every token of >= MinSecretLen chars on a line that names a secret,
// other than the name itself, to m. Table borders and separators are not tokens.
func registerSecretValues(m *Masker, out string, names []string) {
	if m == nil || len(names) == 0 {
		return
	}
	for _, line := range strings.Split(strings.ReplaceAll(out, "\r", ""), "\n") {
		fields := strings.FieldsFunc(line, func(r rune) bool {
			return r == ' ' || r == '\t' || r == '|' || r == '│' || r == '┃'
		})
		for _, name := range names {
			if !contains(fields, name) {
				continue
			}
			for _, f := range fields {
				if f != name && len(f) >= MinSecretLen {
					m.Add(f)
				}
			}
		}
	}
}

func contains(fields []string, s string) bool {
	for _, f := range fields {
		if f == s {
			return true
		}
	}
	return false
}
