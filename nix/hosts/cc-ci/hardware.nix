# REPLACE this file with the server's own: `nixos-generate-config --show-hardware-config` on the
# installed machine (docs/install.md, step 2). What is here only lets the flake evaluate.
{ lib, ... }:

{
  boot.loader.grub.enable = true;
  boot.loader.grub.device = lib.mkDefault "/dev/sda";
  fileSystems."/" = lib.mkDefault {
    device = "/dev/disk/by-label/nixos";
    fsType = "ext4";
  };
}
