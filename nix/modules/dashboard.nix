# NixOS module: the cc-ci results dashboard (DESIGN.md 8, docs/dashboard.md). A timer starts a
# oneshot service every `onCalendar` (every 2 minutes by default); each start is ONE run of
# cc-ci-dashboard, which reads what is new in Drone since the last run and rewrites only the
# pages it touches. nginx serves the output directory as it is: plain files, no JavaScript.
#
#   services.cc-ci-dashboard = {
#     enable = true;
#     package = inputs.cc-ci.packages.x86_64-linux.cc-ci-dashboard;
#     droneUrl = "https://drone.coopcloud.tech";
#     droneRepo = "coop-cloud/cc-ci";
#     droneTokenFile = "/run/secrets/cc-ci-drone-token";   # sops-nix, agenix, ...
#     url = "https://ci.coopcloud.tech/";
#     nginx.hostName = "ci.coopcloud.tech";
#   };
#
# On demand (the bridge after a build finished, or an operator):
#   systemctl start --no-block cc-ci-dashboard.service
# A start while a run is going waits for it (oneshot); the generator also takes its own lock, so
# running the binary by hand beside the timer is safe too.
{ config, lib, pkgs, ... }:

let
  cfg = config.services.cc-ci-dashboard;
  inherit (lib) mkEnableOption mkIf mkOption types optionalAttrs concatStringsSep;
  site = "${cfg.stateDir}/site";
in
{
  options.services.cc-ci-dashboard = {
    enable = mkEnableOption "the cc-ci results dashboard: a static site generated from Drone's builds and the runs' results.json";

    package = mkOption {
      type = types.package;
      description = "Package providing bin/cc-ci-dashboard.";
    };

    droneUrl = mkOption {
      type = types.str;
      example = "https://drone.coopcloud.tech";
      description = "Drone server URL (CCCI_DRONE_SERVER): its API is read, and build pages link to it.";
    };

    droneRepo = mkOption {
      type = types.str;
      default = "coop-cloud/cc-ci";
      description = "The cc-ci repo as Drone knows it, owner/name (CCCI_DRONE_REPO): its builds are the recipe runs.";
    };

    droneTokenFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/run/secrets/cc-ci-drone-token";
      description = ''
        File holding a Drone API token that may read the repo's builds. It is handed to the
        service as a systemd credential (never an environment value or a flag). null reads
        anonymously, which works only for a public repo.
      '';
    };

    runsDir = mkOption {
      type = types.str;
      default = "/var/lib/cc-ci/runs";
      description = ''
        The plugin's runs dir (CCCI_RUNS_DIR), read (never written) for <run-id>/results.json and
        screenshot.png. A run whose results.json is gone is read from its Drone step log instead.
      '';
    };

    stateDir = mkOption {
      type = types.str;
      default = "/var/lib/cc-ci/dashboard";
      description = ''
        The generator's directory: the site in site/ (what nginx serves) and its state file,
        which remembers what is rendered. Remove the state file (or start the service with
        CCCI_DASHBOARD_FULL=true) to render every page anew.
      '';
    };

    url = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "https://ci.coopcloud.tech/";
      description = "Public URL of the site (CCCI_DASHBOARD_URL), for the Atom feed's links and the badge snippet; null keeps links relative.";
    };

    title = mkOption {
      type = types.str;
      default = "cc-ci recipe results";
      description = "The site's name, in every page's header (CCCI_DASHBOARD_TITLE).";
    };

    recipes = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "gitea" "traefik" "keycloak" ];
      description = "Recipes listed on the index even before their first run (CCCI_RECIPES): list every enrolled recipe.";
    };

    giteaUrl = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "https://git.coopcloud.tech";
      description = "Gitea/Forgejo base URL (CCCI_GITEA_URL), for links to the pull requests of recipes hosted there.";
    };

    onCalendar = mkOption {
      type = types.str;
      default = "*:0/2";
      description = ''
        When runs start (systemd calendar spec; default every 2 minutes). A run with nothing new
        asks Drone for one page and writes nothing. Persistent: a firing missed while the host
        was down runs at the next boot.
      '';
    };

    logFormat = mkOption {
      type = types.enum [ "text" "json" ];
      default = "text";
      description = "Log format (CCCI_LOG_FORMAT); each run ends with one summary line.";
    };

    nginx = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = "Serve the site with nginx (a virtual host with the headers below); false to serve it another way.";
      };

      hostName = mkOption {
        type = types.str;
        default = "localhost";
        example = "ci.coopcloud.tech";
        description = "nginx virtual host name of the site.";
      };

      enableACME = mkOption {
        type = types.bool;
        default = false;
        description = "Get a Let's Encrypt certificate for hostName and redirect HTTP to HTTPS (security.acme must be set up).";
      };
    };
  };

  config = mkIf cfg.enable {
    users.users.cc-ci-dashboard = {
      isSystemUser = true;
      group = "cc-ci-dashboard";
      description = "cc-ci dashboard generator";
    };
    users.groups.cc-ci-dashboard = { };

    # The site is world-readable (0755 directories, 0644 files): nginx reads it as its own user.
    systemd.tmpfiles.rules = [
      "d ${cfg.stateDir} 0755 cc-ci-dashboard cc-ci-dashboard -"
      "d ${site} 0755 cc-ci-dashboard cc-ci-dashboard -"
    ];

    systemd.services.cc-ci-dashboard = {
      description = "cc-ci dashboard: bring the static results site up to date with Drone";
      documentation = [ "https://git.coopcloud.tech/coop-cloud/cc-ci/src/branch/main/docs/dashboard.md" ];
      after = [ "network-online.target" "systemd-tmpfiles-setup.service" ];
      wants = [ "network-online.target" ];
      environment = {
        CCCI_DRONE_SERVER = cfg.droneUrl;
        CCCI_DRONE_REPO = cfg.droneRepo;
        CCCI_RUNS_DIR = cfg.runsDir;
        CCCI_DASHBOARD_OUT = site;
        CCCI_DASHBOARD_STATE = "${cfg.stateDir}/state";
        CCCI_DASHBOARD_TITLE = cfg.title;
        CCCI_RECIPES = concatStringsSep "," cfg.recipes;
        CCCI_LOG_FORMAT = cfg.logFormat;
      }
      // optionalAttrs (cfg.droneTokenFile != null) { CCCI_DRONE_TOKEN_FILE = "%d/drone-token"; }
      // optionalAttrs (cfg.url != null) { CCCI_DASHBOARD_URL = cfg.url; }
      // optionalAttrs (cfg.giteaUrl != null) { CCCI_GITEA_URL = cfg.giteaUrl; };
      serviceConfig = {
        # oneshot: a timer firing (or a start by the bridge) while a run is going waits for it.
        Type = "oneshot";
        ExecStart = "${cfg.package}/bin/cc-ci-dashboard";
        User = "cc-ci-dashboard";
        Group = "cc-ci-dashboard";
        # The token, readable by this unit only, at $CREDENTIALS_DIRECTORY/drone-token (%d).
        LoadCredential = lib.optional (cfg.droneTokenFile != null) "drone-token:${cfg.droneTokenFile}";
        # A first run reads every build and renders every page: give it time.
        TimeoutStartSec = "30min";
        # Files 0644, directories 0755: nginx must read what is written.
        UMask = "0022";

        NoNewPrivileges = true;
        ProtectSystem = "strict";
        ReadWritePaths = [ cfg.stateDir ];
        # "-": no runs dir yet (no run ever happened) is not an error; every run then reads logs.
        ReadOnlyPaths = [ "-${cfg.runsDir}" ];
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        CapabilityBoundingSet = [ "" ];
        RestrictAddressFamilies = [ "AF_INET" "AF_INET6" "AF_UNIX" ];
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ProtectClock = true;
        ProtectHostname = true;
        ProtectProc = "invisible";
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        LockPersonality = true;
        MemoryDenyWriteExecute = true;
        SystemCallArchitectures = "native";
        SystemCallFilter = [ "@system-service" "~@privileged" ];
        SystemCallErrorNumber = "EPERM";
      };
    };

    systemd.timers.cc-ci-dashboard = {
      description = "Bring the cc-ci dashboard up to date (${cfg.onCalendar})";
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnBootSec = "1min";
        OnCalendar = cfg.onCalendar;
        Persistent = true;
        AccuracySec = "15s";
        Unit = "cc-ci-dashboard.service";
      };
    };

    services.nginx = mkIf cfg.nginx.enable {
      enable = true;
      virtualHosts.${cfg.nginx.hostName} = {
        root = site;
        enableACME = cfg.nginx.enableACME;
        forceSSL = cfg.nginx.enableACME;
        locations."/" = {
          index = "index.html";
          tryFiles = "$uri $uri/ =404";
          extraConfig = ''
            # The pages hold no script; say so again in a header (each page also has it in a meta).
            add_header Content-Security-Policy "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" always;
            add_header X-Content-Type-Options nosniff always;
            add_header Referrer-Policy no-referrer always;
            # Pages change every few minutes; badges are embedded in READMEs elsewhere.
            add_header Cache-Control "public, max-age=60" always;
          '';
        };
        # The generator's temp files (.name.tmp-*) are never served, half-written or not.
        locations."~ /\\.".extraConfig = "return 404;";
        locations."= /feed.xml".extraConfig = ''
          default_type application/atom+xml;
          types { }
          add_header X-Content-Type-Options nosniff always;
          add_header Cache-Control "public, max-age=60" always;
        '';
      };
    };
  };
}
