package testkit

import (
	"fmt"
	"strings"
)

// commitSpec is what differs between the sample recipe's commits.
type commitSpec struct {
	image           string // upstream version of ccci-sample
	version         string // coop-cloud version label
	command         string // YAML flow sequence
	volume          string // volume mounted at /data
	backupPreHook   string
	restorePostHook string
	fallback        bool     // APP_FALLBACK=1
	env             []string // more environment entries of the app, KEY=value
	envSample       []string // more .env.sample lines
	extraSecret     string   // a second secret (LongSecretName, NewSecretAndEnv)
	secretLength    int      // its `# length=` in .env.sample, 0 for none
	noBackupLabels  bool
	volumeSpec      bool // backupbot.backup.volumes.<volume>.path instead of backupbot.backup.path
	noDomain        bool // .env.sample without DOMAIN
	brokenCompose   bool
	noEnvSample     bool
	// canary holds what a policy canary adds to the app service: volume entries, raw service
	// lines, networks (with their top-level declaration).
	canary canary
}

// canary is one construct the policy refuses, added to the app service.
type canary struct {
	volumes  []string // more entries of the app's volumes list
	service  string   // raw lines under the app service (4-space indented)
	network  string   // a network the app joins
	networks string   // its top-level declaration (2-space indented)
}

// canaries are the policy canary variants' constructs (DESIGN 4.7).
var canaries = map[Variant]canary{
	CanarySocket:      {volumes: []string{"/var/run/docker.sock:/var/run/docker.sock:ro"}},
	CanaryHostPath:    {volumes: []string{"/etc:/host-etc:ro"}},
	CanaryPrivileged:  {service: "    privileged: true\n"},
	CanaryHostNetwork: {network: "hostnet", networks: "  hostnet:\n    external: true\n    name: host\n"},
	CanaryCapAdd:      {service: "    cap_add:\n      - NET_ADMIN\n"},
	CanaryHostPort:    {service: "    ports:\n      - target: 8080\n        mode: host\n"},
}

// Good backupbot hooks: dump the KV store into the backed-up path, load it back after restore.
const (
	goodPreHook     = "/app dump /data/dump/dump.json"
	goodPostHook    = "/app load /data/dump/dump.json"
	emptyDumpHook   = "mkdir -p /data/dump && : > /data/dump/dump.json"
	serveCommand    = `["/app", "serve"]`
	crashCommand    = `["/app", "crash"]`
	brokenComposeYA = "version: \"3.8\"\nservices:\n  app:\n    image: [ccci-sample:2.1.0\n   deploy: {labels\n"
	// emptyValidDumpHook dumps a store that is not the app's (the PR moved DATA_DIR by mistake):
	// a valid, empty JSON object that loads without complaint and restores nothing.
	emptyValidDumpHook = "DATA_DIR=/data/v2 /app dump /data/dump/dump.json"
	// migrateCommand runs the store's migration before serving: it fails on an empty volume.
	migrateCommand = `["/bin/sh", "-c", "/app migrate && exec /app serve"]`
)

// Values the redirect, secret and env variants use.
const (
	// PlaceholderURL is the .env.sample placeholder domain as a URL, wired by mistake.
	PlaceholderURL = "https://sample.example.com"
	// SSOHost is the single sign-on host the SSORedirect variant sends / to.
	SSOHost = "sso.example.org"
	// SSOLoginURL is where the SSORedirect variant's / redirects.
	SSOLoginURL = "https://" + SSOHost + "/login"
	// NewSecret and NewEnv are what the NewSecretAndEnv variant's head adds.
	NewSecret = "admin_token"
	NewEnv    = "ADMIN_EMAIL"
	// NewSecretLength is the `# length=` of NewSecret in .env.sample.
	NewSecretLength = 48
	// SideTag is the release SideBranchRelease tags on a side branch: newer than the head, not
	// its ancestor, and with the data in a volume the head does not mount.
	SideTag = "1.0.0+2.0.0"
	// MissingImageTag is the image the MissingImage variant's head names; it is never built.
	MissingImageTag = "ccci-sample:9.9.9"
)

// specFor returns commit n's spec (1 and 2 are the releases, 3 the PR head) for variant v.
func specFor(n int, v Variant) commitSpec {
	s := commitSpec{command: serveCommand, volume: "data", backupPreHook: goodPreHook,
		restorePostHook: goodPostHook, fallback: v == Fallback}
	everyCommit(&s, v)
	switch n {
	case 1:
		s.image, s.version = "1.0.0", Tag1
		return s
	case 2:
		s.image, s.version = "2.0.0", Tag2
		if v == FixedHeadBrokenBase {
			s.command = crashCommand
		}
		return s
	}
	s.image, s.version = "2.1.0", HeadVersion
	headOnly(&s, v)
	return s
}

// everyCommit applies what a variant changes on every commit, releases included.
func everyCommit(s *commitSpec, v Variant) {
	switch v {
	case NoBackupLabels:
		s.noBackupLabels = true
	case VolumeSpecLabels:
		s.volumeSpec = true
	case SSORedirect:
		s.env = append(s.env, "APP_LOGIN_URL="+SSOLoginURL)
	case AuthRequired:
		s.env = append(s.env, "APP_REQUIRE_AUTH=1")
	case BootRestart:
		s.env = append(s.env, "APP_FAIL_ONCE=1")
	case DockerHostInEnv:
		s.env = append(s.env, "DOCKER_HOST=${DOCKER_HOST}")
		s.envSample = append(s.envSample, "## The app reaches Docker through the operator's socket proxy",
			"DOCKER_HOST=tcp://socket-proxy:2375")
	}
}

// headOnly applies what a variant changes on the PR head alone.
func headOnly(s *commitSpec, v Variant) {
	switch v {
	case UpgradeLosesData:
		s.volume = "data2"
	case EmptyDump:
		s.backupPreHook = emptyDumpHook
	case EmptyValidDump:
		s.backupPreHook = emptyValidDumpHook
	case RestoreNoop:
		s.restorePostHook = "true"
	case CrashLoop:
		s.command = crashCommand
	case BrokenCompose:
		s.brokenCompose = true
	case NoEnvSample:
		s.noEnvSample = true
	case LongSecretName:
		s.extraSecret = LongSecret
	case PlaceholderRedirect:
		s.env = append(s.env, "APP_BASE_URL="+PlaceholderURL)
	case FreshInstallBroken:
		s.command = migrateCommand
	case NoDomain:
		s.noDomain = true
	case NewSecretAndEnv:
		s.extraSecret, s.secretLength = NewSecret, NewSecretLength
		s.env = append(s.env, NewEnv+"=${"+NewEnv+":?set "+NewEnv+" in the app's .env}")
		s.envSample = append(s.envSample, "## Where the app sends its admin mail", NewEnv+"=admin@sample.example.com")
	case MissingImage:
		s.image = strings.TrimPrefix(MissingImageTag, "ccci-sample:")
	case CanarySocket, CanaryHostPath, CanaryPrivileged, CanaryHostNetwork, CanaryCapAdd, CanaryHostPort:
		s.canary = canaries[v]
	case AllocatesPastLimit:
		s.env = append(s.env, "APP_ALLOC_MB=200")
	case ImageTagFromEnv:
		// Today's tag unless the app's .env sets APP_TAG: what the PR says is 2.1.0.
		s.image = "${APP_TAG:-" + s.image + "}"
	}
}

// samplePlan returns the sample recipe's commits for variant v: two releases and the PR head on
// main, except where the variant changes the history.
func samplePlan(v Variant) []commit {
	c1 := commit{branch: "main", tree: recipeTree(1, v), message: "Initial sample recipe (ccci-sample 1.0.0)", tag: Tag1}
	c2 := commit{branch: "main", tree: recipeTree(2, v), message: "Upgrade to ccci-sample 2.0.0", tag: Tag2}
	head := commit{branch: "main", tree: recipeTree(3, v), message: fmt.Sprintf("PR head: ccci-sample 2.1.0 (variant %s)", v)}
	switch v {
	case NoRelease, CanarySocket, CanaryHostPath, CanaryPrivileged, CanaryHostNetwork, CanaryCapAdd, CanaryHostPort:
		for _, c := range []*commit{&c1, &c2, &head} {
			c.tag = ""
			for p := range c.tree {
				if strings.HasPrefix(p, "release/") {
					delete(c.tree, p)
				}
			}
		}
	case SideBranchRelease:
		// A rewrite released from a side branch: newer than the head, not its ancestor, with its
		// data in another volume. An upgrade from it to the head would be a downgrade that loses data.
		side := specFor(2, v)
		side.version, side.volume = SideTag, "store"
		c2 = commit{branch: "next", message: "Rewrite: data in the store volume (ccci-sample 2.0.0)", tag: SideTag,
			tree: sampleFiles(side, map[string]string{
				"release/" + Tag1:    releaseNote1,
				"release/" + SideTag: "The rewrite: data moves to the `store` volume.\n",
			})}
		delete(head.tree, "release/"+Tag2)
	}
	return []commit{c1, c2, head}
}

const releaseNote1 = "First release of the sample recipe: ccci-sample 1.0.0.\n"

// recipeTree returns every file of commit n for variant v, path -> content.
func recipeTree(n int, v Variant) map[string]string {
	notes := map[string]string{"release/" + Tag1: releaseNote1}
	if n >= 2 {
		notes["release/"+Tag2] = "Upgrade ccci-sample to 2.0.0. Data in the `data` volume is kept.\n"
	}
	return sampleFiles(specFor(n, v), notes)
}

// sampleFiles returns the recipe's files for spec s plus the release notes given.
func sampleFiles(s commitSpec, notes map[string]string) map[string]string {
	files := map[string]string{
		"compose.yml": composeFile(s),
		".env.sample": envSample(s),
		"abra.sh":     "#!/usr/bin/env bash\n# Commands for `abra app cmd`; the sample recipe needs none.\nexport SAMPLE_ABRA_SH_VERSION=1\n",
		"README.md":   readme(),
	}
	for p, c := range notes {
		files[p] = c
	}
	if s.brokenCompose {
		files["compose.yml"] = brokenComposeYA
	}
	if s.noEnvSample {
		delete(files, ".env.sample")
	}
	return files
}

func composeFile(s commitSpec) string {
	var b strings.Builder
	b.WriteString("---\nversion: \"3.8\"\n\nservices:\n  app:\n")
	fmt.Fprintf(&b, "    image: ccci-sample:%s\n    command: %s\n", s.image, s.command)
	b.WriteString("    networks:\n      - proxy\n      - internal\n")
	if s.canary.network != "" {
		fmt.Fprintf(&b, "      - %s\n", s.canary.network)
	}
	fmt.Fprintf(&b, "    volumes:\n      - %s:/data\n", s.volume)
	for _, v := range s.canary.volumes {
		fmt.Fprintf(&b, "      - %s\n", v)
	}
	b.WriteString(s.canary.service)
	b.WriteString("    secrets:\n      - api_key\n")
	if s.extraSecret != "" {
		fmt.Fprintf(&b, "      - %s\n", s.extraSecret)
	}
	b.WriteString("    environment:\n      - DOMAIN=${DOMAIN}\n")
	if s.fallback {
		b.WriteString("      - APP_FALLBACK=1\n")
	}
	for _, e := range s.env {
		fmt.Fprintf(&b, "      - %s\n", e)
	}
	b.WriteString(`    healthcheck:
      test: ["CMD", "/app", "healthcheck"]
      interval: 2s
      timeout: 10s
      retries: 3
      start_period: 2s
    deploy:
      restart_policy:
        condition: any
      update_config:
        failure_action: rollback
        order: stop-first
        monitor: 10s
      labels:
        - "traefik.enable=true"
        - "traefik.http.services.${STACK_NAME}.loadbalancer.server.port=8080"
        - "traefik.http.routers.${STACK_NAME}.rule=Host(` + "`${DOMAIN}`" + `)"
        - "traefik.http.routers.${STACK_NAME}.entrypoints=web-secure"
`)
	fmt.Fprintf(&b, "        - \"coop-cloud.${STACK_NAME}.version=%s\"\n", s.version)
	if !s.noBackupLabels {
		b.WriteString("        - \"backupbot.backup=true\"\n")
		fmt.Fprintf(&b, "        - \"backupbot.backup.pre-hook=%s\"\n", s.backupPreHook)
		if s.volumeSpec {
			fmt.Fprintf(&b, "        - \"backupbot.backup.volumes.%s.path=dump\"\n", s.volume)
		} else {
			b.WriteString("        - \"backupbot.backup.path=/data/dump\"\n")
		}
		fmt.Fprintf(&b, "        - \"backupbot.restore.post-hook=%s\"\n", s.restorePostHook)
	}
	b.WriteString("\nnetworks:\n  proxy:\n    external: true\n  internal:\n" + s.canary.networks + "\n")
	fmt.Fprintf(&b, "volumes:\n  %s:\n\n", s.volume)
	b.WriteString("secrets:\n  api_key:\n    external: true\n")
	b.WriteString("    name: ${STACK_NAME}_api_key_${SECRET_API_KEY_VERSION}\n")
	if s.extraSecret != "" {
		fmt.Fprintf(&b, "  %s:\n    external: true\n    name: ${STACK_NAME}_%s_${%s}\n",
			s.extraSecret, s.extraSecret, secretVersionKey(s.extraSecret))
	}
	return b.String()
}

func secretVersionKey(name string) string {
	return "SECRET_" + strings.ToUpper(name) + "_VERSION"
}

func envSample(s commitSpec) string {
	var b strings.Builder
	b.WriteString("TYPE=sample\n\n")
	if !s.noDomain {
		b.WriteString("DOMAIN=sample.example.com\n\n")
	}
	b.WriteString("## Domain aliases\n#EXTRA_DOMAINS=', `www.sample.example.com`'\n\n")
	b.WriteString("LETS_ENCRYPT_ENV=production\n\nCOMPOSE_FILE=\"compose.yml\"\n\n")
	b.WriteString("SECRET_API_KEY_VERSION=v1\n")
	if s.extraSecret != "" {
		fmt.Fprintf(&b, "%s=v1", secretVersionKey(s.extraSecret))
		if s.secretLength > 0 {
			fmt.Fprintf(&b, " # length=%d", s.secretLength)
		}
		b.WriteString("\n")
	}
	if len(s.envSample) > 0 {
		b.WriteString("\n" + strings.Join(s.envSample, "\n") + "\n")
	}
	return b.String()
}

func readme() string {
	return "# sample\n\n> A cc-ci TEST recipe: the ccci-sample app, built locally (no registry).\n\n" +
		"* **Category**: Test\n* **Status**: 0\n* **Image**: ccci-sample, local build\n" +
		"* **Healthcheck**: Yes\n* **Backups**: Yes (backupbot labels)\n\n" +
		"## Quick start\n\n* `abra app new sample --secrets`\n* `abra app deploy <domain>`\n"
}
