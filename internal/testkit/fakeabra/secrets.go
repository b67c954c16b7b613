package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"text/tabwriter"
)

const (
	secretAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	secretLength   = 32
)

func randomSecret() (string, error) {
	b := make([]byte, secretLength)
	max := big.NewInt(int64(len(secretAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("random secret: %w", err)
		}
		b[i] = secretAlphabet[n.Int64()]
	}
	return string(b), nil
}

// generateSecrets creates every declared secret as a swarm secret holding a random value and
// prints them as abra does (the adapter masks the values in its log). With replace, an existing
// secret of the same name is removed first, which fails while a service uses it.
func (f *fake) generateSecrets(ctx context.Context, domain string, vars []envVar, replace bool) error {
	stack := stackName(domain)
	decls := secretDecls(vars)
	if err := checkSecretNames(stack, decls); err != nil {
		return fmt.Errorf("generate secrets of %s: %w", domain, err)
	}
	values := make([]string, len(decls))
	for i, d := range decls {
		name := d.dockerName(stack)
		if replace {
			out, err := f.dockerCmd(ctx, "secret", "ls", "--filter", "name="+name, "--format", "{{.Name}}")
			if err != nil {
				return fmt.Errorf("generate secret %s: %w", d.Name, err)
			}
			for _, existing := range strings.Fields(out) {
				if existing != name {
					continue
				}
				if _, err := f.dockerCmd(ctx, "secret", "rm", name); err != nil {
					return fmt.Errorf("replace secret %s: %w", d.Name, err)
				}
			}
		}
		v, err := randomSecret()
		if err != nil {
			return err
		}
		if _, err := f.execRun(ctx, execSpec{name: "docker", args: []string{"secret", "create", name, "-"},
			stdin: strings.NewReader(v)}); err != nil {
			return fmt.Errorf("generate secret %s: %w", d.Name, err)
		}
		values[i] = v
	}
	tw := tabwriter.NewWriter(f.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVALUE")
	for i, d := range decls {
		fmt.Fprintf(tw, "%s\t%s\n", d.Name, values[i])
	}
	return tw.Flush()
}
