#!/usr/bin/env bash
# Runs the test suite under valgrind's memcheck (tools/README.md).
#
#   tools/valgrind.sh [filter]     all tests, or only test-<filter>*.R
#
# The package is installed with R's usual flags (-g -O2) into a private
# library and the test runner runs as `R -d valgrind`; its log is
# $EC5_VG_DIR/logs/vg.<pid>. Errors and leaks are counted when a frame of
# their stack is in the package; R's own are only tallied. Exit status 1 on
# any test failure or package error or leak.
#
# Environment: EC5_VG_DIR (default /tmp/ec5-valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${EC5_VG_DIR:-/tmp/ec5-valgrind}
filter=${1:-}
command -v valgrind >/dev/null || { echo "valgrind is not installed." >&2; exit 2; }

rm -rf "$dir/logs"
mkdir -p "$dir/lib" "$dir/logs"
stamp=$( (cat DESCRIPTION NAMESPACE R/*.R src/*.cpp src/*.h src/Makevars.in configure) | sha1sum | cut -c1-16)
if [ "$(cat "$dir/lib/stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "Installing epicollect5 into $dir/lib..."
  rm -rf "$dir/pkg"
  mkdir -p "$dir/pkg"
  tar --exclude=.git --exclude='*.o' --exclude='*.so' -cf - . | tar -xf - -C "$dir/pkg"
  EC5_KEEP_DEBUG=1 R CMD INSTALL --no-docs --no-multiarch --no-test-load -l "$dir/lib" "$dir/pkg" \
    >"$dir/install.log" 2>&1 || { cat "$dir/install.log"; exit 1; }
  echo "$stamp" >"$dir/lib/stamp"
fi

# Only the test runner's own process runs under valgrind: the processes it
# starts (the local servers, and the callr processes of the interrupt and
# verbose tests) would not start within the tests' time limits under
# memcheck. tools/sanitize.sh covers those processes.
vg="valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
  --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite \
  --num-callers=40 --track-origins=no --trace-children=no --fullpath-after= \
  --suppressions=$PWD/tools/valgrind-r.supp --log-file=$dir/logs/vg.%p"

start=$(date +%s)
status=0
EC5_TEST_LIB="$dir/lib" EC5_TEST_INSTALLED=true \
  R -d "$vg" --vanilla --no-echo -f tools/run-tests.R --args $filter >"$dir/tests.log" 2>&1 ||
  status=1
tail -n 4 "$dir/tests.log"
echo "  tests ran in $(($(date +%s) - start)) s"
Rscript tools/valgrind-reports.R "$dir/logs" "$dir/pkg" || status=1
exit $status
