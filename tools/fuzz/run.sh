#!/usr/bin/env bash
# Fuzzes the package's parsers with libFuzzer under AddressSanitizer and
# UndefinedBehaviorSanitizer, outside R CMD INSTALL (tools/fuzz/README.md).
#
#   tools/fuzz/run.sh [seconds] [target...]   fuzz for `seconds` in total
#                                              (default 60), split evenly over
#                                              the targets (default: all of
#                                              definition entries csv json)
#   tools/fuzz/run.sh --replay [target...]     run the seeds and the saved
#                                              corpus once, no fuzzing
#                                              (EC5_FUZZ_GCTORTURE=1: under
#                                              gctorture, see harness.cpp)
#   tools/fuzz/run.sh --build                  build only
#
# Environment:
#   EC5_FUZZ_DIR  work folder (default /tmp/ec5-fuzz): build/, seeds/,
#                 corpus/ (kept between runs), findings/, logs/
#   EC5_FUZZ_LIB  an R library with epicollect5 installed, used to make the
#                 column specs and the seeds; by default the package is
#                 installed into $EC5_FUZZ_DIR/lib (again when it changes)
#   CXX           clang++ with libFuzzer (default clang++; `tools/setup.sh
#                 --fuzz` installs it on Debian/Ubuntu)
#
# Exit status 1 when any target found something: the input is in
# findings/<target>/ and the report in logs/<target>.log; the report's key
# lines and the input (base64) are printed on stderr. Reproduce with
#   $EC5_FUZZ_DIR/build/fuzz-<target> <file>
# (with R_HOME and EC5_FUZZ_SPECS set as below).
set -euo pipefail
cd "$(dirname "$0")/../.."

mode=fuzz
seconds=60
case "${1:-}" in
  --replay) mode=replay; shift ;;
  --build) mode=build; shift ;;
  ''|*[!0-9]*) ;;
  *) seconds=$1; shift ;;
esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(definition entries csv json)

dir=${EC5_FUZZ_DIR:-/tmp/ec5-fuzz}
cxx=${CXX:-clang++}
mkdir -p "$dir"/{build,seeds,corpus,findings,logs}
R_HOME=$(R RHOME)
export R_HOME

probe='extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }'
if ! command -v "$cxx" >/dev/null ||
  ! echo "$probe" | "$cxx" -x c++ -fsanitize=fuzzer -o "$dir/build/probe" - 2>/dev/null; then
  echo "$cxx cannot build libFuzzer targets; run tools/setup.sh --fuzz first." >&2
  exit 2
fi

# --- build ------------------------------------------------------------------------

# The parser sources: no libcurl, no HTTP.
sources=(definition values problems column column_text lazy_text column_number column_choice
  column_location table table_layout entries entries_reader csv csv_columns json_value auth
  error_body interrupt)
rcpp_inc=$(Rscript -e 'cat(system.file("include", package = "Rcpp"))')
rapidjson_inc=$(Rscript -e 'cat(system.file("include", package = "rapidjsonr"))')
flags=(-std=c++17 -g -O1 -fno-omit-frame-pointer
  -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
  -I"$R_HOME/include" -I/usr/share/R/include -I"$rcpp_inc" -I"$rapidjson_inc" -Isrc
  -DRAPIDJSON_HAS_CXX11_NOEXCEPT=0)
stamp=$( (cat src/*.cpp src/*.h tools/fuzz/harness.cpp; echo "${flags[*]} $cxx") | sha1sum | cut -c1-16)
build="$dir/build"
if [ "$(cat "$build/stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "Building the fuzz targets with $cxx (ASan + UBSan)..."
  rm -f "$build"/*.o "$build"/fuzz-*
  objects=()
  for s in "${sources[@]}"; do
    "$cxx" "${flags[@]}" -c "src/$s.cpp" -o "$build/$s.o"
    objects+=("$build/$s.o")
  done
  for t in definition entries csv json; do
    upper=$(echo "$t" | tr a-z A-Z)
    "$cxx" "${flags[@]}" -DEC5_FUZZ_"$upper" -c tools/fuzz/harness.cpp -o "$build/harness-$t.o"
    "$cxx" -fsanitize=fuzzer,address,undefined -o "$build/fuzz-$t" "$build/harness-$t.o" \
      "${objects[@]}" -L"$R_HOME/lib" -lR -Wl,-rpath,"$R_HOME/lib"
  done
  echo "$stamp" >"$build/stamp"
fi
[ "$mode" = build ] && exit 0

# --- specs and seeds ---------------------------------------------------------------

lib=${EC5_FUZZ_LIB:-}
if [ -z "$lib" ]; then
  lib="$dir/lib"
  pkg_stamp=$( (cat DESCRIPTION R/*.R src/*.cpp src/*.h) | sha1sum | cut -c1-16)
  if [ "$(cat "$lib/stamp" 2>/dev/null)" != "$pkg_stamp" ]; then
    echo "Installing epicollect5 into $lib (for the specs and seeds)..."
    mkdir -p "$lib"
    R CMD INSTALL --no-docs --no-multiarch -l "$lib" . >"$dir/logs/install.log" 2>&1 ||
      { cat "$dir/logs/install.log"; exit 1; }
    echo "$pkg_stamp" >"$lib/stamp"
  fi
fi
rm -rf "$dir/seeds"
R_LIBS="$lib${R_LIBS:+:$R_LIBS}" Rscript tools/fuzz/corpus.R "$dir" >"$dir/logs/corpus.log" 2>&1 ||
  { cat "$dir/logs/corpus.log"; exit 1; }
head -1 "$dir/logs/corpus.log"
export EC5_FUZZ_SPECS="$dir/specs.rds"

# --- run --------------------------------------------------------------------------

# halt_on_error: the first report ends the run with the input saved.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:malloc_context_size=30:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

per=$((seconds / ${#targets[@]}))
[ "$per" -ge 1 ] || per=1
status=0
printf '%-11s %8s %10s %8s %6s %7s %s\n' target seconds execs exec/s cov corpus findings
for t in "${targets[@]}"; do
  mkdir -p "$dir/corpus/$t" "$dir/findings/$t"
  # -detect_leaks=0: a leak check after every new input scans the whole R
  # heap (20 execs/s instead of 1000); LeakSanitizer still checks at exit.
  args=(-timeout=20 -rss_limit_mb=4096 -print_final_stats=1 -detect_leaks=0
    -dict=tools/fuzz/ec5.dict -artifact_prefix="$dir/findings/$t/")
  if [ "$mode" = replay ]; then
    args+=(-runs=0)
  else
    args+=(-max_total_time="$per")
  fi
  log="$dir/logs/$t.log"
  start=$(date +%s)
  touch "$dir/logs/$t.start"
  if ! "$build/fuzz-$t" "${args[@]}" "$dir/corpus/$t" "$dir/seeds/$t" >"$log" 2>&1; then
    status=1
  fi
  elapsed=$(($(date +%s) - start))
  # A target that stops at its first input prints no cov or corp line;
  # `|| true` keeps pipefail from ending the script before its report.
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  corp=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  # A slow unit (over 10 s) is not a finding: under gctorture a large input
  # takes that long; a hang is caught by -timeout as a timeout- artifact.
  found=$(find "$dir/findings/$t" -type f -newer "$dir/logs/$t.start" ! -name 'slow-unit-*' | wc -l)
  printf '%-11s %8s %10s %8s %6s %7s %s\n' "$t" "$elapsed" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${corp:-?}" "$found"
  if [ "$found" -gt 0 ] || grep -q -E '==ec5-fuzz== FINDING|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
    status=1
    echo "  -> see $log" >&2
    # CI keeps only what is printed: the report's key lines and the input.
    grep -E '==ec5-fuzz== FINDING|ERROR: |runtime error:|^SUMMARY|^Base64:' "$log" | head -8 |
      cut -c1-2000 | sed 's/^/     /' >&2 || true
  fi
done
exit $status
