#!/usr/bin/env bash
# The hardening stage of CI (tools/README.md), to run after the main test run
# of .ci/run:
#   1. the whole test suite against an ASan + UBSan build (tools/sanitize.sh);
#   2. the offline parser tests under valgrind (tools/valgrind.sh): the C++
#      that turns server bodies and files into R objects (the whole suite
#      takes about 10 minutes under memcheck; step 1 covers the rest);
#   3. one minute of fuzzing, 15 s per target (tools/fuzz/run.sh 60), with
#      the package step 2 installed for the specs and seeds.
# Each step prints its figures; the stage fails if any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh --fuzz

status=0
step() {
  local start
  start=$(date +%s)
  echo "::: $*"
  "$@" || status=1
  echo "::: $1 took $(($(date +%s) - start)) s"
}
step tools/sanitize.sh
step tools/valgrind.sh '^(definition|parse-entries|csv|json-value|problems)$'
export EC5_FUZZ_LIB="${EC5_VG_DIR:-/tmp/ec5-valgrind}/lib"
step tools/fuzz/run.sh 60
exit $status
