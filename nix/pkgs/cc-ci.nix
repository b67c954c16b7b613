# The cc-ci plugin binary. Each binary module requires the shared module through a `replace
# ../internal`, so it builds on its own (GOWORK=off) from the repo root as src. Run
# `nix build .#cc-ci` once on a networked host and copy the hash it reports into vendorHash when
# go.sum changes (the usual buildGoModule workflow; this machine has no network to compute it).
{ lib, buildGoModule, src }:

buildGoModule {
  pname = "cc-ci";
  version = "0.1.0";
  inherit src;
  modRoot = "plugin";
  subPackages = [ "cmd/cc-ci-plugin" ];
  env.CGO_ENABLED = "0";
  env.GOWORK = "off";
  vendorHash = lib.fakeHash;
  ldflags = [ "-s" "-w" ];
  meta = {
    description = "CI server for Co-op Cloud recipes (Drone plugin, janitor, bridge, dashboard)";
    license = lib.licenses.gpl3Plus;
    mainProgram = "cc-ci-plugin";
  };
}
