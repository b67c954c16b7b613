# NixOS module: abra, the Co-op Cloud CLI, on the host, with the canonical ABRA_DIR.
#
#   services.cc-ci.abra.enable = true;
#
# The canonical abra dir is services.cc-ci.paths.abraDir (common.nix): servers/<server>/ holds
# every app's .env, catalogue/ the recipe catalogue. Every CI run links its own ABRA_DIR's
# servers/ and catalogue/ to it (DESIGN.md 4.2), the janitor removes orphaned .env files from
# it, and an operator's `abra` on this host uses it too (ABRA_DIR is set system-wide), so
# `abra app ls` shows what CI runs have deployed. The plugin image carries its own abra.
{ config, lib, pkgs, ... }:

let
  cfg = config.services.cc-ci.abra;
  common = config.services.cc-ci;
  inherit (lib) mkEnableOption mkIf mkOption types;
in
{
  imports = [ ./common.nix ];

  options.services.cc-ci.abra = {
    enable = mkEnableOption "abra on the host, using the canonical abra dir";

    package = mkOption {
      type = types.package;
      description = "Package providing bin/abra (the flake's `abra` package).";
    };
  };

  config = mkIf cfg.enable {
    services.cc-ci.enable = true;
    environment.systemPackages = [ cfg.package ];
    # abra reads ABRA_DIR (default ~/.abra): point every login shell at the canonical dir.
    environment.variables.ABRA_DIR = common.paths.abraDir;
  };
}
