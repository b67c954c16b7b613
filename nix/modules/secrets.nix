# NixOS module: every secret of the CI box, from one sops-encrypted file (sops-nix), wired into
# the modules that use them. docs/secrets.md says what each one is and how to rotate it.
#
#   services.cc-ci.secrets = {
#     enable = true;
#     sopsFile = ./secrets.yaml;           # encrypted with sops to the host's age key
#     forges = [ "gitea" ];
#   };
#
# Every secret is a root-only file under /run/secrets (tmpfs), never in the Nix store. The bridge
# and the dashboard get theirs as systemd credentials (a copy only their unit can read); Drone's
# server and runner get env files rendered by sops-nix templates.
{ config, lib, ... }:

let
  cfg = config.services.cc-ci.secrets;
  inherit (lib) mkEnableOption mkIf mkOption mkDefault types optionalAttrs elem;
  github = elem "github" cfg.forges;
  gitea = elem "gitea" cfg.forges;
  s = name: config.sops.secrets.${name}.path;
  ph = name: config.sops.placeholder.${name};
  droneForge = lib.toUpper config.services.cc-ci.drone.forge;
in
{
  options.services.cc-ci.secrets = {
    enable = mkEnableOption "the cc-ci secrets from a sops-encrypted file (needs the sops-nix module)";

    sopsFile = mkOption {
      type = types.path;
      example = lib.literalExpression "./secrets.yaml";
      description = ''
        The sops-encrypted YAML file holding every key listed in docs/secrets.md (drone/*,
        forge/*, proxy/*). Encrypt it to the host's age key (derived from its SSH host key) and
        to the operators' keys (.sops.yaml).
      '';
    };

    forges = mkOption {
      type = types.listOf (types.enum [ "github" "gitea" ]);
      default = [ "gitea" ];
      description = "The forges the bridge serves; each needs forge/<forge>-token and forge/<forge>-webhook-secret.";
    };
  };

  config = mkIf cfg.enable {
    sops.defaultSopsFile = cfg.sopsFile;

    # restartUnits: a changed secret restarts every unit that read it (sops-nix option).
    sops.secrets = {
      "drone/rpc-secret".restartUnits = [ "drone-server.service" "drone-runner-docker.service" ];
      "drone/oauth-client-secret".restartUnits = [ "drone-server.service" ];
      "drone/database-secret".restartUnits = [ "drone-server.service" ];
      "drone/webhook-secret".restartUnits = [ "drone-server.service" "cc-ci-bridge.service" ];
      "drone/api-token".restartUnits = [ "cc-ci-bridge.service" ];
      "proxy/wildcard-cert".restartUnits = [ "cc-ci-proxy.service" ];
      "proxy/wildcard-key".restartUnits = [ "cc-ci-proxy.service" ];
    }
    // optionalAttrs github {
      "forge/github-token".restartUnits = [ "cc-ci-bridge.service" ];
      "forge/github-webhook-secret".restartUnits = [ "cc-ci-bridge.service" ];
    }
    // optionalAttrs gitea {
      "forge/gitea-token".restartUnits = [ "cc-ci-bridge.service" ];
      "forge/gitea-webhook-secret".restartUnits = [ "cc-ci-bridge.service" ];
    };

    sops.templates."drone-server.env".content = ''
      DRONE_RPC_SECRET=${ph "drone/rpc-secret"}
      DRONE_${droneForge}_CLIENT_SECRET=${ph "drone/oauth-client-secret"}
      DRONE_DATABASE_SECRET=${ph "drone/database-secret"}
      DRONE_WEBHOOK_SECRET=${ph "drone/webhook-secret"}
    '';
    sops.templates."drone-runner.env".content = ''
      DRONE_RPC_SECRET=${ph "drone/rpc-secret"}
    '';

    services.cc-ci.drone.environmentFile = mkDefault config.sops.templates."drone-server.env".path;
    services.cc-ci.runner.environmentFile = mkDefault config.sops.templates."drone-runner.env".path;

    services.cc-ci.bridge = {
      droneTokenFile = mkDefault (s "drone/api-token");
      droneWebhookSecretFile = mkDefault (s "drone/webhook-secret");
    }
    // optionalAttrs github {
      githubTokenFile = mkDefault (s "forge/github-token");
      githubWebhookSecretFile = mkDefault (s "forge/github-webhook-secret");
    }
    // optionalAttrs gitea {
      giteaTokenFile = mkDefault (s "forge/gitea-token");
      giteaWebhookSecretFile = mkDefault (s "forge/gitea-webhook-secret");
    };

    services.cc-ci-dashboard.droneTokenFile = mkDefault (s "drone/api-token");

    services.cc-ci.proxy = {
      certificateFile = mkDefault (s "proxy/wildcard-cert");
      keyFile = mkDefault (s "proxy/wildcard-key");
    };
  };
}
