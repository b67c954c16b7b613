# The cc-ci server: every part on one host (docs/install.md walks through it, docs/architecture.md
# says what runs where). Lines marked REPLACE are this deployment's own values.
{ config, lib, ccciPkgs, ... }:

let
  suffix = "ci.coopcloud.tech"; # REPLACE: the wildcard certificate's domain
  hosts = {
    drone = "drone.${suffix}";
    bridge = "bridge.${suffix}";
    dashboard = "results.${suffix}";
  };
  gw = config.services.cc-ci.proxy.hostAddress;
  dashboardPort = 8081;
in
{
  imports = [ ./hardware.nix ];

  networking.hostName = "cc-ci";
  networking.firewall.enable = true;
  services.openssh = {
    enable = true;
    settings.PasswordAuthentication = false;
  };
  users.users.root.openssh.authorizedKeys.keys = [
    # REPLACE: the operators' SSH public keys
  ];
  nix.settings.experimental-features = [ "nix-command" "flakes" ];
  system.stateVersion = "26.05";

  # The one option set every part reads (nix/modules/common.nix); the paths keep their
  # defaults, which are DESIGN.md 3's and .drone.yml's.
  services.cc-ci = {
    enable = true;
    domainSuffix = suffix;
    deadline = "60m";
  };

  services.cc-ci.secrets = {
    enable = true;
    sopsFile = ./secrets.yaml; # created with sops, docs/secrets.md
    forges = [ "gitea" "github" ];
  };

  services.cc-ci.swarm.enable = true;
  services.cc-ci.abra = {
    enable = true;
    package = ccciPkgs.abra;
  };

  services.cc-ci.proxy = {
    enable = true;
    routes = {
      ${hosts.drone} = "http://${gw}:${toString config.services.cc-ci.drone.port}";
      ${hosts.bridge} = "http://${gw}:8080";
      ${hosts.dashboard} = "http://${gw}:${toString dashboardPort}";
    };
  };

  services.cc-ci.drone = {
    enable = true;
    host = hosts.drone;
    forge = "gitea";
    gitea.server = "https://git.coopcloud.tech";
    gitea.clientId = "REPLACE-with-the-OAuth2-application-client-id";
    adminUser = "cc-ci-bot"; # REPLACE: the forge account that owns the Drone API token
    userFilter = [ "coop-cloud" ];
    webhookEndpoint = "http://127.0.0.1:8080/hooks/drone";
  };

  services.cc-ci.runner = {
    enable = true;
    capacity = 2;
    pluginImage = ccciPkgs.cc-ci-plugin-image;
  };

  services.cc-ci.bridge = {
    enable = true;
    package = ccciPkgs.cc-ci-bridge;
    # traefik reaches it on docker_gwbridge; the firewall keeps the port closed elsewhere.
    listen = "0.0.0.0:8080";
    enrolmentFile = ./enrolment.yml;
    droneUrl = "https://${hosts.drone}";
    droneRepo = "coop-cloud/cc-ci";
    giteaUrl = "https://git.coopcloud.tech";
    dashboardUrl = "https://${hosts.dashboard}/";
  };

  services.cc-ci-janitor = {
    enable = true;
    package = ccciPkgs.cc-ci-janitor;
  };

  services.cc-ci-dashboard = {
    enable = true;
    package = ccciPkgs.cc-ci-dashboard;
    droneUrl = "https://${hosts.drone}";
    droneRepo = config.services.cc-ci.bridge.droneRepo;
    url = "https://${hosts.dashboard}/";
    giteaUrl = config.services.cc-ci.bridge.giteaUrl;
    # The shared runs dir, never the module's own default.
    runsDir = config.services.cc-ci.paths.runsDir;
    nginx.hostName = hosts.dashboard;
  };
  # traefik owns 80 and 443; nginx serves the dashboard behind it, on the gwbridge side only.
  services.nginx.defaultHTTPListenPort = dashboardPort;
}
