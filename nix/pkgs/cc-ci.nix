# One cc-ci binary. Each binary module requires the shared module through `replace ../internal`,
# so it builds on its own (GOWORK=off) with the repo root as src and modRoot its directory.
#
# proxyVendor: the dependencies are fetched with `go mod download` (a directory replacement is
# never downloaded) instead of `go mod vendor` (which would copy internal/'s source into the
# vendor dir, so the hash would change with every edit of internal/). vendorHash therefore
# covers the third-party modules only: refresh it with `make vendor-hashes` after a go.mod/go.sum
# change, and at no other time (nix/pkgs/vendor-hashes.nix, scripts/vendor-hashes.sh).
{ lib, buildGoModule, src, pname, modRoot, vendorHash, version ? "0.1.0" }:

buildGoModule {
  inherit pname src modRoot vendorHash version;
  proxyVendor = true;
  subPackages = [ "cmd/${pname}" ];
  env.CGO_ENABLED = "0";
  env.GOWORK = "off";
  ldflags = [ "-s" "-w" ];
  # The tests need Docker, a swarm and real flock/prctl (make test); the build is only the build.
  doCheck = false;
  meta = {
    description = "cc-ci, continuous integration for Co-op Cloud recipes: ${pname}";
    homepage = "https://git.coopcloud.tech/coop-cloud/cc-ci";
    license = lib.licenses.gpl3Plus;
    mainProgram = pname;
    platforms = lib.platforms.linux;
  };
}
