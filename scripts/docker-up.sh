#!/usr/bin/env bash
# Bring up a Docker engine and a single-node swarm, idempotently.
# Installs docker.io when missing, starts dockerd when nothing answers, waits for `docker info`,
# and initialises the swarm only when this node is not a manager yet. A daemon that already runs
# is left exactly as it is.
set -euo pipefail

log() { printf 'docker-up: %s\n' "$*" >&2; }

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v dockerd >/dev/null 2>&1; then
  log "dockerd not found: installing docker.io from Debian"
  sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq docker.io >/dev/null
fi

if docker info >/dev/null 2>&1; then
  log "engine already answering; leaving it alone"
else
  log "starting dockerd (log: /var/log/cc-ci-dockerd.log)"
  sudo_if_needed sh -c 'nohup dockerd >/var/log/cc-ci-dockerd.log 2>&1 &'
  for _ in $(seq 1 120); do
    if docker info >/dev/null 2>&1; then break; fi
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    log "dockerd did not answer within 60s; last log lines:"
    tail -n 20 /var/log/cc-ci-dockerd.log >&2 || true
    exit 1
  fi
fi

state=$(docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}')
case "$state" in
  "active true") log "swarm already active; this node is a manager" ;;
  "inactive"*)
    log "initialising single-node swarm"
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null ;;
  *)
    log "swarm state is '$state': not a manager. Fix: docker swarm leave --force && make docker-up"
    exit 1 ;;
esac

# The attachable overlay every recipe joins for its front door (DESIGN 9).
if ! docker network inspect proxy >/dev/null 2>&1; then
  log "creating attachable overlay network 'proxy'"
  docker network create --driver overlay --attachable proxy >/dev/null
fi
log "ready: $(docker version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}')"
