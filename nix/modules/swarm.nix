# NixOS module: Docker and the single-node swarm every CI run deploys to (DESIGN.md 1, 9).
#
#   services.cc-ci.swarm.enable = true;
#
# A oneshot makes this node a swarm manager and creates the attachable overlay network `proxy`
# (the one Co-op Cloud recipes join as external, and traefik routes on). Both steps are
# idempotent: an existing swarm or network is left as it is, so the unit runs at every boot.
{ config, lib, pkgs, ... }:

let
  cfg = config.services.cc-ci.swarm;
  inherit (lib) mkEnableOption mkIf mkOption types;
  docker = "${config.virtualisation.docker.package}/bin/docker";
in
{
  imports = [ ./common.nix ];

  options.services.cc-ci.swarm = {
    enable = mkEnableOption "Docker with a single-node swarm and the attachable `proxy` overlay network";

    advertiseAddress = mkOption {
      type = types.str;
      default = "127.0.0.1";
      example = "10.0.0.5";
      description = ''
        Address the swarm advertises (docker swarm init --advertise-addr). One node never talks
        to another, so loopback is enough and keeps the swarm ports off the network.
      '';
    };

    proxyNetwork = mkOption {
      type = types.str;
      default = "proxy";
      description = ''
        Name of the attachable overlay network shared by traefik and every app. Co-op Cloud
        recipes declare it as `external: true` under this name: change it only with them.
      '';
    };

    pruneImages = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Weekly `docker image prune` of dangling images. CI teardowns never remove images (a
        later run reuses them), so without a prune the disk fills with superseded layers.
      '';
    };
  };

  config = mkIf cfg.enable {
    services.cc-ci.enable = true;

    virtualisation.docker = {
      enable = true;
      # Swarm services survive a daemon restart; live-restore is refused in swarm mode.
      liveRestore = false;
      autoPrune = mkIf cfg.pruneImages {
        enable = true;
        dates = "weekly";
        flags = [ "--filter" "until=168h" ];
      };
    };

    systemd.services.cc-ci-swarm = {
      description = "cc-ci: single-node swarm manager and the attachable `${cfg.proxyNetwork}` overlay";
      after = [ "docker.service" ];
      requires = [ "docker.service" ];
      wantedBy = [ "multi-user.target" ];
      path = [ config.virtualisation.docker.package ];
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
      };
      script = ''
        set -eu
        state=$(${docker} info --format '{{.Swarm.LocalNodeState}}')
        case "$state" in
          active) echo "swarm: already a manager" ;;
          inactive) ${docker} swarm init --advertise-addr ${lib.escapeShellArg cfg.advertiseAddress} ;;
          *) echo "swarm: node state is '$state'; refusing to touch it (docker swarm leave --force to start over)" >&2; exit 1 ;;
        esac
        if ${docker} network inspect ${lib.escapeShellArg cfg.proxyNetwork} >/dev/null 2>&1; then
          echo "network ${cfg.proxyNetwork}: exists"
        else
          ${docker} network create --driver overlay --attachable ${lib.escapeShellArg cfg.proxyNetwork}
        fi
      '';
    };
  };
}
