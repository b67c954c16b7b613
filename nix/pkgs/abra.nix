# abra, the Co-op Cloud CLI, for the plugin image and the host. Used only when nixpkgs has no
# `abra` of its own (nix/pkgs/default.nix prefers pkgs.abra).
#
# The source hash is the one of nixpkgs' abra package for this version (pkgs/by-name/ab/abra,
# https://github.com/NixOS/nixpkgs/pull/441439); it could not be recomputed on the machine this
# was written on (git.coopcloud.tech is out of its reach). A fixed-output hash is checked by Nix
# at the first build: a wrong one fails with the right one printed, never builds something else.
# abra commits its vendor/ directory, hence vendorHash = null.
{ lib, buildGoModule, fetchFromGitea }:

buildGoModule rec {
  pname = "abra";
  version = "0.11.0-beta";

  src = fetchFromGitea {
    domain = "git.coopcloud.tech";
    owner = "toolshed";
    repo = "abra";
    rev = version;
    hash = "sha256-m0x5uC6E5p3Yj/oFw37s1e0biaF8Qh3hP4d9jew8mlA=";
  };

  vendorHash = null;
  subPackages = [ "cmd/abra" ];
  env.CGO_ENABLED = "0";
  ldflags = [ "-s" "-w" "-X main.Version=${version}" ];
  doCheck = false;

  meta = {
    description = "The Co-op Cloud command-line utility belt";
    homepage = "https://docs.coopcloud.tech/abra";
    license = lib.licenses.gpl3Plus;
    mainProgram = "abra";
  };
}
