{
  description = "cc-ci: continuous integration for Co-op Cloud recipes";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs = { self, nixpkgs }:
    let
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};
      cc-ci = pkgs.callPackage ./nix/pkgs/cc-ci.nix { src = self; };
    in
    {
      packages.${system} = {
        inherit cc-ci;
        default = cc-ci;
      };

      devShells.${system}.default = pkgs.mkShell {
        packages = with pkgs; [ go gnumake git docker shellcheck yamllint busybox curl chromium ];
      };
    };
}
