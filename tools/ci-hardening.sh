#!/usr/bin/env bash
# The hardening stage of CI (tools/README.md), run by .ci/run after the test
# suite and R CMD check, on a machine set up with `tools/setup.sh --fuzz`:
#   1. one minute of fuzzing, 15 s per target (tools/fuzz/run.sh 60), seeded
#      from the fixtures and the local server; the package that builds the
#      specs and seeds is the one the test run installed (EC5_TEST_LIB) when
#      it is set;
#   2. the fault, bad-input, transport and parser tests against an ASan +
#      UBSan build (tools/sanitize.sh with a filter). The whole suite under
#      the sanitizers (about 10 minutes more) and under valgrind (about 40)
#      are run by hand; their figures are in tools/README.md.
# Each step prints its figures; the stage fails if any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
step() {
  local start
  start=$(date +%s)
  echo "::: $*"
  "$@" || status=1
  echo "::: $1 took $(($(date +%s) - start)) s"
}
[ -n "${EC5_TEST_LIB:-}" ] && export EC5_FUZZ_LIB="$EC5_TEST_LIB"
step tools/fuzz/run.sh 60
step tools/sanitize.sh '^(api|conditions|http|auth|json-value|definition|parse-entries|csv|problems)$'
exit $status
