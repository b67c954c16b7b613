# The plugin's OCI image, as Drone's docker runner starts it for the recipe-test step: the image's
# entrypoint is cc-ci-plugin, its settings arrive as PLUGIN_* (the step's `settings:`) and the
# host's shared paths as CCCI_* (the runner's environment, nix/modules/drone-runner.nix).
#
# What is in it, and why:
#   cc-ci-plugin          the run itself (wrapper + guarded child)
#   abra                  deploys the recipe (docs/abra-contract.md)
#   git                   fetches the recipe at the pinned ref (internal/recipe)
#   cacert                TLS to the forge, and to the apps through traefik's wildcard certificate
#   busybox, curl, docker the overlay hooks: #!/bin/sh scripts that use curl and `docker exec`
#   chromium              browser checks and screenshots (withChromium = false drops ~400 MB)
#   recipes/              this repo's overlays, at CCCI_OVERLAYS_DIR
#   fakeNss, /tmp         a passwd/group for git and ssh, a world-writable /tmp
{ lib, dockerTools, cc-ci-plugin, abra, git, cacert, busybox, curl, docker-client, chromium
, recipes, withChromium ? true, tag ? "local" }:

dockerTools.buildLayeredImage {
  name = "cc-ci-plugin";
  inherit tag;
  contents = [ cc-ci-plugin abra git cacert busybox curl docker-client dockerTools.fakeNss ]
    ++ lib.optional withChromium chromium;
  extraCommands = ''
    mkdir -p tmp root etc/cc-ci
    chmod 1777 tmp
    ln -s ${recipes} etc/cc-ci/recipes
  '';
  config = {
    Entrypoint = [ "${cc-ci-plugin}/bin/cc-ci-plugin" ];
    Env = [
      "PATH=/bin"
      "HOME=/root"
      "SSL_CERT_FILE=${cacert}/etc/ssl/certs/ca-bundle.crt"
      "GIT_SSL_CAINFO=${cacert}/etc/ssl/certs/ca-bundle.crt"
      "CCCI_OVERLAYS_DIR=/etc/cc-ci/recipes"
    ] ++ lib.optional withChromium "CCCI_CHROMIUM=${chromium}/bin/chromium";
    Labels = {
      "org.opencontainers.image.title" = "cc-ci-plugin";
      "org.opencontainers.image.description" = "cc-ci Drone plugin: one Co-op Cloud recipe run on the local swarm";
      "org.opencontainers.image.source" = "https://git.coopcloud.tech/coop-cloud/cc-ci";
    };
  };
}
