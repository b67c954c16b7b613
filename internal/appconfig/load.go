package appconfig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
)

// SampleEnvFile is the recipe's env template; abra app new copies it to the app's .env.
const SampleEnvFile = ".env.sample"

// LoadOptions says which app's configuration to load.
type LoadOptions struct {
	// RecipeDir is the recipe checkout (compose files, .env.sample, abra.sh). Required.
	RecipeDir string
	// EnvFile is the app's .env. Empty: RecipeDir/.env.sample, templated as abra app new would
	// template it for Domain (see TemplateEnvSample).
	EnvFile string
	// Recipe is the recipe's name, for the .env.sample templating; empty: RecipeDir's base name.
	Recipe string
	// Domain is the app's domain, used only to template .env.sample; empty: the sample is read
	// as it is.
	Domain string
	// Stack is STACK_NAME, which abra sets at deploy (the app name with '.' -> '_') and which is
	// also compose's project name. Required.
	Stack string
}

// Config is an app's effective configuration.
type Config struct {
	// EnvPath is the env file read (the app's .env or the recipe's .env.sample).
	EnvPath string
	// Env is that file as read (templated, for a .env.sample with a Domain).
	Env Env
	// AbraSh holds the `export` lines of the recipe's abra.sh (empty when there is none).
	AbraSh map[string]string
	// Environment is what compose interpolated with: Env, then AbraSh over it, then STACK_NAME,
	// the order abra deploys with.
	Environment map[string]string
	// ComposeFiles are the files COMPOSE_FILE selects, relative to RecipeDir, in order.
	ComposeFiles []string
	// Unset lists the variables the compose files use that nothing sets (the file's default, e.g.
	// ${TZ:-UTC}, or "" applies), sorted; a typo or a key missing from .env.sample shows here.
	Unset []string
	// Project is the compose files interpolated and merged into one model.
	Project *types.Project
}

// Load reads an app's effective configuration: its env file read as abra reads it, the recipe's
// abra.sh exports, STACK_NAME, and every compose file COMPOSE_FILE selects, interpolated and
// merged with compose-go. Errors name the file and the problem.
func Load(ctx context.Context, opts LoadOptions) (*Config, error) {
	if opts.RecipeDir == "" || opts.Stack == "" {
		return nil, errors.New("load app config: RecipeDir and Stack are required")
	}
	cfg := &Config{EnvPath: opts.EnvFile}
	if err := cfg.readEnv(opts); err != nil {
		return nil, err
	}
	abraSh, err := AbraShExports(filepath.Join(opts.RecipeDir, "abra.sh"))
	if err != nil {
		return nil, err
	}
	cfg.AbraSh = abraSh
	cfg.Environment = cfg.Env.Map()
	for k, v := range abraSh {
		cfg.Environment[k] = v
	}
	cfg.Environment["STACK_NAME"] = opts.Stack
	cfg.ComposeFiles = ComposeFiles(cfg.Environment)
	if err := cfg.checkFilesExist(opts.RecipeDir); err != nil {
		return nil, err
	}
	project, unset, err := loadCompose(ctx, opts.RecipeDir, cfg.ComposeFiles, cfg.Environment, opts.Stack)
	if err != nil {
		return nil, err
	}
	cfg.Project, cfg.Unset = project, unset
	return cfg, nil
}

// checkFilesExist names the first compose file that is missing and why abra wants it.
func (c *Config) checkFilesExist(dir string) error {
	envName := filepath.Base(c.EnvPath)
	for _, f := range c.ComposeFiles {
		_, err := os.Stat(filepath.Join(dir, f))
		switch {
		case err == nil:
			continue
		case !errors.Is(err, fs.ErrNotExist):
			return &ComposeError{File: f, Err: err}
		case c.Environment["COMPOSE_FILE"] == "":
			return &ComposeError{File: f, Missing: true, Err: fmt.Errorf("%s is missing: abra deploys %s when %s sets no COMPOSE_FILE; add it to the recipe",
				f, f, envName)}
		}
		return &ComposeError{File: f, Missing: true, Err: fmt.Errorf("%s is missing (named by COMPOSE_FILE in %s): add it to the recipe or fix COMPOSE_FILE",
			f, envName)}
	}
	return nil
}

// readEnv reads the app's .env, or the recipe's .env.sample templated for opts.Domain.
func (c *Config) readEnv(opts LoadOptions) error {
	if c.EnvPath != "" {
		env, err := ReadEnvFile(c.EnvPath)
		if err != nil {
			return err
		}
		c.Env = env
		return nil
	}
	c.EnvPath = filepath.Join(opts.RecipeDir, SampleEnvFile)
	data, err := os.ReadFile(c.EnvPath)
	if err != nil {
		return fmt.Errorf("read %s: %w", SampleEnvFile, err)
	}
	content := string(data)
	if opts.Domain != "" {
		recipe := opts.Recipe
		if recipe == "" {
			recipe = filepath.Base(filepath.Clean(opts.RecipeDir))
		}
		content = TemplateEnvSample(content, recipe, opts.Domain)
	}
	env, err := ParseEnv(content)
	if err != nil {
		return fmt.Errorf("%s %w", c.EnvPath, err)
	}
	c.Env = env
	return nil
}

// TemplateEnvSample returns a recipe's .env.sample as abra app new writes it into the app's
// .env: a copy with every "<recipe>.example.com" replaced by the app's domain, and nothing else
// changed or added (toolshed/abra pkg/app TemplateAppEnvSample: strings.Replace(sample,
// r.Name+".example.com", domain, -1)).
func TemplateEnvSample(sample, recipe, domain string) string {
	return strings.ReplaceAll(sample, recipe+".example.com", domain)
}

// loadCompose loads and merges files (relative to dir) with compose-go, interpolating from env.
// An unset variable reads as "" (as in docker stack deploy) and is reported in unset.
func loadCompose(ctx context.Context, dir string, files []string, env map[string]string, stack string) (*types.Project, []string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("recipe dir %s: %w", dir, err)
	}
	var mu sync.Mutex
	unsetSet := map[string]bool{}
	lookup := func(key string) (string, bool) {
		if v, ok := env[key]; ok {
			return v, true
		}
		mu.Lock()
		unsetSet[key] = true
		mu.Unlock()
		return "", false
	}
	contents := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(abs, f))
		if err != nil {
			return nil, nil, &ComposeError{File: f, Err: err}
		}
		if err := checkYAML(data); err != nil {
			return nil, nil, &ComposeError{File: f, Syntax: true, Err: err}
		}
		contents[f] = dropVersion(data)
	}
	load := func(files []string, consistency bool) (*types.Project, error) {
		details := types.ConfigDetails{WorkingDir: abs, Environment: types.Mapping(env)}
		for _, f := range files {
			details.ConfigFiles = append(details.ConfigFiles, types.ConfigFile{Filename: filepath.Join(abs, f), Content: contents[f]})
		}
		return loader.LoadWithContext(ctx, details, func(o *loader.Options) {
			o.SetProjectName(stack, true)
			o.SkipConsistencyCheck = !consistency
			// Keep compose-go's type casts (ports, replicas); look values up in env only and
			// record unset names instead of logging them.
			o.Interpolate.LookupValue = lookup
			o.Interpolate.Substitute = func(s string, m template.Mapping) (string, error) {
				return template.SubstituteWithOptions(s, m, template.WithoutLogging)
			}
			o.SkipResolveEnvironment = true
		})
	}
	project, err := load(files, true)
	if err == nil {
		unset := make([]string, 0, len(unsetSet))
		for k := range unsetSet {
			unset = append(unset, k)
		}
		sort.Strings(unset)
		return project, unset, nil
	}
	msg := strings.ReplaceAll(err.Error(), abs+string(filepath.Separator), "")
	alone := func(files []string, consistency bool) error { _, err := load(files, consistency); return err }
	return nil, nil, &ComposeError{File: culprit(files, msg, alone), Err: errors.New(msg)}
}

// ComposeError is a compose file that does not load; File is relative to the recipe, or several
// files joined with " + " when only their merge fails.
type ComposeError struct {
	File    string
	Missing bool // the file does not exist; Err says who names it
	Syntax  bool // the file is not YAML
	Err     error
}

func (e *ComposeError) Error() string {
	if e.Missing {
		return e.Err.Error()
	}
	if e.Syntax {
		return fmt.Sprintf("%s does not parse as YAML: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s does not load: %v", e.File, e.Err)
}

func (e *ComposeError) Unwrap() error { return e.Err }

// checkYAML reports a syntax error in any YAML document of data, with its line.
func checkYAML(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// versionLine is a top-level `version:` key: at column 0 it cannot be inside a block.
var versionLine = regexp.MustCompile(`(?m)^version[ \t]*:.*$`)

// dropVersion blanks the top-level `version:` line (keeping line numbers). Co-op Cloud recipes
// carry `version: "3.8"` for docker stack deploy's v3 schema; compose-go ignores it and would
// log an "obsolete" warning per file into the run's log.
func dropVersion(data []byte) []byte {
	return versionLine.ReplaceAll(data, nil)
}

// culprit names the compose file an error comes from: the file the message names (parse and
// schema errors do), else the one file that fails alone (an interpolation error such as
// ${VAR:?required}), else the merged set (a reference one file makes to what no file declares).
func culprit(files []string, msg string, load func(files []string, consistency bool) error) string {
	byLength := append([]string(nil), files...)
	sort.Slice(byLength, func(i, j int) bool { return len(byLength[i]) > len(byLength[j]) })
	for _, f := range byLength {
		if strings.Contains(msg, f) {
			return f
		}
	}
	if len(files) == 1 {
		return files[0]
	}
	for _, f := range files {
		if load([]string{f}, false) != nil {
			return f
		}
	}
	return strings.Join(files, " + ") + " (merged)"
}
