# NixOS module: the cc-ci janitor (DESIGN.md 7). A timer starts a oneshot service every
# `onCalendar` (every 5 minutes by default); each start is ONE pass of cc-ci-janitor, which tears
# down what killed CI runs left on the swarm and never touches a live run (the per-app flock
# decides).
#
#   services.cc-ci-janitor = {
#     enable = true;
#     package = inputs.cc-ci.packages.x86_64-linux.cc-ci-janitor;
#   };
#
# The lock dir, abra dir, server, domain suffix and deadline are the plugin's: they come from
# services.cc-ci (common.nix), the one option set every part reads, never from options of this
# module. The lock dir is how the janitor and the plugin agree on which app is live.
{ config, lib, pkgs, ... }:

let
  cfg = config.services.cc-ci-janitor;
  common = config.services.cc-ci;
  inherit (lib) mkEnableOption mkIf mkOption types;
in
{
  imports = [ ./common.nix ];

  options.services.cc-ci-janitor = {
    enable = mkEnableOption "the cc-ci janitor, which reaps what killed CI runs left on the swarm";

    package = mkOption {
      type = types.package;
      description = "Package providing bin/cc-ci-janitor.";
    };

    onCalendar = mkOption {
      type = types.str;
      default = "*:0/5";
      description = ''
        When passes start (systemd calendar spec; default every 5 minutes). Persistent: a firing
        missed while the host was down runs at the next boot.
      '';
    };

    logFormat = mkOption {
      type = types.enum [ "text" "json" ];
      default = "text";
      description = "Log format of the per-candidate lines (CCCI_LOG_FORMAT).";
    };
  };

  config = mkIf cfg.enable {
    # The shared dirs (the lock dir on tmpfs, recreated at boot) come from common.nix. An empty
    # lock dir after a reboot is expected: stacks without a lockfile are reaped at once.
    services.cc-ci.enable = true;

    systemd.services.cc-ci-janitor = {
      description = "cc-ci janitor: one pass over what killed CI runs left on the swarm";
      documentation = [ "https://git.coopcloud.tech/coop-cloud/cc-ci" ];
      after = [ "docker.service" "systemd-tmpfiles-setup.service" ];
      requires = [ "docker.service" ];
      environment = {
        inherit (common.env) CCCI_APP_LOCK_DIR CCCI_ABRA_DIR CCCI_SERVER CCCI_DOMAIN_SUFFIX CCCI_DEADLINE;
        CCCI_LOG_FORMAT = cfg.logFormat;
      };
      serviceConfig = {
        # oneshot: a timer firing while a pass is still running does not start a second one.
        Type = "oneshot";
        # And a janitor-wide lock, so a pass started by hand through this unit's command (or a
        # second unit) does not run beside it either: a pass that finds the lock taken exits 0 at
        # once. Two passes at once would still be safe (the per-app flocks decide), only wasted.
        # The pass lock lives in the unit's own runtime dir, not the app lock dir: a missing lock
        # dir (after a reboot, before any run) must still give a clean pass that exits 0.
        RuntimeDirectory = "cc-ci-janitor";
        RuntimeDirectoryPreserve = "yes";
        ExecStart = lib.escapeShellArgs [
          "${pkgs.util-linux}/bin/flock" "--nonblock" "--conflict-exit-code" "0"
          "/run/cc-ci-janitor/pass.lock"
          "${cfg.package}/bin/cc-ci-janitor"
        ];
        # Teardowns wait for swarm to stop containers; many orphans after an outage take a while.
        TimeoutStartSec = "30min";

        # root, for the docker socket (root:docker 0660) and for lockfiles and .env files that
        # runs create as root. Everything else is taken away below.
        User = "root";
        CapabilityBoundingSet = [ "CAP_DAC_OVERRIDE" ]; # unlink .env files whatever their owner
        NoNewPrivileges = true;
        ProtectSystem = "strict";
        # Writable: the lock dir (probe, unlink) and the abra dir (.env files). The docker socket
        # needs no write access to its mount: connect(2) on a socket ignores read-only mounts.
        # "-": a missing dir is not an error (the janitor logs it and exits 0).
        ReadWritePaths = [ "-${common.paths.lockDir}" "-${common.paths.abraDir}" ];
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        # The docker API is reached over /run/docker.sock only; an AF_UNIX path socket works
        # from a private network namespace. (A DOCKER_HOST=tcp:// setup must drop these two.)
        PrivateNetwork = true;
        RestrictAddressFamilies = [ "AF_UNIX" ];
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
        SystemCallErrorNumber = "EPERM"; # a surprise syscall fails instead of killing the pass
        UMask = "0022";
      };
    };

    systemd.timers.cc-ci-janitor = {
      description = "Run the cc-ci janitor (${cfg.onCalendar})";
      wantedBy = [ "timers.target" ];
      timerConfig = {
        # Soon after boot: /run lost every lockfile, so stacks killed by the reboot go at once.
        OnBootSec = "2min";
        OnCalendar = cfg.onCalendar;
        # Catch up on a calendar firing missed while the host was down.
        Persistent = true;
        AccuracySec = "30s";
        Unit = "cc-ci-janitor.service";
      };
    };
  };
}
