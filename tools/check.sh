#!/usr/bin/env bash
# Builds the package (vignettes included, offline on the demo server) and runs
# R CMD check --as-cran on the tarball with CRAN's remote incoming checks off.
# Fails on any ERROR or WARNING; prints the NOTEs (see README, Development).
# Arguments are passed on to R CMD check: .ci/run gives --no-tests, since
# the suite has just run on the installed package and takes 12 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${EC5_CHECK_DIR:-$(mktemp -d)}"
src="$(pwd)"
(cd "$out" && R CMD build "$src" >build.log 2>&1) || { cat "$out/build.log"; exit 1; }
tarball=$(ls "$out"/epicollect5_*.tar.gz)
(cd "$out" && _R_CHECK_CRAN_INCOMING_REMOTE_=false \
  R CMD check --as-cran --no-manual "$@" "$tarball" >check.log 2>&1) || true
grep -E "^\* checking .*(NOTE|WARNING|ERROR)$|^Status:" "$out/check.log" || true
if grep -qE "^Status: .*(ERROR|WARNING)" "$out/check.log"; then
  sed -n '/WARNING\|ERROR/,+12p' "$out/check.log"
  echo "R CMD check found errors or warnings (log: $out/check.log)"
  exit 1
fi
echo "R CMD check: no errors or warnings (log: $out/check.log)"
