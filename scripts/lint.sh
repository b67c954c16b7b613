#!/usr/bin/env bash
# The whole lint gate: gofmt, go vet, staticcheck, shellcheck, yamllint, nix-instantiate --parse.
# Arguments: the Go module dirs (from go.work). Fails on the first unclean category, after
# reporting all of them.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
fail=0
note() { printf '=== %s\n' "$*"; }

STATICCHECK_VERSION=v0.8.2
if ! command -v staticcheck >/dev/null 2>&1 && [ ! -x "$HOME/go/bin/staticcheck" ]; then
  note "installing staticcheck $STATICCHECK_VERSION"
  go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION" || fail=1
fi
staticcheck=$(command -v staticcheck || echo "$HOME/go/bin/staticcheck")

note gofmt
bad=$(gofmt -l "$@")
if [ -n "$bad" ]; then echo "gofmt would change (run gofmt -w):"; echo "$bad"; fail=1; fi

for m in "$@"; do
  note "go vet ($m)"
  (cd "$m" && go vet ./...) || fail=1
  note "staticcheck ($m)"
  (cd "$m" && "$staticcheck" ./...) || fail=1
done

note shellcheck
mapfile -t shells < <(git ls-files -co --exclude-standard '*.sh' '.ci/run' 'scripts/*' 'bench/*.sh' 'recipes/*/hooks/*' | sort -u)
if [ "${#shells[@]}" -gt 0 ]; then shellcheck "${shells[@]}" || fail=1; fi

note yamllint
mapfile -t yamls < <(git ls-files -co --exclude-standard '*.yml' '*.yaml' '.drone.yml' | grep -v '/testdata/' | sort -u)
if [ "${#yamls[@]}" -gt 0 ]; then yamllint -s -c .yamllint.yaml "${yamls[@]}" || fail=1; fi

note "nix-instantiate --parse"
mapfile -t nixes < <(git ls-files -co --exclude-standard '*.nix')
for f in "${nixes[@]}"; do
  nix-instantiate --parse "$f" >/dev/null || { echo "nix parse error: $f"; fail=1; }
done

if [ "$fail" -ne 0 ]; then echo "lint: FAILED"; exit 1; fi
echo "lint: clean"
