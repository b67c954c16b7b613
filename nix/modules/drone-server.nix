# NixOS module: the Drone server. It logs maintainers in through the forge (OAuth), keeps the
# builds, and hands them to runners over RPC. The bridge starts recipe builds through its API; its
# build webhook tells the bridge when one ended. Settings: https://docs.drone.io/server/reference/
#
#   services.cc-ci.drone = {
#     enable = true;
#     host = "drone.ci.coopcloud.tech";
#     forge = "gitea";
#     gitea = { server = "https://git.coopcloud.tech"; clientId = "..."; };
#     adminUser = "cc-ci-bot";
#     environmentFile = config.sops.templates."drone-server.env".path;   # secrets.nix
#   };
#
# Secrets never go in the Nix store: they come from `environmentFile` (DRONE_RPC_SECRET,
# DRONE_GITEA_CLIENT_SECRET or DRONE_GITHUB_CLIENT_SECRET, DRONE_DATABASE_SECRET,
# DRONE_WEBHOOK_SECRET), written by sops-nix (secrets.nix, docs/secrets.md).
{ config, lib, pkgs, ... }:

let
  cfg = config.services.cc-ci.drone;
  inherit (lib) mkEnableOption mkIf mkOption types optionalAttrs;
in
{
  options.services.cc-ci.drone = {
    enable = mkEnableOption "the Drone server";

    package = mkOption {
      type = types.package;
      default = pkgs.drone-oss;
      defaultText = lib.literalExpression "pkgs.drone-oss";
      description = "Package providing bin/drone-server (the Apache-2.0 build by default).";
    };

    host = mkOption {
      type = types.str;
      example = "drone.ci.coopcloud.tech";
      description = "Public host name of the Drone server (DRONE_SERVER_HOST); the OAuth callback is https://<host>/login.";
    };

    proto = mkOption {
      type = types.enum [ "http" "https" ];
      default = "https";
      description = "Scheme of the public URL (DRONE_SERVER_PROTO).";
    };

    port = mkOption {
      type = types.port;
      default = 8000;
      description = "Port the server listens on (DRONE_SERVER_PORT); the proxy routes the public host to it.";
    };

    forge = mkOption {
      type = types.enum [ "gitea" "github" ];
      default = "gitea";
      description = ''
        Which forge Drone logs in through and reads repos from: Gitea/Forgejo or GitHub. One
        Drone server serves one forge; the cc-ci repo (whose .drone.yml runs the recipe tests)
        must live there. Recipes themselves may be on either forge: the bridge talks to both.
      '';
    };

    gitea = {
      server = mkOption {
        type = types.str;
        default = "https://git.coopcloud.tech";
        description = "Gitea/Forgejo base URL (DRONE_GITEA_SERVER).";
      };
      clientId = mkOption {
        type = types.str;
        default = "";
        description = ''
          OAuth2 application client id (DRONE_GITEA_CLIENT_ID), from Gitea's Settings ->
          Applications with redirect URI https://<host>/login. Not a secret; the client
          secret goes in environmentFile as DRONE_GITEA_CLIENT_SECRET.
        '';
      };
    };

    github = {
      server = mkOption {
        type = types.str;
        default = "https://github.com";
        description = "GitHub base URL (DRONE_GITHUB_SERVER); change only for GitHub Enterprise.";
      };
      clientId = mkOption {
        type = types.str;
        default = "";
        description = ''
          OAuth app client id (DRONE_GITHUB_CLIENT_ID), callback URL https://<host>/login. The
          client secret goes in environmentFile as DRONE_GITHUB_CLIENT_SECRET.
        '';
      };
    };

    adminUser = mkOption {
      type = types.str;
      example = "cc-ci-bot";
      description = ''
        Forge login made a Drone admin at first start (DRONE_USER_CREATE). Admins can mark the
        cc-ci repo trusted, which the recipe-test step's host volumes need.
      '';
    };

    userFilter = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "coop-cloud" ];
      description = ''
        Users and organisations allowed to log in (DRONE_USER_FILTER); empty lets any forge user
        register, which only gives them their own repos.
      '';
    };

    webhookEndpoint = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "http://127.0.0.1:8080/hooks/drone";
      description = ''
        Where Drone posts its build webhooks (DRONE_WEBHOOK_ENDPOINT): the bridge's
        /hooks/drone. The host config sets it from the bridge's listen address. Signed with
        DRONE_WEBHOOK_SECRET from environmentFile, which the bridge checks.
      '';
    };

    environmentFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/run/secrets/rendered/drone-server.env";
      description = ''
        File of KEY=value lines with the server's secrets: DRONE_RPC_SECRET (shared with the
        runners), DRONE_<FORGE>_CLIENT_SECRET, DRONE_DATABASE_SECRET and DRONE_WEBHOOK_SECRET.
        Read by systemd, never copied to the store (secrets.nix writes it with sops-nix).
      '';
    };

  };

  config = mkIf cfg.enable {
    systemd.services.drone-server = {
      description = "Drone server (cc-ci)";
      after = [ "network-online.target" ];
      wants = [ "network-online.target" ];
      wantedBy = [ "multi-user.target" ];
      environment = {
        DRONE_SERVER_HOST = cfg.host;
        DRONE_SERVER_PROTO = cfg.proto;
        DRONE_SERVER_PORT = ":${toString cfg.port}";
        DRONE_DATABASE_DRIVER = "sqlite3";
        DRONE_DATABASE_DATASOURCE = "/var/lib/drone/database.sqlite"; # StateDirectory below
        DRONE_USER_CREATE = "username:${cfg.adminUser},admin:true";
        DRONE_LOGS_TEXT = "true";
      }
      // optionalAttrs (cfg.userFilter != [ ]) { DRONE_USER_FILTER = lib.concatStringsSep "," cfg.userFilter; }
      // optionalAttrs (cfg.webhookEndpoint != null) { DRONE_WEBHOOK_ENDPOINT = cfg.webhookEndpoint; }
      // optionalAttrs (cfg.forge == "gitea") {
        DRONE_GITEA_SERVER = cfg.gitea.server;
        DRONE_GITEA_CLIENT_ID = cfg.gitea.clientId;
      }
      // optionalAttrs (cfg.forge == "github") {
        DRONE_GITHUB_SERVER = cfg.github.server;
        DRONE_GITHUB_CLIENT_ID = cfg.github.clientId;
      };
      serviceConfig = {
        ExecStart = "${cfg.package}/bin/drone-server";
        EnvironmentFile = lib.optional (cfg.environmentFile != null) cfg.environmentFile;
        DynamicUser = true;
        StateDirectory = "drone";
        Restart = "on-failure";
        RestartSec = "5s";
        NoNewPrivileges = true;
        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        CapabilityBoundingSet = [ "" ];
        RestrictAddressFamilies = [ "AF_INET" "AF_INET6" "AF_UNIX" ];
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectControlGroups = true;
        RestrictNamespaces = true;
        LockPersonality = true;
        SystemCallArchitectures = "native";
      };
    };

    assertions = [
      {
        assertion = (cfg.forge == "gitea" -> cfg.gitea.clientId != "") && (cfg.forge == "github" -> cfg.github.clientId != "");
        message = "services.cc-ci.drone: set ${cfg.forge}.clientId (the OAuth application's client id)";
      }
    ];
  };
}
