# NixOS module: the ONE option set the parts of cc-ci must agree on (DESIGN.md 3).
#
# The plugin step (through the Drone runner's environment), the janitor, the bridge, the dashboard,
# abra and the proxy all read these options and nothing else for the lock dir, the runs dir, the
# canonical abra dir, the domain suffix and the abra server name. They cannot drift apart: a
# janitor with another lock dir than the plugin's would see every live run as lockless and reap
# it at once. internal/testkit/opscheck (nix_test.go) checks that every consumer reads these
# options and that the defaults are DESIGN.md 3's paths and the binaries' own defaults.
#
#   services.cc-ci = {
#     enable = true;
#     domainSuffix = "ci.coopcloud.tech";   # the wildcard certificate's domain
#   };
#
# Changing a path here changes it for every part at once, except for .drone.yml's host volumes
# of the recipe-test step, which are YAML in the repo and mount DESIGN.md 3's paths (the defaults
# here, checked against DESIGN.md 3 by the test above): change both together, or neither.
{ config, lib, ... }:

let
  cfg = config.services.cc-ci;
  inherit (lib) mkEnableOption mkIf mkOption types;
in
{
  options.services.cc-ci = {
    enable = mkEnableOption ''
      the directories and names shared by every part of cc-ci (every cc-ci module turns this on
      by itself)
    '';

    domainSuffix = mkOption {
      type = types.str;
      default = "ci.coopcloud.tech";
      example = "ci2.coopcloud.tech";
      description = ''
        DNS suffix of the apps CI runs deploy (CCCI_DOMAIN_SUFFIX): an app is
        <4 letters>-<6 hex>.<suffix>. The proxy's wildcard certificate must cover *.<suffix>, and
        each runner host of a scale-out has its own suffix (docs/install.md, "Scale-out").
      '';
    };

    server = mkOption {
      type = types.str;
      default = "default";
      description = ''
        abra server name of the local swarm (CCCI_SERVER). "default" is abra's name for the
        local Docker endpoint; app .env files live in <abraDir>/servers/<server>/.
      '';
    };

    deadline = mkOption {
      type = types.str;
      default = "60m";
      description = ''
        The plugin's whole-run deadline (CCCI_DEADLINE, a Go duration). The janitor reads it too:
        a lock held longer than twice this is logged as a possible leaked run (never taken). The
        recipe-test step's Drone timeout must be longer.
      '';
    };

    frontdoorUrl = mkOption {
      type = types.str;
      default = "https://127.0.0.1";
      example = "https://203.0.113.7";
      description = ''
        Where the plugin reaches the proxy in front of the apps (CCCI_FRONTDOOR_URL): traefik's
        published port 443 on this host. The recipe-test step runs with the host's network
        (network_mode: host in .drone.yml), so loopback is this host. Requests carry the app's
        Host header and TLS server name, checked against the wildcard certificate.
      '';
    };

    paths = {
      lockDir = mkOption {
        type = types.str;
        default = "/run/lock/cc-ci";
        description = ''
          Directory of the per-app lockfiles app-<domain>.lock (CCCI_APP_LOCK_DIR). On tmpfs on
          purpose: a reboot forgets every lock, and the janitor then reaps lockless CI stacks at
          once. The plugin and the janitor MUST use the same directory.
        '';
      };

      runsDir = mkOption {
        type = types.str;
        default = "/var/lib/cc-ci/runs";
        description = ''
          Directory of the per-run dirs <run-id>/ (CCCI_RUNS_DIR) holding results.json,
          summary.md, log.txt and the run's abra/ dir. Written by the plugin, read by the bridge
          and the dashboard.
        '';
      };

      abraDir = mkOption {
        type = types.str;
        default = "/var/lib/cc-ci/abra";
        description = ''
          The canonical abra dir (CCCI_ABRA_DIR): servers/<server>/<domain>.env and catalogue/.
          Each run's own ABRA_DIR links servers/ and catalogue/ here, so the janitor finds every
          app's .env in one place. Also ABRA_DIR for operators on this host.
        '';
      };
    };

    env = mkOption {
      type = types.attrsOf types.str;
      readOnly = true;
      default = {
        CCCI_APP_LOCK_DIR = cfg.paths.lockDir;
        CCCI_RUNS_DIR = cfg.paths.runsDir;
        CCCI_ABRA_DIR = cfg.paths.abraDir;
        CCCI_DOMAIN_SUFFIX = cfg.domainSuffix;
        CCCI_SERVER = cfg.server;
        CCCI_DEADLINE = cfg.deadline;
        CCCI_FRONTDOOR_URL = cfg.frontdoorUrl;
      };
      description = ''
        The options above as the environment variables the binaries read (read-only). Modules
        take values from here, so the variable names are written once too.
      '';
    };
  };

  config = mkIf cfg.enable {
    # /run is tmpfs: the lock dir is recreated at every boot, before any run or janitor pass.
    systemd.tmpfiles.rules = [
      "d ${cfg.paths.lockDir} 0755 root root -"
      "d ${cfg.paths.runsDir} 0755 root root -"
      "d ${cfg.paths.abraDir} 0755 root root -"
      "d ${cfg.paths.abraDir}/servers 0755 root root -"
      "d ${cfg.paths.abraDir}/servers/${cfg.server} 0755 root root -"
      "d ${cfg.paths.abraDir}/catalogue 0755 root root -"
    ];
  };
}
