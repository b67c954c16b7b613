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
	fallback        bool   // APP_FALLBACK=1
	extraSecret     string // a second secret (LongSecretName)
	brokenCompose   bool
	noEnvSample     bool
}

// Good backupbot hooks: dump the KV store into the backed-up path, load it back after restore.
const (
	goodPreHook     = "/app dump /data/dump/dump.json"
	goodPostHook    = "/app load /data/dump/dump.json"
	emptyDumpHook   = "mkdir -p /data/dump && : > /data/dump/dump.json"
	serveCommand    = `["/app", "serve"]`
	crashCommand    = `["/app", "crash"]`
	brokenComposeYA = "version: \"3.8\"\nservices:\n  app:\n    image: [ccci-sample:2.1.0\n   deploy: {labels\n"
)

// specFor returns commit n's spec (1 and 2 are the releases, 3 the PR head) for variant v.
func specFor(n int, v Variant) commitSpec {
	s := commitSpec{command: serveCommand, volume: "data", backupPreHook: goodPreHook,
		restorePostHook: goodPostHook, fallback: v == Fallback}
	switch n {
	case 1:
		s.image, s.version = "1.0.0", Tag1
		return s
	case 2:
		s.image, s.version = "2.0.0", Tag2
		return s
	}
	s.image, s.version = "2.1.0", HeadVersion
	switch v {
	case UpgradeLosesData:
		s.volume = "data2"
	case EmptyDump:
		s.backupPreHook = emptyDumpHook
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
	}
	return s
}

// recipeTree returns every file of commit n for variant v, path -> content.
func recipeTree(n int, v Variant) map[string]string {
	s := specFor(n, v)
	files := map[string]string{
		"compose.yml":     composeFile(s),
		".env.sample":     envSample(s),
		"abra.sh":         "#!/usr/bin/env bash\n# Commands for `abra app cmd`; the sample recipe needs none.\nexport SAMPLE_ABRA_SH_VERSION=1\n",
		"README.md":       readme(),
		"release/" + Tag1: "First release of the sample recipe: ccci-sample 1.0.0.\n",
		"release/" + Tag2: "Upgrade ccci-sample to 2.0.0. Data in the `data` volume is kept.\n",
	}
	if n < 2 {
		delete(files, "release/"+Tag2)
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
	fmt.Fprintf(&b, "    volumes:\n      - %s:/data\n", s.volume)
	b.WriteString("    secrets:\n      - api_key\n")
	if s.extraSecret != "" {
		fmt.Fprintf(&b, "      - %s\n", s.extraSecret)
	}
	b.WriteString("    environment:\n      - DOMAIN=${DOMAIN}\n")
	if s.fallback {
		b.WriteString("      - APP_FALLBACK=1\n")
	}
	b.WriteString(`    healthcheck:
      test: ["CMD", "/app", "healthcheck"]
      interval: 2s
      timeout: 2s
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
	b.WriteString("        - \"backupbot.backup=true\"\n")
	fmt.Fprintf(&b, "        - \"backupbot.backup.pre-hook=%s\"\n", s.backupPreHook)
	b.WriteString("        - \"backupbot.backup.path=/data/dump\"\n")
	fmt.Fprintf(&b, "        - \"backupbot.restore.post-hook=%s\"\n", s.restorePostHook)
	b.WriteString("\nnetworks:\n  proxy:\n    external: true\n  internal:\n\n")
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
	b.WriteString("TYPE=sample\n\nDOMAIN=sample.example.com\n\n")
	b.WriteString("## Domain aliases\n#EXTRA_DOMAINS=', `www.sample.example.com`'\n\n")
	b.WriteString("LETS_ENCRYPT_ENV=production\n\nCOMPOSE_FILE=\"compose.yml\"\n\n")
	b.WriteString("SECRET_API_KEY_VERSION=v1\n")
	if s.extraSecret != "" {
		fmt.Fprintf(&b, "%s=v1\n", secretVersionKey(s.extraSecret))
	}
	return b.String()
}

func readme() string {
	return "# sample\n\n> A cc-ci TEST recipe: the ccci-sample app, built locally (no registry).\n\n" +
		"* **Category**: Test\n* **Status**: 0\n* **Image**: ccci-sample, local build\n" +
		"* **Healthcheck**: Yes\n* **Backups**: Yes (backupbot labels)\n\n" +
		"## Quick start\n\n* `abra app new sample --secrets`\n* `abra app deploy <domain>`\n"
}
