#!/usr/bin/env bash
# Runs the test suite against a build of the package compiled with
# AddressSanitizer and UndefinedBehaviorSanitizer (tools/README.md).
#
#   tools/sanitize.sh [filter]     all tests, or only test-<filter>*.R
#
# R itself is not instrumented: the ASan runtime of the compiler R uses is
# preloaded into every R process (the test runner, the local server, the
# callr processes of the interrupt tests), and each writes its reports to
# $EC5_SAN_DIR/logs/. LeakSanitizer runs at the exit of every process; only
# leaks with a frame in the package count (R does not free its own memory
# at exit). Exit status 1 on any test failure, ASan or UBSan report, or
# package leak.
#
# Environment: EC5_SAN_DIR (default /tmp/ec5-sanitize) holds the source copy
# that is built, the instrumented library (lib/) and the logs (logs/).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${EC5_SAN_DIR:-/tmp/ec5-sanitize}
filter=${1:-}

cxx=$(R CMD config CXX17 | cut -d' ' -f1)
libasan=$("$cxx" -print-file-name=libasan.so)
if [ ! -e "$libasan" ] || [ "$libasan" = libasan.so ]; then
  echo "No libasan.so for $cxx: install the compiler's sanitizer runtime (libasan)." >&2
  exit 2
fi
libasan=$(readlink -f "$libasan")

# --- build -------------------------------------------------------------------------

# From a copy, so that no instrumented object file is left in src/ for the
# next ordinary build to pick up; again only when the package has changed.
rm -rf "$dir/logs"
mkdir -p "$dir/lib" "$dir/logs"
cat >"$dir/Makevars" <<'MAKEVARS'
SAN = -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer
CXX17FLAGS = -g -O1 $(SAN)
CXXFLAGS = -g -O1 $(SAN)
CFLAGS = -g -O1 $(SAN)
LDFLAGS = $(SAN)
MAKEVARS
stamp=$( (cat DESCRIPTION NAMESPACE R/*.R src/*.cpp src/*.h src/Makevars.in configure "$dir/Makevars"
  "$cxx" --version) | sha1sum | cut -c1-16)
if [ "$(cat "$dir/lib/stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "Installing epicollect5 with ASan + UBSan into $dir/lib..."
  start=$(date +%s)
  rm -rf "$dir/pkg"
  mkdir -p "$dir/pkg"
  tar --exclude=.git --exclude='*.o' --exclude='*.so' -cf - . | tar -xf - -C "$dir/pkg"
  EC5_KEEP_DEBUG=1 R_MAKEVARS_USER="$dir/Makevars" R CMD INSTALL --no-docs --no-multiarch --no-test-load \
    -l "$dir/lib" "$dir/pkg" >"$dir/install.log" 2>&1 || { cat "$dir/install.log"; exit 1; }
  grep -q -- '-fsanitize=address' "$dir/install.log" || { echo "flags not applied" >&2; exit 1; }
  echo "$stamp" >"$dir/lib/stamp"
  echo "  built in $(($(date +%s) - start)) s"
fi

# --- test --------------------------------------------------------------------------

# The test runner, where the client's C++ runs, records allocation stacks
# with the slow but exact DWARF unwinder, so that a leak inside libcurl or R
# is still traced to the package frame that caused it. Its children (the
# local servers, the callr processes) use frame pointers: with the exact
# unwinder at every one of R's allocations, a server answers too slowly for
# the one-second windows and time-outs of the tests. Package frames keep
# their frame pointers (-fno-omit-frame-pointer), so leaks allocated there
# are still attributed.
asan="log_path=$dir/logs/asan:detect_leaks=1:malloc_context_size=30:verify_asan_link_order=0"
start=$(date +%s)
status=0
env LD_PRELOAD="$libasan" \
  ASAN_OPTIONS="$asan:fast_unwind_on_malloc=0" \
  UBSAN_OPTIONS="log_path=$dir/logs/ubsan:print_stacktrace=1" \
  EC5_TEST_LIB="$dir/lib" EC5_TEST_INSTALLED=true \
  Rscript -e "Sys.setenv(ASAN_OPTIONS = '$asan:fast_unwind_on_malloc=1')" \
  -e 'source("tools/run-tests.R")' $filter >"$dir/tests.log" 2>&1 || status=1
tail -n 4 "$dir/tests.log"
echo "  tests ran in $(($(date +%s) - start)) s"

# --- reports -----------------------------------------------------------------------

# A report belongs to the package when one of its frames is in the package's
# shared library or sources.
Rscript tools/sanitizer-reports.R "$dir/logs" "$dir/pkg" || status=1
exit $status
