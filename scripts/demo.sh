#!/usr/bin/env bash
# make demo: the whole path a maintainer sees, on the bundled sample recipe and the local swarm: a
# signed `!testme` webhook from a FAKE GitHub goes to the real cc-ci-bridge, which starts a build
# on a FAKE Drone whose step is the real cc-ci-plugin; the demo prints what the PR received
# (reaction, commit statuses, the sticky comment's Markdown) and ends by rendering the results
# dashboard (the real cc-ci-dashboard, reading the FAKE Drone and the runs dir) and printing the
# path of its index.html.
# Set-up it does itself: local images (no pulls), the front door on the `proxy` network, the
# sample recipe's git repo (two releases + a PR head), and — when no real abra is installed — the
# FAKE abra test double. Every test double is announced loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=${CCCI_DEMO_DIR:-/tmp/cc-ci-demo}
port=${CCCI_DEMO_PORT:-8480}
step() { printf '\n=== [demo %4ss] %s\n' "$(( $(date +%s) - start ))" "$*"; }
start=$(date +%s)

rm -rf "$work" && mkdir -p "$work/bin"
step "building the test environment tool"
(cd internal && go build -o "$work/bin/ccci-testenv" ./testkit/cmd/ccci-testenv)
testenv="$work/bin/ccci-testenv"

step "building the sample recipe's images locally (static Go, FROM scratch; nothing is pulled)"
"$testenv" images

step "starting the front door (traefik stand-in) on the proxy network, port $port"
frontdoor=$("$testenv" frontdoor --port "$port")
echo "front door: $frontdoor"

if command -v abra >/dev/null 2>&1 && ! abra --help 2>&1 | grep -q 'FAKE abra'; then
  echo "using the real abra: $(command -v abra)"
else
  "$testenv" fake-abra "$work/bin" >/dev/null
  export PATH="$work/bin:$PATH"
  cat <<'BANNER'

  ##########################################################################
  #  NO REAL abra ON THIS MACHINE: this demo uses the FAKE abra test double #
  #  (internal/testkit/fakeabra). It really deploys to the local swarm with #
  #  `docker stack deploy` and implements backupbot's labels, but it is not #
  #  abra. Install abra to run the real thing.                               #
  ##########################################################################
BANNER
fi

step "creating the sample recipe repo (releases 0.1.0+1.0.0, 0.2.0+2.0.0, PR head on top)"
eval "$("$testenv" recipe "$work/sample" good)"
# shellcheck disable=SC2154 # src and head come from the eval above
echo "recipe repo: $src, PR head: $head"

cat <<'BANNER'

  ##########################################################################
  #  FAKE GitHub and FAKE Drone: GitHub's API and Drone's server are test   #
  #  doubles in this process (internal/testkit/fakegithub, fakedrone) that  #
  #  speak their real wire formats. The bridge and the plugin are the REAL  #
  #  binaries (bin/cc-ci-bridge, bin/cc-ci-plugin), on the real swarm.      #
  ##########################################################################
BANNER

step "!testme on PR #1: FAKE GitHub -> cc-ci-bridge -> FAKE Drone -> cc-ci-plugin (install -> upgrade -> backup -> restore)"
set +e
"$testenv" bridge-demo \
  --bridge "$root/bin/cc-ci-bridge" --plugin "$root/bin/cc-ci-plugin" \
  --src "$src" --head "$head" --pr 1 --work "$work" \
  --overlays "$root/recipes" --domain-suffix ci.local --frontdoor "$frontdoor" \
  --step-timeout 5m --deadline 20m --dashboard "$root/bin/cc-ci-dashboard"
code=$?
set -e
step "finished: bridge-demo exit code $code"
results=$(find "$work/runs" -name results.json 2>/dev/null | head -n 1)
if [ -n "$results" ]; then
  echo "summary.md:   $(dirname "$results")/summary.md"
  echo "results.json: $results"
fi
echo "bridge log:   $work/bridge.log"
if [ -f "$work/dashboard/site/index.html" ]; then
  echo "dashboard:    $work/dashboard/site/index.html"
fi
exit "$code"
