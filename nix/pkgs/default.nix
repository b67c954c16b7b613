# Every package of the flake, for one nixpkgs. The Go binaries build with Go 1.26 (go.mod's
# `go 1.26.8`), from a source that holds only what a Go build reads, so editing docs or Nix
# files does not rebuild them.
{ pkgs }:

let
  inherit (pkgs) lib;
  root = ../..;
  goSrc = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      (root + "/internal")
      (root + "/plugin")
      (root + "/janitor")
      (root + "/bridge")
      (root + "/dashboard-gen")
    ];
  };
  hashes = import ./vendor-hashes.nix;
  binary = pname: modRoot: pkgs.callPackage ./cc-ci.nix {
    buildGoModule = pkgs.buildGo126Module;
    src = goSrc;
    inherit pname modRoot;
    vendorHash = hashes.${modRoot};
  };
in
rec {
  cc-ci-plugin = binary "cc-ci-plugin" "plugin";
  cc-ci-janitor = binary "cc-ci-janitor" "janitor";
  cc-ci-bridge = binary "cc-ci-bridge" "bridge";
  cc-ci-dashboard = binary "cc-ci-dashboard" "dashboard-gen";

  # nixpkgs' abra when it has one (nixpkgs PR 441439), else ours at the same version.
  abra = pkgs.abra or (pkgs.callPackage ./abra.nix { buildGoModule = pkgs.buildGo126Module; });

  # The per-recipe overlays (recipes/), as the plugin image carries them.
  cc-ci-recipes = lib.fileset.toSource { inherit root; fileset = root + "/recipes"; } + "/recipes";

  cc-ci-plugin-image = pkgs.callPackage ./plugin-image.nix {
    inherit cc-ci-plugin abra;
    recipes = cc-ci-recipes;
  };
}
