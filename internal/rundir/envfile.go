package rundir

import (
	"fmt"
	"os"
	"path/filepath"

	"coopcloud.tech/cc-ci/internal/appconfig"
	"coopcloud.tech/cc-ci/internal/atomicfile"
)

// ReadEnvFile reads an app .env the way abra reads it (appconfig.ReadEnvFile) and returns the
// values (a later assignment of a key wins) and the keys in first-seen order.
func ReadEnvFile(path string) (map[string]string, []string, error) {
	env, err := appconfig.ReadEnvFile(path)
	if err != nil {
		return nil, nil, err
	}
	return env.Map(), env.Keys(), nil
}

// SetEnvValue sets key to value in the .env at path, rewriting every assignment of key in place
// (keeping its inline comment) or appending one, and keeping all other lines, comments and their
// order (appconfig.SetValue). The file is replaced atomically (temp file + rename in the same
// directory, after resolving symlinks so a linked file stays linked); it must already exist, so a
// mistyped domain fails instead of creating a stray app.
func SetEnvValue(path, key, value string) error {
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
	out, err := appconfig.SetValue(string(data), key, value)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := atomicfile.Write(real, []byte(out), fi.Mode().Perm()); err != nil {
		return fmt.Errorf("set %s in %s: %w", key, path, err)
	}
	return nil
}
