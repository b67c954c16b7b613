#!/usr/bin/env bash
# Run every test of every Go module named on the command line (from go.work), then print one summary
# line per module. Real-kernel (flock/prctl/signals) and real-swarm suites are ordinary Go tests
# here: they need root-free flock and a running Docker engine (make docker-up).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
flags=${GOFLAGS_TEST:--count=1}
status=0
summary=()
for m in "$@"; do
  echo "=== go test ./... in $m"
  start=$(date +%s)
  # -parallel: the plugin and janitor e2e runs mostly wait on the swarm (convergence, update
  # monitors), not on the CPU, so they run 6 at once; internal's swarm suite judges stability
  # windows of seconds and keeps Go's default (GOMAXPROCS) to stay clear of load effects.
  par=6
  [ "$m" = internal ] && par=$(nproc)
  # shellcheck disable=SC2086 # flags is a word list on purpose
  if (cd "$m" && go test $flags -parallel "$par" -timeout 20m ./... 2>&1 | tee "/tmp/cc-ci-test-$m.log"); then
    summary+=("PASS  $m  ($(( $(date +%s) - start ))s, $(grep -c '^ok' "/tmp/cc-ci-test-$m.log") packages ok)")
  else
    status=1
    summary+=("FAIL  $m  ($(( $(date +%s) - start ))s; see /tmp/cc-ci-test-$m.log)")
  fi
done
echo
echo "=== test summary"
printf '%s\n' "${summary[@]}"
exit "$status"
