#!/usr/bin/env bash
# Run every test of every Go module named on the command line (from go.work), then print one summary
# line per module. Real-kernel (flock/prctl/signals) and real-swarm suites are ordinary Go tests
# here: they need root-free flock and a running Docker engine (make docker-up).
#
# The plugin module (its e2e suites are most of the time) runs in a lane of its own, alongside the
# other modules one after another: the swarm and bridge suites spend much of their time waiting
# on restart delays, stability windows and timers, which the plugin's runs fill with work. Its
# output is printed when it ends, so the two lanes never interleave.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
flags=${GOFLAGS_TEST:--count=1}

# test_module runs one module's tests, logging to /tmp/cc-ci-test-<module>.log (and the console
# with -v), and writes its summary line to /tmp/cc-ci-test-<module>.summary.
test_module() {
  local m=$1 show=$2 start par status
  start=$(date +%s)
  # -parallel: a plugin run costs the box 25-35 CPU-seconds (the engine's network and container
  # set-up, mostly), so on 2 CPUs more runs at once only stretch each run towards its deadline;
  # 3 at a time (plus go test running two packages at once) keeps the CPUs busy. internal's swarm
  # tests mostly wait on restart delays and stability windows, so they run 4 at once. The
  # bridge's e2e tests wait on fakes and timers: 6 at once.
  case "$m" in
    plugin | janitor) par=3 ;;
    internal) par=4 ;;
    *) par=6 ;;
  esac
  # -timeout: a hung test is ended by its own bounds; this only stops a suite gone wrong.
  # shellcheck disable=SC2086 # flags is a word list on purpose
  (cd "$m" && go test $flags -parallel "$par" -timeout 45m ./...) >"/tmp/cc-ci-test-$m.log" 2>&1 &
  local pid=$!
  if [ "$show" = yes ]; then
    tail -n +1 --pid="$pid" -f "/tmp/cc-ci-test-$m.log"
  fi
  wait "$pid"
  status=$?
  if [ "$status" -eq 0 ]; then
    echo "PASS  $m  ($(( $(date +%s) - start ))s, $(grep -c '^ok' "/tmp/cc-ci-test-$m.log") packages ok)" >"/tmp/cc-ci-test-$m.summary"
  else
    echo "FAIL  $m  ($(( $(date +%s) - start ))s; see /tmp/cc-ci-test-$m.log)" >"/tmp/cc-ci-test-$m.summary"
  fi
  return "$status"
}

status=0
lane=()
for m in "$@"; do
  rm -f "/tmp/cc-ci-test-$m.summary"
  [ "$m" = plugin ] || lane+=("$m")
done

plugin_pid=""
if printf '%s\n' "$@" | grep -qx plugin; then
  echo "=== go test ./... in plugin (own lane; its output follows when it ends)"
  test_module plugin no &
  plugin_pid=$!
fi
for m in "${lane[@]}"; do
  echo "=== go test ./... in $m"
  test_module "$m" yes || status=1
done
if [ -n "$plugin_pid" ]; then
  wait "$plugin_pid" || status=1
  echo "=== go test ./... in plugin (output)"
  cat /tmp/cc-ci-test-plugin.log
fi

echo
echo "=== test summary"
for m in "$@"; do
  cat "/tmp/cc-ci-test-$m.summary" 2>/dev/null || echo "FAIL  $m  (no summary)"
done
exit "$status"
