# One cc-ci binary. Each binary module requires the shared module through `replace ../internal`,
# so it builds on its own (GOWORK=off) from the repo root as src. Run `nix build .#<name>` once
# on a networked host and copy the hash it reports into vendorHash when go.sum changes (the usual
# buildGoModule workflow; the machine this was written on has no network to compute it).
{ lib, buildGoModule, src, pname, modRoot, vendorHash ? lib.fakeHash }:

buildGoModule {
  inherit pname src modRoot vendorHash;
  version = "0.1.0";
  subPackages = [ "cmd/${pname}" ];
  env.CGO_ENABLED = "0";
  env.GOWORK = "off";
  ldflags = [ "-s" "-w" ];
  meta = {
    description = "cc-ci, continuous integration for Co-op Cloud recipes: ${pname}";
    license = lib.licenses.gpl3Plus;
    mainProgram = pname;
  };
}
