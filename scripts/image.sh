#!/usr/bin/env bash
# Build the plugin's OCI image without Nix and without pulling anything (docs/image.md): FROM
# scratch, the static cc-ci-plugin, the FAKE abra in abra's place, the host's git, docker CLI and
# curl with their shared libraries, busybox-static, the CA bundle and recipes/. Prints the tag
# (cc-ci-plugin:fake-abra). The same code builds it for the tests (testkit.BuildPluginImage).
set -euo pipefail
cd "$(dirname "$0")/../internal"
exec go run ./testkit/cmd/ccci-image
