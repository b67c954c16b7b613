# NixOS module: the front door, traefik, deployed the Co-op Cloud way: the `traefik` recipe as an
# abra app on the local swarm, with a wildcard certificate for *.<domainSuffix> and no ACME. Every
# CI app is served under that suffix, so one certificate covers them all and no run ever asks a
# certificate authority for anything (no rate limits, no public DNS per app).
#
#   services.cc-ci.proxy = {
#     enable = true;
#     certificateFile = config.sops.secrets."proxy/wildcard-cert".path;   # secrets.nix does this
#     keyFile = config.sops.secrets."proxy/wildcard-key".path;
#     routes."drone.ci.coopcloud.tech" = "http://172.18.0.1:8000";
#   };
#
# The wildcard set-up is the operators handbook's "offline" one
# (https://docs.coopcloud.tech/operators/handbook/#running-an-offline-coop-cloud-server):
# WILDCARDS_ENABLED=1, SECRET_WILDCARD_{CERT,KEY}_VERSION and compose.wildcard.yml in the app's
# .env, the certificate and key inserted as the app's ssl_cert and ssl_key secrets. `routes` use
# the recipe's file provider directory (FILE_PROVIDER_DIRECTORY_ENABLED=1, the volume
# <stack>_file-providers), as seen on a live Co-op Cloud traefik; confirm both against the recipe
# version you deploy (docs/install.md says how to check).
{ config, lib, pkgs, ... }:

let
  cfg = config.services.cc-ci.proxy;
  common = config.services.cc-ci;
  inherit (lib) mkEnableOption mkIf mkOption types escapeShellArg;
  docker = "${config.virtualisation.docker.package}/bin/docker";
  stack = builtins.replaceStrings [ "." ] [ "_" ] cfg.domain;
  # traefik's dynamic configuration for the host's own services (JSON is YAML).
  routesFile = pkgs.writeText "cc-ci-routes.yml" (builtins.toJSON {
    http = {
      routers = lib.mapAttrs'
        (host: _: lib.nameValuePair (builtins.replaceStrings [ "." ] [ "-" ] host) {
          rule = "Host(`${host}`)";
          entryPoints = [ "web-secure" ];
          service = builtins.replaceStrings [ "." ] [ "-" ] host;
          tls = { };
        })
        cfg.routes;
      services = lib.mapAttrs'
        (host: url: lib.nameValuePair (builtins.replaceStrings [ "." ] [ "-" ] host) {
          loadBalancer.servers = [ { inherit url; } ];
        })
        cfg.routes;
    };
  });
in
{
  imports = [ ./common.nix ./swarm.nix ./abra.nix ];

  options.services.cc-ci.proxy = {
    enable = mkEnableOption "traefik (the Co-op Cloud recipe, via abra) with a wildcard certificate, as the apps' front door";

    domain = mkOption {
      type = types.str;
      default = "traefik.${common.domainSuffix}";
      defaultText = lib.literalExpression ''"traefik.''${config.services.cc-ci.domainSuffix}"'';
      description = "Domain of the traefik app itself (its abra app name and its dashboard's host).";
    };

    version = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "3.4.0+v3.3.5";
      description = "Release of the traefik recipe to deploy; null: the newest release at first install (then kept).";
    };

    certificateFile = mkOption {
      type = types.str;
      example = "/run/secrets/proxy/wildcard-cert";
      description = ''
        PEM certificate (with its chain) valid for *.<domainSuffix> and the host names in
        `routes`. It must chain to a CA in the plugin image's bundle (a public CA), because the
        plugin checks every app's certificate against the app's name.
      '';
    };

    keyFile = mkOption {
      type = types.str;
      example = "/run/secrets/proxy/wildcard-key";
      description = "PEM private key of certificateFile.";
    };

    routes = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = { "drone.ci.coopcloud.tech" = "http://172.18.0.1:8000"; };
      description = ''
        Host name -> URL of a service on this host that traefik serves under that name with the
        wildcard certificate (Drone, the bridge, the dashboard). The URL is as seen from the
        traefik container: the host's address on docker_gwbridge (hostAddress).
      '';
    };

    hostAddress = mkOption {
      type = types.str;
      default = "172.18.0.1";
      description = ''
        This host's address on the docker_gwbridge network, where swarm containers (traefik)
        reach services of the host; the host services in `routes` must listen on it and the
        firewall lets the routes' ports in on docker_gwbridge only.
      '';
    };
  };

  config = mkIf cfg.enable {
    services.cc-ci.enable = true;
    services.cc-ci.swarm.enable = true;
    services.cc-ci.abra.enable = true;

    # traefik publishes 80 and 443 in host mode (the recipe's compose file).
    networking.firewall.allowedTCPPorts = [ 80 443 ];
    networking.firewall.interfaces.docker_gwbridge.allowedTCPPorts =
      lib.unique (map (url: lib.toInt (lib.last (lib.splitString ":" url))) (lib.attrValues cfg.routes));

    systemd.services.cc-ci-proxy = {
      description = "cc-ci front door: the traefik recipe via abra, wildcard certificate, no ACME";
      after = [ "cc-ci-swarm.service" "network-online.target" ];
      requires = [ "cc-ci-swarm.service" ];
      wants = [ "network-online.target" ];
      wantedBy = [ "multi-user.target" ];
      path = [ config.services.cc-ci.abra.package config.virtualisation.docker.package pkgs.git pkgs.util-linux pkgs.coreutils pkgs.gnused pkgs.gnugrep ];
      environment.ABRA_DIR = common.paths.abraDir;
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        TimeoutStartSec = "15min";
      };
      # Idempotent: creates the app once, keeps its .env settings, inserts a certificate version
      # once per certificate, and deploys only when the .env or the certificate changed.
      script = ''
        set -euo pipefail
        # abra wants a terminal even with --no-input (docs/abra-contract.md): give it one.
        abra() { script -qefc "$(printf '%q ' abra "$@")" /dev/null; }
        app=${escapeShellArg cfg.domain}
        env="$ABRA_DIR/servers/${common.server}/$app.env"
        if [ ! -d "$ABRA_DIR/recipes/traefik" ]; then abra recipe fetch traefik --no-input; fi
        if [ ! -f "$env" ]; then
          abra app new traefik ${lib.optionalString (cfg.version != null) (escapeShellArg cfg.version)} \
            --server ${escapeShellArg common.server} --domain "$app" --no-input
        fi
        setenv() { sed -i "/^#\{0,1\}[[:space:]]*$1=/d" "$env"; printf '%s=%s\n' "$1" "$2" >>"$env"; }
        # The certificate's version is its content hash: a new certificate is a new swarm secret.
        ver=c$(cat ${escapeShellArg cfg.certificateFile} ${escapeShellArg cfg.keyFile} | sha256sum | cut -c1-10)
        setenv WILDCARDS_ENABLED 1
        setenv SECRET_WILDCARD_CERT_VERSION "$ver"
        setenv SECRET_WILDCARD_KEY_VERSION "$ver"
        setenv FILE_PROVIDER_DIRECTORY_ENABLED 1
        setenv LETS_ENCRYPT_ENV ""
        grep -q 'compose.wildcard.yml' "$env" || printf '%s\n' 'COMPOSE_FILE="$COMPOSE_FILE:compose.wildcard.yml"' >>"$env"
        for s in ssl_cert:${escapeShellArg cfg.certificateFile} ssl_key:${escapeShellArg cfg.keyFile}; do
          name=''${s%%:*} file=''${s#*:}
          if ! docker secret inspect "${stack}_''${name}_$ver" >/dev/null 2>&1; then
            abra app secret insert "$app" "$name" "$ver" "$file" --file --no-input
          fi
        done
        stamp=/var/lib/cc-ci/proxy.deployed
        want=$(cat "$env" ${routesFile} | sha256sum | cut -d' ' -f1)
        if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
          abra app deploy "$app" --no-input --no-domain-checks --force
          printf '%s\n' "$want" >"$stamp"
        fi
        vol=$(docker volume inspect --format '{{.Mountpoint}}' "${stack}_file-providers")
        install -m 0644 ${routesFile} "$vol/cc-ci-routes.yml"
      '';
    };
  };
}
