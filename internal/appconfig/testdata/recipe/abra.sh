#!/usr/bin/env bash
export APP_CONF_VERSION=v3
export DB_DUMP_VERSION=v2

dump() {
  pg_dump "$@"
}
