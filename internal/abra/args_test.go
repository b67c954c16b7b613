package abra

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBuildersMatchTheAbraContract(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{
			name: "app new at a version creates secrets without prompting",
			got:  AppNewArgs("gitea", "1.2.0+3.4.5", "ci.example", "gite-abc123.ci.example"),
			want: []string{"app", "new", "gitea", "1.2.0+3.4.5", "--server", "ci.example",
				"--domain", "gite-abc123.ci.example", "--secrets", "--no-input"},
		},
		{
			name: "app new without a version leaves the version out",
			got:  AppNewArgs("gitea", "", "ci.example", "gite-abc123.ci.example"),
			want: []string{"app", "new", "gitea", "--server", "ci.example",
				"--domain", "gite-abc123.ci.example", "--secrets", "--no-input"},
		},
		{
			name: "deploy at a version puts the version after the domain",
			got:  DeployArgs("gite-abc123.ci.example", "1.2.0+3.4.5", false),
			want: []string{"app", "deploy", "gite-abc123.ci.example", "1.2.0+3.4.5", "--no-input", "--no-converge-checks", "--no-domain-checks"},
		},
		{
			name: "deploy with chaos has no version and ends with --chaos",
			got:  DeployArgs("gite-abc123.ci.example", "", true),
			want: []string{"app", "deploy", "gite-abc123.ci.example", "--no-input", "--no-converge-checks", "--no-domain-checks", "--chaos"},
		},
		{
			name: "deploy with neither version nor chaos deploys what abra picks",
			got:  DeployArgs("gite-abc123.ci.example", "", false),
			want: []string{"app", "deploy", "gite-abc123.ci.example", "--no-input", "--no-converge-checks", "--no-domain-checks"},
		},
		{
			name: "undeploy names only the domain",
			got:  UndeployArgs("gite-abc123.ci.example"),
			want: []string{"app", "undeploy", "gite-abc123.ci.example", "--no-input"},
		},
		{
			name: "remove forces, so it never asks to confirm",
			got:  RemoveArgs("gite-abc123.ci.example"),
			want: []string{"app", "remove", "gite-abc123.ci.example", "--force", "--no-input"},
		},
		{
			name: "secret generate generates all secrets",
			got:  SecretGenerateArgs("gite-abc123.ci.example"),
			want: []string{"app", "secret", "generate", "gite-abc123.ci.example", "--all", "--no-input"},
		},
		{
			name: "backup create names the domain",
			got:  BackupCreateArgs("gite-abc123.ci.example"),
			want: []string{"app", "backup", "create", "gite-abc123.ci.example", "--no-input"},
		},
		{
			name: "restore names the domain",
			got:  RestoreArgs("gite-abc123.ci.example"),
			want: []string{"app", "restore", "gite-abc123.ci.example", "--no-input"},
		},
		{
			name: "restore of a snapshot names it with --snapshot",
			got:  RestoreSnapshotArgs("gite-abc123.ci.example", "1f2e3d4c"),
			want: []string{"app", "restore", "gite-abc123.ci.example", "--snapshot", "1f2e3d4c", "--no-input"},
		},
		{
			name: "recipe fetch names the recipe",
			got:  RecipeFetchArgs("gitea"),
			want: []string{"recipe", "fetch", "gitea", "--no-input"},
		},
		{
			name: "recipe lint names the recipe",
			got:  RecipeLintArgs("gitea"),
			want: []string{"recipe", "lint", "gitea", "--no-input"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.got)
		})
	}
}

func TestSubcommandNamesTheCommandNotItsOperands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"app new is counted as app new", AppNewArgs("r", "1.0.0", "s", "d"), CmdAppNew},
		{"a chaos deploy is counted as app deploy", DeployArgs("d", "", true), CmdAppDeploy},
		{"secret generate keeps all three words", SecretGenerateArgs("d"), CmdSecretGenerate},
		{"backup create keeps all three words", BackupCreateArgs("d"), CmdBackupCreate},
		{"recipe lint is counted as recipe lint", RecipeLintArgs("r"), CmdRecipeLint},
		{"an unknown command is named by its first two words", []string{"app", "ls", "x"}, "app ls"},
		{"a one-word command is named by that word", []string{"version"}, "version"},
		{"flags alone are named abra", []string{"--help"}, "abra"},
		{"a domain that looks like a command word is not part of the key",
			[]string{"app", "restore", "generate", "--no-input"}, CmdRestore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, subcommand(tt.args))
		})
	}
}
