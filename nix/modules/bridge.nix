# NixOS module: cc-ci-bridge, the `!testme` comment bridge (DESIGN.md 6, docs/bridge.md). It
# takes signed webhooks from the forges and from Drone, starts recipe builds through Drone's API
# and posts statuses and the sticky comment back. It needs the network and its own store, and
# nothing else: no Docker access, no write access outside its state dir, secrets as systemd
# credentials (never environment values, never flags).
#
#   services.cc-ci.bridge = {
#     enable = true;
#     package = inputs.cc-ci.packages.x86_64-linux.cc-ci-bridge;
#     enrolmentFile = ./enrolment.yml;
#     droneUrl = "https://drone.ci.coopcloud.tech";
#     giteaUrl = "https://git.coopcloud.tech";
#     giteaTokenFile = config.sops.secrets."forge/gitea-token".path;   # secrets.nix does this
#     ...
#   };
{ config, lib, pkgs, ... }:

let
  cfg = config.services.cc-ci.bridge;
  common = config.services.cc-ci;
  inherit (lib) mkEnableOption mkIf mkOption types optionalAttrs filterAttrs mapAttrsToList;

  # Secret name (systemd credential) -> the *_FILE variable the bridge reads, and the file.
  secretFiles = filterAttrs (_: v: v.file != null) {
    github-token = { var = "CCCI_GITHUB_TOKEN_FILE"; file = cfg.githubTokenFile; };
    github-webhook-secret = { var = "CCCI_GITHUB_WEBHOOK_SECRET_FILE"; file = cfg.githubWebhookSecretFile; };
    gitea-token = { var = "CCCI_GITEA_TOKEN_FILE"; file = cfg.giteaTokenFile; };
    gitea-webhook-secret = { var = "CCCI_GITEA_WEBHOOK_SECRET_FILE"; file = cfg.giteaWebhookSecretFile; };
    drone-token = { var = "CCCI_DRONE_TOKEN_FILE"; file = cfg.droneTokenFile; };
    drone-webhook-secret = { var = "CCCI_DRONE_WEBHOOK_SECRET_FILE"; file = cfg.droneWebhookSecretFile; };
  };

  secretOption = what: mkOption {
    type = types.nullOr types.str;
    default = null;
    example = "/run/secrets/${what}";
    description = ''
      File holding the ${what} (a sops-nix secret path). Handed to the bridge as a systemd
      credential, readable by this unit only; null: this forge or secret is not used.
    '';
  };
in
{
  imports = [ ./common.nix ];

  options.services.cc-ci.bridge = {
    enable = mkEnableOption "cc-ci-bridge, which turns `!testme` comments into Drone builds and posts the verdict";

    package = mkOption {
      type = types.package;
      description = "Package providing bin/cc-ci-bridge.";
    };

    listen = mkOption {
      type = types.str;
      default = "127.0.0.1:8080";
      description = ''
        Address of the bridge's HTTP server (CCCI_BRIDGE_LISTEN): /hooks/github, /hooks/gitea,
        /hooks/drone, /healthz, /metrics. The proxy routes the public host to it.
      '';
    };

    enrolmentFile = mkOption {
      type = types.path;
      example = lib.literalExpression "./enrolment.yml";
      description = ''
        The enrolment file (CCCI_ENROLMENT): forge repos and the recipe each one is
        (docs/enroll-recipe.md). Kept in this repo, so enrolling a recipe is a reviewed change.
      '';
    };

    githubApi = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = "GitHub API base URL (CCCI_GITHUB_API); null: api.github.com.";
    };

    githubBot = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = "Login of the GitHub token's user (CCCI_GITHUB_BOT); null: asked from the API at start.";
    };

    giteaUrl = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "https://git.coopcloud.tech";
      description = "Gitea/Forgejo base URL (CCCI_GITEA_URL); null: no Gitea forge.";
    };

    giteaBot = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = "Login of the Gitea token's user (CCCI_GITEA_BOT); null: asked from the API at start.";
    };

    githubTokenFile = secretOption "GitHub token (CCCI_GITHUB_TOKEN_FILE)";
    githubWebhookSecretFile = secretOption "GitHub webhook secret (CCCI_GITHUB_WEBHOOK_SECRET_FILE)";
    giteaTokenFile = secretOption "Gitea/Forgejo token (CCCI_GITEA_TOKEN_FILE)";
    giteaWebhookSecretFile = secretOption "Gitea/Forgejo webhook secret (CCCI_GITEA_WEBHOOK_SECRET_FILE)";
    droneTokenFile = secretOption "Drone API token (CCCI_DRONE_TOKEN_FILE)";
    droneWebhookSecretFile = secretOption "Drone webhook secret, the server's DRONE_WEBHOOK_SECRET (CCCI_DRONE_WEBHOOK_SECRET_FILE)";

    droneUrl = mkOption {
      type = types.str;
      example = "https://drone.ci.coopcloud.tech";
      description = "Drone server URL (CCCI_DRONE_SERVER), for its API and the build links on PRs.";
    };

    droneRepo = mkOption {
      type = types.str;
      default = "coop-cloud/cc-ci";
      description = "This repo as Drone knows it, owner/name (CCCI_DRONE_REPO): its recipe-test pipeline runs the plugin.";
    };

    droneBranch = mkOption {
      type = types.str;
      default = "main";
      description = "Branch of droneRepo whose .drone.yml is built (CCCI_DRONE_BRANCH).";
    };

    runsUrl = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = "Public URL of the runs dir (CCCI_RUNS_URL), for results.json links on PRs; null: no link.";
    };

    dashboardUrl = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = "Public URL of the results dashboard (CCCI_DASHBOARD_URL); null: no link.";
    };

    allowList = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "Logins trusted to trigger runs besides org members and users with write access (CCCI_ALLOW_LIST).";
    };

    pollInterval = mkOption {
      type = types.str;
      default = "1m";
      description = "How often the catch-up loop looks for `!testme` comments whose webhook never came (CCCI_POLL_INTERVAL).";
    };

    workers = mkOption {
      type = types.ints.positive;
      default = 8;
      description = "PRs worked on at once (CCCI_BRIDGE_WORKERS); one PR's requests are always handled in order.";
    };

    logFormat = mkOption {
      type = types.enum [ "text" "json" ];
      default = "json";
      description = "Log format (CCCI_LOG_FORMAT); json keeps the delivery id, forge, repo and PR as fields.";
    };

    logLevel = mkOption {
      type = types.enum [ "debug" "info" "warn" "error" ];
      default = "info";
      description = "Log level (CCCI_LOG_LEVEL).";
    };

    extraEnvironment = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = { CCCI_RECONCILE_INTERVAL = "1m"; };
      description = "Further settings as environment (see `cc-ci-bridge --help`). Never a secret: use the *File options.";
    };
  };

  config = mkIf cfg.enable {
    services.cc-ci.enable = true;

    environment.etc."cc-ci/enrolment.yml".source = cfg.enrolmentFile;

    systemd.services.cc-ci-bridge = {
      description = "cc-ci-bridge: !testme comments -> Drone builds -> verdicts on the PR";
      documentation = [ "https://git.coopcloud.tech/coop-cloud/cc-ci/src/branch/main/docs/bridge.md" ];
      after = [ "network-online.target" ];
      wants = [ "network-online.target" ];
      wantedBy = [ "multi-user.target" ];
      # A changed enrolment file restarts the bridge, which reads it at start.
      restartTriggers = [ cfg.enrolmentFile ];
      environment = {
        CCCI_BRIDGE_LISTEN = cfg.listen;
        CCCI_BRIDGE_STORE = "/var/lib/cc-ci-bridge/bridge.db";
        CCCI_ENROLMENT = "/etc/cc-ci/enrolment.yml";
        CCCI_DRONE_SERVER = cfg.droneUrl;
        CCCI_DRONE_REPO = cfg.droneRepo;
        CCCI_DRONE_BRANCH = cfg.droneBranch;
        inherit (common.env) CCCI_RUNS_DIR;
        CCCI_ALLOW_LIST = lib.concatStringsSep "," cfg.allowList;
        CCCI_POLL_INTERVAL = cfg.pollInterval;
        CCCI_BRIDGE_WORKERS = toString cfg.workers;
        CCCI_LOG_FORMAT = cfg.logFormat;
        CCCI_LOG_LEVEL = cfg.logLevel;
      }
      // optionalAttrs (cfg.githubApi != null) { CCCI_GITHUB_API = cfg.githubApi; }
      // optionalAttrs (cfg.githubBot != null) { CCCI_GITHUB_BOT = cfg.githubBot; }
      // optionalAttrs (cfg.giteaUrl != null) { CCCI_GITEA_URL = cfg.giteaUrl; }
      // optionalAttrs (cfg.giteaBot != null) { CCCI_GITEA_BOT = cfg.giteaBot; }
      // optionalAttrs (cfg.runsUrl != null) { CCCI_RUNS_URL = cfg.runsUrl; }
      // optionalAttrs (cfg.dashboardUrl != null) { CCCI_DASHBOARD_URL = cfg.dashboardUrl; }
      // lib.mapAttrs' (name: v: lib.nameValuePair v.var "%d/${name}") secretFiles
      // cfg.extraEnvironment;
      serviceConfig = {
        ExecStart = "${cfg.package}/bin/cc-ci-bridge";
        # Each secret at $CREDENTIALS_DIRECTORY/<name> (%d), readable by this unit only.
        LoadCredential = mapAttrsToList (name: v: "${name}:${v.file}") secretFiles;
        DynamicUser = true;
        StateDirectory = "cc-ci-bridge";
        StateDirectoryMode = "0700";
        Restart = "on-failure";
        RestartSec = "5s";
        # SIGTERM: answer in-flight webhooks (20 s), finish the request in hand, exit 0.
        TimeoutStopSec = "45s";

        # No Docker: no docker group, no socket, no device; the runs dir only to read.
        NoNewPrivileges = true;
        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        ReadOnlyPaths = [ "-${common.paths.runsDir}" ];
        InaccessiblePaths = [ "-/run/docker.sock" "-/var/run/docker.sock" "-${common.paths.lockDir}" "-${common.paths.abraDir}" ];
        CapabilityBoundingSet = [ "" ];
        AmbientCapabilities = [ "" ];
        RestrictAddressFamilies = [ "AF_INET" "AF_INET6" ];
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ProtectClock = true;
        ProtectHostname = true;
        ProtectProc = "invisible";
        ProcSubset = "pid";
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        LockPersonality = true;
        MemoryDenyWriteExecute = true;
        SystemCallArchitectures = "native";
        SystemCallFilter = [ "@system-service" "~@privileged" "~@resources" ];
        SystemCallErrorNumber = "EPERM";
        UMask = "0077";
      };
    };

    assertions = [
      {
        assertion = secretFiles ? drone-token && secretFiles ? drone-webhook-secret;
        message = "services.cc-ci.bridge: droneTokenFile and droneWebhookSecretFile are required (the bridge refuses to start without them)";
      }
      {
        assertion = (secretFiles ? github-token) == (secretFiles ? github-webhook-secret)
          && (secretFiles ? gitea-token) == (secretFiles ? gitea-webhook-secret)
          && (secretFiles ? github-token || secretFiles ? gitea-token);
        message = "services.cc-ci.bridge: each forge needs both its token and its webhook secret file, and at least one forge is needed";
      }
    ];
  };
}
