package ladder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"coopcloud.tech/cc-ci/internal/appconfig"
	"coopcloud.tech/cc-ci/internal/atomicfile"
)

// addWhatTheHeadNeeds does what an operator's upgrade does before deploying a release that
// introduces configuration: every env key of the head's .env.sample that the app's .env lacks is
// added with its sample value (the placeholder domain templated as app new does), and every
// secret the head declares that the app lacks is generated. It returns the list for the summary
// ("new secret X", "new env Y").
func (l *Ladder) addWhatTheHeadNeeds(ctx context.Context, t *tier, a *app) ([]string, bool) {
	samplePath := filepath.Join(l.RecipeDir, ".env.sample")
	sampleText, err := os.ReadFile(samplePath)
	if err != nil {
		t.unverified("read the head's .env.sample: %v", err)
		return nil, false
	}
	sample, err := appconfig.ParseEnv(string(sampleText))
	if err != nil {
		t.fail("head's .env.sample", ".env.sample at the PR head does not parse: %v", err)
		return nil, false
	}
	envPath := filepath.Join(l.ServerDir, a.Domain+".env")
	current, err := os.ReadFile(envPath)
	if err != nil {
		t.unverified("read the app's .env: %v", err)
		return nil, false
	}
	have, err := appconfig.ParseEnv(string(current))
	if err != nil {
		t.unverified("the app's .env %s does not parse: %v", envPath, err)
		return nil, false
	}
	lines := strings.Split(strings.ReplaceAll(string(sampleText), "\r\n", "\n"), "\n")
	haveKeys := have.Map()
	added := map[string]bool{}
	var needs []string
	var secrets []appconfig.Secret
	content := strings.TrimRight(string(current), "\n") + "\n"
	for _, v := range sample.Vars {
		if _, ok := haveKeys[v.Key]; ok {
			continue
		}
		// Every assignment of a new key is added, in order, so a value chained across lines
		// (COMPOSE_FILE="$COMPOSE_FILE:...") reads as it does in the sample.
		line := fmt.Sprintf("%s=%s", v.Key, v.Value)
		if v.Line >= 1 && v.Line <= len(lines) && strings.Contains(lines[v.Line-1], v.Key) {
			line = strings.TrimSpace(lines[v.Line-1]) // keeps quotes and `# length=` modifiers
		}
		content += appconfig.TemplateEnvSample(line, l.Recipe, a.Domain) + "\n"
		if added[v.Key] {
			continue
		}
		added[v.Key] = true
		if name, ok := appconfig.SecretName(v.Key); ok {
			secrets = append(secrets, appconfig.Secret{Name: name, Version: v.Value})
			needs = append(needs, "new secret "+name)
			continue
		}
		needs = append(needs, "new env "+v.Key)
	}
	if len(needs) == 0 {
		t.pass("new configuration", "the PR head introduces no env key or secret")
		return nil, true
	}
	if _, err := appconfig.ParseEnv(content); err != nil {
		t.fail("new configuration", "adding the head's new keys to the app's .env breaks it: %v (check the new lines of .env.sample)", err)
		return needs, false
	}
	if err := atomicfile.Write(envPath, []byte(content), 0o600); err != nil {
		t.unverified("write the app's .env: %v", err)
		return needs, false
	}
	l.banner(t.Name, "this upgrade needs: %s", strings.Join(needs, ", "))
	for _, sec := range secrets {
		sctx, cancel := l.step(ctx)
		err := l.Abra.SecretGenerate(sctx, a.Domain, sec.Name, sec.Version)
		cancel()
		if err != nil {
			t.callFailed(ctx, "generate secret "+sec.Name, err)
			return needs, false
		}
	}
	t.pass("new configuration", "added as an operator would: %s", strings.Join(needs, ", "))
	return needs, true
}
