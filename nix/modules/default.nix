# Every cc-ci NixOS module. Importing this declares all options; each part is off until enabled
# (nix/hosts/cc-ci/ enables them). services.cc-ci (common.nix) is the option set they share.
{
  imports = [
    ./common.nix
    ./swarm.nix
    ./abra.nix
    ./proxy.nix
    ./drone-server.nix
    ./drone-runner.nix
    ./bridge.nix
    ./janitor.nix
    ./dashboard.nix
    ./secrets.nix
  ];
}
