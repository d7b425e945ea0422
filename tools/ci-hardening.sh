#!/usr/bin/env bash
# The hardening stage of CI (tools/README.md), to run after the main test run
# of .ci/run:
#   1. the whole test suite against an ASan + UBSan build (tools/sanitize.sh);
#   2. one minute of fuzzing, 15 s per target (tools/fuzz/run.sh 60);
#   3. the offline parser tests under valgrind (tools/valgrind.sh), which
#      cover the C++ that turns server bodies into R objects; the HTTP tests
#      are left to step 1 (under memcheck their timing tests would need
#      other limits, and their C++ is the same as under ASan).
# Each step prints its figures; the stage fails if any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh --fuzz

status=0
step() {
  local start=$(date +%s)
  echo "::: $*"
  "$@" || status=1
  echo "::: $1 took $(($(date +%s) - start)) s"
}
step tools/sanitize.sh
step tools/fuzz/run.sh 60
step tools/valgrind.sh '^(definition|parse-entries|csv|json-value|problems)$'
exit $status
