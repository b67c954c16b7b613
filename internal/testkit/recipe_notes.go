package testkit

import (
	"fmt"
	"strings"
)

// NotesName is the name of the realistic test recipe: a notes app with a database and a worker,
// written the way maintained Co-op Cloud recipes are written today. cc-ci ships no overlay for
// it: the generic ladder alone must take it to level 3.
const NotesName = "notes"

// Releases of the notes recipe and the version its PR head would become.
const (
	NotesTag1        = "0.1.0+1.4.0"
	NotesTag2        = "0.2.0+1.5.0"
	NotesHeadVersion = "0.3.0+1.6.0"
)

// NotesImages returns the notes recipe's image tags BuildImages produces: the app (and worker)
// per upstream version, and the database stand-in.
func NotesImages() []string {
	return []string{"ccci-notes:1.4.0", "ccci-notes:1.5.0", "ccci-notes:1.6.0", notesDBImage}
}

// notesDBImage is the database stand-in, pinned to a major version as recipes pin postgres.
const notesDBImage = "ccci-notes-db:16"

// notesSpec is what differs between the notes recipe's commits.
type notesSpec struct {
	upstream   string // ccci-notes version of the app and the worker
	version    string // coop-cloud version label
	entrypoint int    // version of entrypoint.sh.tmpl (ENTRYPOINT_VERSION=v<n>)
	smtp       bool   // ships the optional compose.smtp.yml
}

// MakeNotesRecipe creates the notes recipe's git repo in dir like MakeRecipe: NotesTag1, then
// NotesTag2 (upgrade, optional mail), then the untagged PR head (upgrade, a new entrypoint and
// its bumped config version, and the release note the maintainer will tag).
func MakeNotesRecipe(dir string) (Recipe, error) {
	specs := []notesSpec{
		{upstream: "1.4.0", version: NotesTag1, entrypoint: 1},
		{upstream: "1.5.0", version: NotesTag2, entrypoint: 1, smtp: true},
		{upstream: "1.6.0", version: NotesHeadVersion, entrypoint: 2, smtp: true},
	}
	notes := map[string]string{
		NotesTag1:        "First release: ccci-notes 1.4.0 with its database and background worker.\n",
		NotesTag2:        "ccci-notes 1.5.0. Optional outgoing mail: see compose.smtp.yml in .env.sample.\n",
		NotesHeadVersion: "ccci-notes 1.6.0. The entrypoint now sets the app's base URL from DOMAIN (config entrypoint v2).\n",
	}
	messages := []string{"Initial notes recipe (ccci-notes 1.4.0)", "Upgrade to ccci-notes 1.5.0, optional SMTP",
		"PR head: ccci-notes 1.6.0, base URL from DOMAIN"}
	var plan []commit
	for i, s := range specs {
		tree := notesFiles(s)
		for _, v := range []string{NotesTag1, NotesTag2, NotesHeadVersion}[:i+1] {
			tree["release/"+v] = notes[v]
		}
		c := commit{branch: "main", tree: tree, message: messages[i]}
		if i < 2 {
			c.tag = s.version
		}
		plan = append(plan, c)
	}
	return makeRepo(dir, NotesName, plan)
}

// notesFiles returns every file of one commit of the notes recipe except its release notes.
func notesFiles(s notesSpec) map[string]string {
	files := map[string]string{
		"compose.yml":        notesCompose(s),
		"compose.db.yml":     notesComposeDB,
		".env.sample":        notesEnvSample(s),
		"abra.sh":            notesAbraSh(s),
		"entrypoint.sh.tmpl": notesEntrypoint(s),
		"db_backup.sh":       notesDBBackup,
		"README.md":          notesReadme,
		"compose.smtp.yml":   notesComposeSMTP,
		".gitignore":         "*.env\n",
		"renovate.json":      "{\n  \"extends\": [\"config:base\"]\n}\n",
	}
	if !s.smtp {
		delete(files, "compose.smtp.yml")
	}
	return files
}

// notesCompose is compose.yml: the app and the worker, sharing their environment through an
// anchor and a merge key; the app has list-form traefik labels (their keys need ${STACK_NAME}).
func notesCompose(s notesSpec) string {
	return strings.NewReplacer("@UPSTREAM@", s.upstream, "@VERSION@", s.version).Replace(`---
version: "3.8"

x-environment: &default-env
  DB_HOST: ${DB_HOST:-db}
  DB_PORT: "7000"
  TZ: ${TZ:-Etc/UTC}

services:
  app:
    image: ccci-notes:@UPSTREAM@
    entrypoint: /docker-entrypoint.sh
    command: ["/app", "serve"]
    environment:
      <<: *default-env
      DOMAIN: ${DOMAIN}
      APP_TITLE: ${NOTES_TITLE}
      APP_SECRET_FILE: /run/secrets/secret_key
    configs:
      - source: entrypoint
        target: /docker-entrypoint.sh
        mode: 0555
    secrets:
      - db_password
      - secret_key
    networks:
      - proxy
      - internal
    healthcheck:
      test: ["CMD", "/app", "healthcheck"]
      interval: 5s
      timeout: 10s
      retries: 5
      start_period: 1m
    deploy:
      restart_policy:
        condition: on-failure
      update_config:
        failure_action: rollback
        order: start-first
      labels:
        - "traefik.enable=true"
        - "traefik.http.services.${STACK_NAME}.loadbalancer.server.port=8080"
        - "traefik.http.routers.${STACK_NAME}.rule=Host(` + "`${DOMAIN}`${EXTRA_DOMAINS}" + `)"
        - "traefik.http.routers.${STACK_NAME}.entrypoints=web-secure"
        - "traefik.http.routers.${STACK_NAME}.tls.certresolver=${LETS_ENCRYPT_ENV}"
        - "coop-cloud.${STACK_NAME}.version=@VERSION@"

  worker:
    image: ccci-notes:@UPSTREAM@
    entrypoint: /docker-entrypoint.sh
    command: ["/app", "worker"]
    environment:
      <<: *default-env
      WORKER_INTERVAL: ${WORKER_INTERVAL:-30s}
    configs:
      - source: entrypoint
        target: /docker-entrypoint.sh
        mode: 0555
    secrets:
      - db_password
    networks:
      - internal
    deploy:
      restart_policy:
        condition: on-failure

networks:
  proxy:
    external: true
  internal:

secrets:
  db_password:
    external: true
    name: ${STACK_NAME}_db_password_${SECRET_DB_PASSWORD_VERSION}
  secret_key:
    external: true
    name: ${STACK_NAME}_secret_key_${SECRET_SECRET_KEY_VERSION}

configs:
  entrypoint:
    name: ${STACK_NAME}_entrypoint_${ENTRYPOINT_VERSION}
    file: entrypoint.sh.tmpl
    template_driver: golang
`)
}

// notesComposeDB is compose.db.yml, the bundled database, enabled through the COMPOSE_FILE chain:
// map-form labels, per-volume backup labels, a dump pre-hook and a restore post-hook.
const notesComposeDB = `---
version: "3.8"

# The bundled database, enabled in .env.sample. To use a database you run elsewhere, comment
# that COMPOSE_FILE line out and set DB_HOST.

services:
  app:
    depends_on:
      - db
  worker:
    depends_on:
      - db

  db:
    image: ` + notesDBImage + `
    environment:
      DB_PASSWORD_FILE: /run/secrets/db_password
    secrets:
      - db_password
    volumes:
      - db:/var/lib/notes-db
    configs:
      - source: db_backup
        target: /db_backup.sh
        mode: 0555
    networks:
      - internal
    healthcheck:
      test: ["CMD", "/app", "healthcheck", "http://127.0.0.1:7000/healthz"]
      interval: 5s
      timeout: 10s
      retries: 5
      start_period: 30s
    deploy:
      # One task reached by its name: no virtual IP in front of a database.
      endpoint_mode: dnsrr
      labels:
        backupbot.backup: "true"
        backupbot.backup.pre-hook: "/db_backup.sh backup"
        backupbot.backup.volumes.db.path: "backup.json"
        backupbot.restore.post-hook: "/db_backup.sh restore"

volumes:
  db:

configs:
  db_backup:
    name: ${STACK_NAME}_db_backup_${DB_BACKUP_VERSION}
    file: db_backup.sh
`

// notesComposeSMTP is the optional compose.smtp.yml, off in .env.sample.
const notesComposeSMTP = `---
version: "3.8"

services:
  app:
    environment:
      SMTP_HOST: ${SMTP_HOST}
      SMTP_PORT: ${SMTP_PORT:-587}
      SMTP_USER: ${SMTP_USER}
      SMTP_PASSWORD_FILE: /run/secrets/smtp_password
    secrets:
      - smtp_password

secrets:
  smtp_password:
    external: true
    name: ${STACK_NAME}_smtp_password_${SECRET_SMTP_PASSWORD_VERSION}
`

func notesEnvSample(s notesSpec) string {
	var b strings.Builder
	b.WriteString(`TYPE=notes

DOMAIN=notes.example.com

## Domain aliases
#EXTRA_DOMAINS=', ` + "`www.notes.example.com`" + `'

LETS_ENCRYPT_ENV=production

COMPOSE_FILE="compose.yml"

## Bundled database (comment out and set DB_HOST to use your own)
COMPOSE_FILE="$COMPOSE_FILE:compose.db.yml"
#DB_HOST=db.example.com

SECRET_DB_PASSWORD_VERSION=v1 # length=32
SECRET_SECRET_KEY_VERSION=v1 # length=64

NOTES_TITLE="Our notes"
WORKER_INTERVAL=30s # how often the background worker runs
`)
	if s.smtp {
		b.WriteString(`
## Outgoing mail
#COMPOSE_FILE="$COMPOSE_FILE:compose.smtp.yml"
#SMTP_HOST=mail.example.com
#SMTP_PORT=587
#SMTP_USER=notes@example.com
#SECRET_SMTP_PASSWORD_VERSION=v1 # length=32
`)
	}
	return b.String()
}

func notesAbraSh(s notesSpec) string {
	return fmt.Sprintf(`#!/usr/bin/env bash

# Versions of the configs the compose files use. Configs are immutable: bump a version whenever
# its file changes, so that a deploy creates a new config instead of failing on the old one.
export ENTRYPOINT_VERSION=v%d
export DB_BACKUP_VERSION=v1

# abra app cmd <domain> db dump_now: write backup.json now, as the backup's pre-hook does.
dump_now() {
  /db_backup.sh backup
}
`, s.entrypoint)
}

// notesEntrypoint is entrypoint.sh.tmpl, rendered by Docker (template_driver: golang) for each
// task: the db password comes from the secret, and from v2 on the base URL from DOMAIN.
func notesEntrypoint(s notesSpec) string {
	var b strings.Builder
	b.WriteString(`#!/bin/sh
# Entrypoint of the notes app and worker, rendered by Docker for {{ .Service.Name }}
# (template_driver: golang).
set -e

DB_PASSWORD='{{ secret "db_password" }}'
export DB_PASSWORD
`)
	if s.entrypoint >= 2 {
		b.WriteString(`
APP_BASE_URL='https://{{ env "DOMAIN" }}'
export APP_BASE_URL
`)
	}
	b.WriteString("\nexec \"$@\"\n")
	return b.String()
}

// notesDBBackup is db_backup.sh, the db's backupbot hooks.
const notesDBBackup = `#!/bin/sh
# backupbot hooks of the db service (see its labels in compose.db.yml):
#   backup   dump the live store into backup.json, the one file of the db volume a backup keeps;
#   restore  load backup.json, just put back by the restore, into the live store.
set -eu
dump="${DATA_DIR:-/var/lib/notes-db}/backup.json"
case "${1:-}" in
backup) /app dump "$dump" ;;
restore) /app load "$dump" ;;
*) echo "usage: $0 backup|restore" >&2; exit 2 ;;
esac
`

const notesReadme = "# notes\n\n> A cc-ci TEST recipe: a notes app with its database and a background worker, " +
	"written the way maintained Co-op Cloud recipes are. Its images (ccci-notes, ccci-notes-db) are built locally.\n\n" +
	"<!-- metadata -->\n* **Category**: Apps\n* **Status**: 2, beta\n* **Image**: ccci-notes, local build\n" +
	"* **Healthcheck**: Yes\n* **Backups**: Yes\n* **Email**: optional (compose.smtp.yml)\n* **Tests**: No\n" +
	"* **SSO**: No\n<!-- endmetadata -->\n\n" +
	"## Quick start\n\n* `abra app new notes --secrets`\n* `abra app config <app-name>`\n* `abra app deploy <app-name>`\n\n" +
	"## Backups\n\nThe db's pre-hook dumps the store into `backup.json`, the only file of the `db` volume a backup keeps; " +
	"the restore post-hook loads it back.\n"
