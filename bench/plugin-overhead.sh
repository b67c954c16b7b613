#!/usr/bin/env bash
# Plugin overhead on the sample recipe: run wall time minus the time spent inside abra, Docker,
# git, hooks and front-door requests, as measured by the plugin itself (its "timing:" log line).
# Target: < 5 % of the run and < 2 s. Usage: bench/plugin-overhead.sh [runs] (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
for i in $(seq 1 "$runs"); do
  line=$(CCCI_DEMO_DIR="/tmp/cc-ci-bench-$i" bash scripts/demo.sh 2>&1 | grep -E '^==> timing:|verdict \*\*' | tr '\n' ' ')
  echo "run $i: $line"
done
