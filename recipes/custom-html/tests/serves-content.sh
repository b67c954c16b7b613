#!/bin/sh
# cc-ci FUNCTIONAL test for a static site (docs/overlays.md, "tests"): a file put into the site's
# content volume is served through the front door, byte for byte. TAP on stdout, one row per check;
# the exit code is the verdict. Env (set by cc-ci-plugin): CCCI_APP_DOMAIN, and CCCI_BASE_URL, the
# front door. The work is done by ../hooks/webprobe, the overlay's data probe.
set -eu
hooks=$(dirname "$0")/../hooks
# The app's stack is its domain with the dots as underscores (internal/naming, Stack).
stack=$(printf '%s' "$CCCI_APP_DOMAIN" | tr . _)
rand=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
key=ccci-functional-$rand
value=ccci-$rand
err=$(mktemp)
trap 'rm -f "$err"' EXIT

probe() {
  CCCI_STACK=$stack CCCI_DOMAIN=$CCCI_APP_DOMAIN CCCI_FRONTDOOR=$CCCI_BASE_URL "$hooks/webprobe" "$@" 2>"$err"
}
diag() { sed 's/^/# /' "$err"; }

echo 1..2
failed=0
if probe write "$key" "$value"; then
  echo "ok 1 - a file written into the content volume is served at /ccci-probe-$key.txt"
else
  echo "not ok 1 - a file written into the content volume is served at /ccci-probe-$key.txt"
  diag
  failed=1
fi
if got=$(probe read "$key") && [ "$got" = "$value" ]; then
  echo "ok 2 - the site serves it back byte for byte"
else
  echo "not ok 2 - the site serves it back byte for byte"
  diag
  failed=1
fi
exit "$failed"
