// Package abra is the one place in cc-ci that builds abra command lines and runs abra, the Co-op
// Cloud CLI (git.coopcloud.tech/toolshed/abra). Builders are pure and return argv without the
// binary; Client runs abra under a pseudo-terminal, streams its output with secrets masked, and
// kills its whole process group on timeout (DESIGN.md 4.4-4.6).
package abra

import "strings"

// Subcommand keys, as counted by Client.Calls. The ladder checks CmdAppNew ran exactly once.
const (
	CmdAppNew         = "app new"
	CmdAppDeploy      = "app deploy"
	CmdAppUndeploy    = "app undeploy"
	CmdAppRemove      = "app remove"
	CmdSecretGenerate = "app secret generate"
	CmdBackupCreate   = "app backup create"
	CmdRestore        = "app restore"
	CmdRecipeFetch    = "recipe fetch"
	CmdRecipeLint     = "recipe lint"
)

// knownCommands lists the multi-word subcommands, so a key is never cut short ("app secret
// generate", not "app secret").
var knownCommands = []string{
	CmdAppNew, CmdAppDeploy, CmdAppUndeploy, CmdAppRemove, CmdSecretGenerate,
	CmdBackupCreate, CmdRestore, CmdRecipeFetch, CmdRecipeLint,
}

// noInput ends every command line: nobody is at the keyboard, so abra must fail, not prompt.
const noInput = "--no-input"

// AppNewArgs creates the app's .env and its secrets:
// app new <recipe> [<version>] --server <server> --domain <domain> --secrets --no-input.
func AppNewArgs(recipe, version, server, domain string) []string {
	args := []string{"app", "new", recipe}
	if version != "" {
		args = append(args, version)
	}
	return append(args, "--server", server, "--domain", domain, "--secrets", noInput)
}

// AppNewChaosArgs creates the app from the checked-out commit, as a maintainer testing an
// unreleased recipe does: app new <recipe> --server <server> --domain <domain> --secrets
// --no-input --chaos. Without --chaos, abra checks the recipe out at its newest release first
// (so the .env would come from that release's .env.sample, not the commit under test).
func AppNewChaosArgs(recipe, server, domain string) []string {
	return append(AppNewArgs(recipe, "", server, domain), "--chaos")
}

// DeployArgs deploys the app at a published version, or with chaos at the checked-out commit:
// app deploy <domain> [<version>] --no-input --no-converge-checks --no-domain-checks [--chaos].
// cc-ci watches convergence itself (failing fast on crash loops and rollbacks), so abra must not
// wait; CI domains do not resolve publicly, so abra must not check that they point at the server.
// version and chaos are mutually exclusive; the builder writes what it is given and
// Client.Deploy refuses both at once.
func DeployArgs(domain, version string, chaos bool) []string {
	args := []string{"app", "deploy", domain}
	if version != "" {
		args = append(args, version)
	}
	args = append(args, noInput, "--no-converge-checks", "--no-domain-checks")
	if chaos {
		args = append(args, "--chaos")
	}
	return args
}

// UndeployArgs stops the app's stack: app undeploy <domain> --no-input.
func UndeployArgs(domain string) []string {
	return []string{"app", "undeploy", domain, noInput}
}

// RemoveArgs removes the app's volumes, secrets and .env: app remove <domain> --force --no-input.
func RemoveArgs(domain string) []string {
	return []string{"app", "remove", domain, "--force", noInput}
}

// SecretGenerateArgs generates every secret the recipe declares:
// app secret generate <domain> --all --no-input.
func SecretGenerateArgs(domain string) []string {
	return []string{"app", "secret", "generate", domain, "--all", noInput}
}

// SecretGenerateOneArgs generates one named secret at its version, as an operator does for a
// secret a new release introduces: app secret generate <domain> <secret> <version> --no-input.
func SecretGenerateOneArgs(domain, secret, version string) []string {
	return []string{"app", "secret", "generate", domain, secret, version, noInput}
}

// BackupCreateArgs takes a backup through backupbot: app backup create <domain> --no-input.
func BackupCreateArgs(domain string) []string {
	return []string{"app", "backup", "create", domain, noInput}
}

// RestoreArgs restores the latest backup: app restore <domain> --no-input.
//
// Deprecated: "the latest" may be another run's backup; use RestoreSnapshotArgs.
func RestoreArgs(domain string) []string {
	return []string{"app", "restore", domain, noInput}
}

// RestoreSnapshotArgs restores one snapshot, the run's own:
// app restore <domain> --snapshot <id> --no-input (abra hands it to backupbot as SNAPSHOT).
func RestoreSnapshotArgs(domain, snapshot string) []string {
	return []string{"app", "restore", domain, "--snapshot", snapshot, noInput}
}

// RecipeFetchArgs fetches the recipe into $ABRA_DIR/recipes: recipe fetch <recipe> --no-input.
func RecipeFetchArgs(recipe string) []string {
	return []string{"recipe", "fetch", recipe, noInput}
}

// RecipeLintArgs lints the checked-out recipe: recipe lint <recipe> --no-input.
func RecipeLintArgs(recipe string) []string {
	return []string{"recipe", "lint", recipe, noInput}
}

// subcommand names an invocation for Calls and Timeouts: the longest known command that args
// start with, else the first two words that are not flags, else "abra".
func subcommand(args []string) string {
	var words []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			break
		}
		words = append(words, a)
	}
	line := strings.Join(words, " ")
	best := ""
	for _, k := range knownCommands {
		if (line == k || strings.HasPrefix(line, k+" ")) && len(k) > len(best) {
			best = k
		}
	}
	switch {
	case best != "":
		return best
	case len(words) == 0:
		return "abra"
	case len(words) == 1:
		return words[0]
	default:
		return words[0] + " " + words[1]
	}
}
