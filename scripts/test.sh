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
  # -parallel: a plugin run costs the box 25-35 CPU-seconds (the engine's network and container
  # set-up, mostly), so on 2 CPUs more runs at once only stretch each run towards its deadline;
  # 3 at a time (plus go test running two packages at once) keeps the CPUs busy. internal's swarm
  # tests mostly wait on restart delays and stability windows, so they run 4 at once.
  # The bridge's e2e tests wait on fakes and timers: 6 at once.
  case "$m" in
    plugin | janitor) par=3 ;;
    internal) par=4 ;;
    *) par=6 ;;
  esac
  # -timeout: a hung test is ended by its own bounds; this only stops a suite gone wrong.
  # shellcheck disable=SC2086 # flags is a word list on purpose
  if (cd "$m" && go test $flags -parallel "$par" -timeout 45m ./... 2>&1 | tee "/tmp/cc-ci-test-$m.log"); then
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
