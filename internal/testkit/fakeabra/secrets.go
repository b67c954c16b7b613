package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"text/tabwriter"

	"coopcloud.tech/cc-ci/internal/appconfig"
)

// maxSecretName is docker's limit on secret names (swarmkit validates names to 64 characters).
const maxSecretName = 64

// checkSecretNames fails, before anything is created, when a secret's swarm name is unusable:
// abra refuses a name ending in '_' (no version) or longer than docker allows (abra pkg/secret
// ReadSecretsConfig: "missing version for secret?", "secret name too long").
func checkSecretNames(secrets []appconfig.ComposeSecret) error {
	for _, s := range secrets {
		if s.Version == "" || strings.HasSuffix(s.Name, "_") {
			return fmt.Errorf("missing version for secret %s (its name %q ends without one: is SECRET_%s_VERSION set?)",
				s.ID, s.Name, strings.ToUpper(s.ID))
		}
		if len(s.Name) > maxSecretName {
			return fmt.Errorf("secret name too long: %q for secret %s is %d characters, docker allows at most %d: "+
				"invalid name, only %d [a-zA-Z0-9-_.] characters allowed",
				s.Name, s.ID, len(s.Name), maxSecretName, maxSecretName)
		}
	}
	return nil
}

const (
	passwordAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	wordLetters      = "abcdefghijklmnopqrstuvwxyz"
	passphraseWords  = 4
)

// secretValue generates a value as abra does: with a `# length=N` modifier a password of exactly
// N characters, else a human-readable passphrase of words joined by '-' (abra pkg/secret
// GeneratePasswords / GeneratePassphrases; the fake's words are random letters, not a word list).
func secretValue(length int) (string, error) {
	if length > 0 {
		return randomString(passwordAlphabet, length)
	}
	words := make([]string, passphraseWords)
	for i := range words {
		n, err := rand.Int(rand.Reader, big.NewInt(5))
		if err != nil {
			return "", fmt.Errorf("random secret: %w", err)
		}
		if words[i], err = randomString(wordLetters, 4+int(n.Int64())); err != nil {
			return "", err
		}
	}
	return strings.Join(words, "-"), nil
}

func randomString(alphabet string, n int) (string, error) {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		r, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("random secret: %w", err)
		}
		b[i] = alphabet[r.Int64()]
	}
	return string(b), nil
}

// appSecretGenerate: `abra app secret generate <domain> (--all | <secret> <version>) --no-input`.
// abra's forms: every secret the compose files declare, or one named secret at the version given
// (abra cli/app/secret.go "generate [[secret] [version] | --all]"; docs/abra-contract.md).
func appSecretGenerate(ctx context.Context, f *fake, in invocation) error {
	domain, name, version := in.arg(0), in.arg(1), in.arg(2)
	usage := "usage: abra app secret generate <domain> (--all | <secret> <version>) --no-input"
	switch {
	case in.has("--all") && name != "":
		return &usageError{msg: "cannot use '<secret> <version>' and '--all' together", usage: usage}
	case !in.has("--all") && (name == "" || version == ""):
		return &usageError{msg: "missing arguments <secret>/<version> or '--all'", usage: usage}
	}
	cfg, dir, err := f.appConfig(ctx, domain)
	if err != nil {
		return err
	}
	secrets, err := cfg.ComposeSecrets(ctx, dir)
	if err != nil {
		return fmt.Errorf("generate secrets of %s: %w", domain, err)
	}
	if name != "" {
		one, ok := findSecret(secrets, name)
		if !ok {
			return fmt.Errorf("%s doesn't exist in the env config? (the compose files of %s declare no secret %s)", name, domain, name)
		}
		one.Version, one.Name = version, stackName(domain)+"_"+name+"_"+version
		secrets = []appconfig.ComposeSecret{one}
	}
	return f.generateSecrets(ctx, domain, secrets)
}

func findSecret(secrets []appconfig.ComposeSecret, id string) (appconfig.ComposeSecret, bool) {
	for _, s := range secrets {
		if s.ID == id {
			return s, true
		}
	}
	return appconfig.ComposeSecret{}, false
}

// generateSecrets creates each secret as a swarm secret holding a generated value and prints the
// new ones as abra does (the adapter masks the values in its log). A secret that already exists
// is kept with a warning, as abra does ("already exists"), so generating after an upgrade adds
// only what is new.
func (f *fake) generateSecrets(ctx context.Context, domain string, secrets []appconfig.ComposeSecret) error {
	if err := checkSecretNames(secrets); err != nil {
		return fmt.Errorf("generate secrets of %s: %w", domain, err)
	}
	existing, err := f.dockerCmd(ctx, "secret", "ls", "--format", "{{.Name}}")
	if err != nil {
		return fmt.Errorf("generate secrets of %s: %w", domain, err)
	}
	have := map[string]bool{}
	for _, n := range strings.Fields(existing) {
		have[n] = true
	}
	tw := tabwriter.NewWriter(f.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVALUE")
	for _, s := range secrets {
		if have[s.Name] {
			fmt.Fprintf(f.stderr, "WARN %s already exists\n", s.Name)
			continue
		}
		v, err := secretValue(s.Length)
		if err != nil {
			return err
		}
		if _, err := f.execRun(ctx, execSpec{name: "docker", args: []string{"secret", "create", s.Name, "-"},
			stdin: strings.NewReader(v)}); err != nil {
			return fmt.Errorf("generate secret %s: %w", s.ID, err)
		}
		fmt.Fprintf(tw, "%s\t%s\n", s.ID, v)
	}
	return tw.Flush()
}
