package appconfig

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// ComposeSecret is a secret the compose files declare, as abra generates it. abra takes the
// secrets to generate from the merged compose files, not from the .env: the compose key is the
// secret's name, the interpolated `name:` its swarm name, the text after the name's last '_' its
// version, and the modifiers (`# length=N`) of the .env variable that the uninterpolated `name:`
// references apply to it (abra pkg/secret ReadSecretsConfig; docs/abra-contract.md).
type ComposeSecret struct {
	ID      string // the compose key, e.g. db_password
	Name    string // the swarm secret name, e.g. <stack>_db_password_v1
	Version string // e.g. v1
	EnvVar  string // the .env variable whose modifiers apply, e.g. SECRET_DB_PASSWORD_VERSION; "" if none
	Length  int    // the `# length=N` modifier; 0: none (abra then generates a passphrase)
}

// ComposeSecrets returns the secrets the app's compose files declare, sorted by ID.
func (c *Config) ComposeSecrets(ctx context.Context, recipeDir string) ([]ComposeSecret, error) {
	raw, err := rawSecretNames(ctx, recipeDir, c.ComposeFiles, c.Environment["STACK_NAME"])
	if err != nil {
		return nil, err
	}
	var out []ComposeSecret
	for id, s := range c.Project.Secrets {
		cs := ComposeSecret{ID: id, Name: s.Name}
		if i := strings.LastIndex(s.Name, "_"); i >= 0 {
			cs.Version = s.Name[i+1:]
		}
		cs.EnvVar, cs.Length = c.modifierFor(raw[id])
		out = append(out, cs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// modifierFor returns the env variable with modifiers that rawName references, and its length.
func (c *Config) modifierFor(rawName string) (string, int) {
	for _, v := range c.Env.Vars {
		if len(v.Modifiers) == 0 || !strings.Contains(rawName, v.Key) {
			continue
		}
		n, err := strconv.Atoi(v.Modifiers["length"])
		if err != nil || n < 0 {
			n = 0
		}
		return v.Key, n
	}
	return "", 0
}

// rawSecretNames returns each secret's `name:` as written, before interpolation.
func rawSecretNames(ctx context.Context, dir string, files []string, stack string) (map[string]string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	details := types.ConfigDetails{WorkingDir: abs}
	for _, f := range files {
		details.ConfigFiles = append(details.ConfigFiles, types.ConfigFile{Filename: filepath.Join(abs, f)})
	}
	model, err := loader.LoadModelWithContext(ctx, details, func(o *loader.Options) {
		o.SetProjectName(stack, true)
		o.SkipInterpolation, o.SkipValidation, o.SkipNormalization = true, true, true
		o.SkipConsistencyCheck, o.SkipResolveEnvironment = true, true
	})
	if err != nil {
		return nil, fmt.Errorf("read secret names: %w", err)
	}
	out := map[string]string{}
	secrets, _ := model["secrets"].(map[string]any)
	for id, v := range secrets {
		if m, ok := v.(map[string]any); ok {
			out[id], _ = m["name"].(string)
		}
	}
	return out, nil
}
