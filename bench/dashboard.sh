#!/usr/bin/env bash
# Dashboard generator (issue 10, "Performance"): histories of 1,000, 10,000 and 100,000 builds
# across 50 recipes on a FAKE Drone (internal/testkit/fakedrone, in the driver process), their
# results.json in a runs dir, and the real cc-ci-dashboard binary run against them: a full
# generation, then five incremental runs of one new build each (the median is printed). Prints,
# and asserts nothing: wall time, CPU time (user+system, of it system), the generator's own time
# (its total less listing, which only waits on the fake API), the phases, files written and peak
# RSS (GNU time's %M).
# Targets at 10,000 builds: full generation < 2 s, one new build < 100 ms.
# The output goes to BENCH_DIR (default: /dev/shm, tmpfs) and, unless BENCH_DISK=0, again to
# TMPDIR (default /tmp, a disk): per-file costs of the file system show in the difference.
# The driver and the fake share the machine with the generator, and so does anything else running
# on it: the load average is printed before and after. Env: BENCH_BUILDS (1000,10000,100000),
# BENCH_RECIPES (50).
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
builds=${BENCH_BUILDS:-1000,10000,100000}
recipes=${BENCH_RECIPES:-50}

bin=$(mktemp -d "${TMPDIR:-/tmp}/cc-ci-dashbench-bin.XXXXXX")
trap 'rm -rf "$bin"' EXIT
(cd dashboard-gen && CGO_ENABLED=0 go build -o "$bin/cc-ci-dashboard" ./cmd/cc-ci-dashboard)
(cd dashboard-gen && go build -o "$bin/ccci-dashbench" ./bench/ccci-dashbench)

machine() { echo "machine: nproc $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg)"; }

dirs=("${BENCH_DIR:-/dev/shm}")
[ "${BENCH_DISK:-1}" = 0 ] || dirs+=("${TMPDIR:-/tmp}")
for d in "${dirs[@]}"; do
  echo
  machine
  "$bin/ccci-dashbench" -bin "$bin/cc-ci-dashboard" -builds "$builds" -recipes "$recipes" -dir "$d"
done
echo
machine
