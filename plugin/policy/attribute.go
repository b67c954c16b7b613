package policy

import (
	"context"
	"os"
	"path/filepath"
	"regexp"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"

	"coopcloud.tech/cc-ci/internal/appconfig"
)

// attribute sets File on each finding: the selected compose files that hold it when loaded
// alone, else the merge of all of them (the construct arises only where files meet).
func attribute(ctx context.Context, cfg *appconfig.Config, found []Finding) {
	if len(found) == 0 {
		return
	}
	names := make([]string, len(cfg.ComposeFiles))
	for i, f := range cfg.ComposeFiles {
		names[i] = plain(f)
	}
	if len(names) == 0 {
		names = []string{"the compose files"}
	}
	if len(cfg.ComposeFiles) <= 1 {
		for i := range found {
			found[i].File = names[0]
		}
		return
	}
	alone := make([][]Finding, len(cfg.ComposeFiles))
	loaded := map[string][]Finding{} // COMPOSE_FILE may name a file twice: load it once
	for i, f := range cfg.ComposeFiles {
		if fs, ok := loaded[f]; ok {
			alone[i] = fs
			continue
		}
		// A file that does not load alone (it extends a service another file declares) holds
		// nothing on its own: its constructs are named as coming from the merge.
		if p, err := loadAlone(ctx, cfg, f); err == nil {
			alone[i] = findings(p)
		}
		loaded[f] = alone[i]
	}
	for i := range found {
		var in []string
		for j := range cfg.ComposeFiles {
			if holds(alone[j], found[i]) {
				in = append(in, names[j])
			}
		}
		if len(in) == 0 {
			found[i].File = "the merge of " + joinAnd(names)
			continue
		}
		found[i].File = joinAnd(in)
	}
}

// holds reports whether fs has a finding for the same service, construct, key and value as f.
func holds(fs []Finding, f Finding) bool {
	for _, g := range fs {
		if g.Service == f.Service && g.Job == f.Job && g.Construct == f.Construct && g.Key == f.Key &&
			g.Value == f.Value && g.Source == f.Source {
			return true
		}
	}
	return false
}

// loadAlone loads one compose file of cfg the way internal/appconfig loads the set (the same
// environment, working dir and project name; env-only lookup; no warnings logged), without the
// consistency check, since a file alone may use what another declares.
func loadAlone(ctx context.Context, cfg *appconfig.Config, file string) (*types.Project, error) {
	dir := cfg.Project.WorkingDir
	path := filepath.Join(dir, file)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	env := cfg.Environment
	details := types.ConfigDetails{
		WorkingDir:  dir,
		Environment: types.Mapping(env),
		ConfigFiles: []types.ConfigFile{{Filename: path, Content: versionLine.ReplaceAll(data, nil)}},
	}
	return loader.LoadWithContext(ctx, details, func(o *loader.Options) {
		o.SetProjectName(cfg.Project.Name, true)
		o.SkipConsistencyCheck = true
		o.SkipResolveEnvironment = true
		o.Interpolate.LookupValue = func(key string) (string, bool) {
			v, ok := env[key]
			return v, ok
		}
		o.Interpolate.Substitute = func(s string, m template.Mapping) (string, error) {
			return template.SubstituteWithOptions(s, m, template.WithoutLogging)
		}
	})
}

// versionLine is a top-level `version:` key, blanked as internal/appconfig blanks it: compose-go
// ignores it and would log an "obsolete" warning per file.
var versionLine = regexp.MustCompile(`(?m)^version[ \t]*:.*$`)
