# NixOS module: the Drone docker runner that runs recipe tests on this host, and the plugin image
# it starts. Settings: https://docs.drone.io/runner/docker/configuration/reference/
#
#   services.cc-ci.runner = {
#     enable = true;
#     capacity = 2;                                            # concurrent recipe runs
#     pluginImage = inputs.cc-ci.packages.x86_64-linux.cc-ci-plugin-image;
#     environmentFile = config.sops.templates."drone-runner.env".path;   # DRONE_RPC_SECRET
#   };
#
# The recipe-test step of .drone.yml runs the plugin image with the host's docker socket, lock dir,
# runs dir and abra dir mounted at the same paths. The runner gives every step the shared settings
# of services.cc-ci (common.nix) as environment (DRONE_RUNNER_ENVIRON), so the plugin's lock dir,
# runs dir, abra dir, domain suffix, server, deadline and front door are the janitor's and the
# bridge's by construction.
{ config, lib, pkgs, ... }:

let
  cfg = config.services.cc-ci.runner;
  common = config.services.cc-ci;
  inherit (lib) mkEnableOption mkIf mkOption types concatStringsSep mapAttrsToList;
  docker = "${config.virtualisation.docker.package}/bin/docker";
  # DRONE_RUNNER_ENVIRON is "KEY:value,KEY:value"; a value may hold ':' (URLs) but not ','.
  environ = concatStringsSep "," (mapAttrsToList (k: v: "${k}:${v}") (common.env // cfg.extraEnviron));
in
{
  imports = [ ./common.nix ./swarm.nix ./drone-server.nix ];

  options.services.cc-ci.runner = {
    enable = mkEnableOption "the Drone docker runner that runs cc-ci recipe tests on this host";

    package = mkOption {
      type = types.package;
      default = pkgs.drone-runner-docker;
      defaultText = lib.literalExpression "pkgs.drone-runner-docker";
      description = "Package providing bin/drone-runner-docker.";
    };

    capacity = mkOption {
      type = types.ints.positive;
      default = 2;
      description = ''
        How many builds this host runs at once (DRONE_RUNNER_CAPACITY): THE knob for concurrent
        recipe runs. Each run holds two apps of its recipe on the swarm for up to the deadline;
        size it by memory (the plugin limits every service) and disk. More recipes than one
        host can take: add runner hosts (docs/install.md, "Scale-out").
      '';
    };

    name = mkOption {
      type = types.str;
      default = config.networking.hostName;
      defaultText = lib.literalExpression "config.networking.hostName";
      description = "Runner name shown in Drone's build pages (DRONE_RUNNER_NAME).";
    };

    rpcHost = mkOption {
      type = types.str;
      default = "127.0.0.1:${toString config.services.cc-ci.drone.port}";
      defaultText = lib.literalExpression ''"127.0.0.1:''${toString config.services.cc-ci.drone.port}"'';
      example = "drone.ci.coopcloud.tech";
      description = "The Drone server as host[:port] (DRONE_RPC_HOST): local by default, the public host for an extra runner host.";
    };

    rpcProto = mkOption {
      type = types.enum [ "http" "https" ];
      default = "http";
      description = "Scheme of the RPC connection (DRONE_RPC_PROTO): http for a local server, https across hosts.";
    };

    environmentFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/run/secrets/rendered/drone-runner.env";
      description = "File holding DRONE_RPC_SECRET=<the server's RPC secret> (secrets.nix writes it with sops-nix).";
    };

    pluginImage = mkOption {
      type = types.nullOr types.package;
      default = null;
      example = lib.literalExpression "inputs.cc-ci.packages.x86_64-linux.cc-ci-plugin-image";
      description = ''
        The plugin's OCI image (the flake's cc-ci-plugin-image, a docker-archive tarball). It is
        loaded into the local Docker at boot and at every change, so .drone.yml's step finds it
        without a registry; nothing is ever pulled for it. null: load it some other way.
      '';
    };

    extraEnviron = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = { CCCI_STEP_TIMEOUT = "15m"; };
      description = ''
        More environment for every step, beside services.cc-ci.env (which cannot be overridden
        here: set services.cc-ci instead). Never put a secret here: the step's log shows it.
      '';
    };
  };

  config = mkIf cfg.enable {
    services.cc-ci.enable = true;
    services.cc-ci.swarm.enable = true;

    assertions = [
      {
        assertion = lib.all (k: !(common.env ? ${k})) (lib.attrNames cfg.extraEnviron);
        message = "services.cc-ci.runner.extraEnviron must not override services.cc-ci.env; set services.cc-ci.* instead";
      }
      {
        assertion = lib.all (v: !(lib.hasInfix "," v)) (lib.attrValues (common.env // cfg.extraEnviron));
        message = "services.cc-ci: a value handed to steps through DRONE_RUNNER_ENVIRON cannot contain ','";
      }
    ];

    systemd.services.cc-ci-plugin-image = mkIf (cfg.pluginImage != null) {
      description = "Load the cc-ci plugin image into Docker";
      after = [ "docker.service" ];
      requires = [ "docker.service" ];
      before = [ "drone-runner-docker.service" ];
      wantedBy = [ "multi-user.target" ];
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        # The store path is in the command: a new image restarts this unit at activation.
        ExecStart = "${docker} load --input ${cfg.pluginImage}";
      };
    };

    systemd.services.drone-runner-docker = {
      description = "Drone docker runner (cc-ci recipe tests)";
      after = [ "docker.service" "cc-ci-swarm.service" "network-online.target" ];
      requires = [ "docker.service" ];
      wants = [ "network-online.target" ];
      wantedBy = [ "multi-user.target" ];
      environment = {
        DRONE_RPC_HOST = cfg.rpcHost;
        DRONE_RPC_PROTO = cfg.rpcProto;
        DRONE_RUNNER_NAME = cfg.name;
        DRONE_RUNNER_CAPACITY = toString cfg.capacity;
        DRONE_RUNNER_ENVIRON = environ;
      };
      serviceConfig = {
        ExecStart = "${cfg.package}/bin/drone-runner-docker";
        EnvironmentFile = lib.optional (cfg.environmentFile != null) cfg.environmentFile;
        # The runner drives Docker, which is root on this host anyway; no private user helps.
        User = "root";
        Restart = "on-failure";
        RestartSec = "5s";
        # Drone stops a step's container on cancel; give running steps time on runner restarts.
        TimeoutStopSec = "2min";
        KillMode = "process";
      };
    };
  };
}
