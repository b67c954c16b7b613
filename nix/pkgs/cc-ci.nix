# The cc-ci binaries, built from the go.work workspace. Each binary module is built with its own
# vendor hash; run `nix build .#cc-ci` once on a networked host and copy the hash it reports into
# vendorHash when go.sum changes (the usual buildGoModule workflow).
{ lib, buildGoModule, src }:

buildGoModule {
  pname = "cc-ci";
  version = "0.1.0";
  inherit src;
  modRoot = "plugin";
  subPackages = [ "cmd/cc-ci-plugin" ];
  env.CGO_ENABLED = "0";
  # go.work ties plugin/ to internal/; GOWORK=off + a replace would duplicate go.work, so the
  # workspace is used as is and the vendor hash covers both modules.
  overrideModAttrs = _: { GOWORK = "${src}/go.work"; };
  vendorHash = lib.fakeHash;
  ldflags = [ "-s" "-w" ];
  meta = {
    description = "CI server for Co-op Cloud recipes (Drone plugin, janitor, bridge, dashboard)";
    license = lib.licenses.gpl3Plus;
    mainProgram = "cc-ci-plugin";
  };
}
