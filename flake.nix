{
  description = "cc-ci: continuous integration for Co-op Cloud recipes";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs = { self, nixpkgs }:
    let
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};
      binary = pname: modRoot: pkgs.callPackage ./nix/pkgs/cc-ci.nix { src = self; inherit pname modRoot; };
    in
    {
      packages.${system} = rec {
        cc-ci-plugin = binary "cc-ci-plugin" "plugin";
        cc-ci-janitor = binary "cc-ci-janitor" "janitor";
        default = cc-ci-plugin;
      };

      nixosModules.janitor = import ./nix/modules/janitor.nix;

      devShells.${system}.default = pkgs.mkShell {
        packages = with pkgs; [ go gnumake git docker shellcheck yamllint busybox curl chromium ];
      };
    };
}
