#!/usr/bin/env bash
# Janitor pass benchmarks (issue 4): one pass over 10,000 free lockfiles (orphans with nothing
# deployed: probe, lock, unlink, release each) and over 10,000 held ones (one helper process holds
# them all). Real files and real flocks; the swarm is the FAKE with no stacks. Prints the figures
# against the target (< 0.5 s per pass); it asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/../janitor" || exit 1
count=${BENCH_COUNT:-3}
out=$(go test -run '^$' -bench 'BenchmarkPassOver10000' -benchmem -count "$count" ./reap/)
echo "$out"
echo
echo "=== janitor pass figures (median of $count runs; target < 500 ms per pass)"
echo "$out" | awk '
  /^BenchmarkPassOver10000/ {
    name = $1; sub(/-[0-9]+$/, "", name); sub(/^BenchmarkPassOver10000/, "", name)
    runs[name] = runs[name] " " $3
  }
  END {
    for (name in runs) {
      n = split(substr(runs[name], 2), v, " ")
      # insertion sort, then the median
      for (i = 2; i <= n; i++) { x = v[i]; j = i - 1; while (j > 0 && v[j] > x + 0) { v[j+1] = v[j]; j-- } v[j+1] = x }
      med = v[int((n + 1) / 2)]
      printf "%-16s %8.1f ms per pass of 10,000  (%6.2f us per lockfile)\n", name, med / 1e6, med / 1e4 / 1e3
    }
  }' | sort
