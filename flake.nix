{
  description = "cc-ci: continuous integration for Co-op Cloud recipes";

  inputs = {
    # 26.05: the first NixOS release with Go 1.26 (go.mod says `go 1.26.8`; buildGo126Module).
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
    sops-nix = {
      url = "github:Mic92/sops-nix";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs = { self, nixpkgs, sops-nix }:
    let
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};
      ccci = import ./nix/pkgs { inherit pkgs; };
    in
    {
      # nix build .#cc-ci-plugin (…-janitor, -bridge, -dashboard), .#abra, .#cc-ci-plugin-image
      # (then: docker load < result). vendorHash: make vendor-hashes after a go.sum change.
      packages.${system} = ccci // { default = ccci.cc-ci-plugin; };

      overlays.default = final: _prev: import ./nix/pkgs { pkgs = final; };

      nixosModules = {
        common = import ./nix/modules/common.nix;
        swarm = import ./nix/modules/swarm.nix;
        abra = import ./nix/modules/abra.nix;
        proxy = import ./nix/modules/proxy.nix;
        drone-server = import ./nix/modules/drone-server.nix;
        drone-runner = import ./nix/modules/drone-runner.nix;
        bridge = import ./nix/modules/bridge.nix;
        janitor = import ./nix/modules/janitor.nix;
        dashboard = import ./nix/modules/dashboard.nix;
        secrets = import ./nix/modules/secrets.nix;
        default = import ./nix/modules;
      };

      # The CI server: nixos-rebuild switch --flake .#cc-ci (docs/install.md).
      nixosConfigurations.cc-ci = nixpkgs.lib.nixosSystem {
        inherit system;
        specialArgs = { ccciPkgs = ccci; };
        modules = [
          sops-nix.nixosModules.sops
          self.nixosModules.default
          ./nix/hosts/cc-ci
        ];
      };

      devShells.${system} = {
        # Everything `make build test demo` needs (docs/testing.md).
        default = pkgs.mkShell {
          packages = with pkgs; [ go_1_26 gnumake git docker shellcheck yamllint nix busybox curl jq chromium wrk sops ssh-to-age ];
        };
        # The pinned tools of `make lint`, so a laptop and CI lint alike.
        lint = pkgs.mkShell {
          packages = with pkgs; [ go_1_26 gnumake git shellcheck yamllint nix go-tools ];
        };
      };
    };
}
