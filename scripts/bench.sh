#!/usr/bin/env bash
# make bench: every Go benchmark of every module (figures printed, nothing asserted), then the
# scripted benchmarks under bench/.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
for m in "$@"; do
  echo "=== go test -bench ($m)"
  (cd "$m" && go test -run '^$' -bench . -benchmem ./...)
done
for b in bench/*.sh; do
  echo "=== $b"
  bash "$b"
done
