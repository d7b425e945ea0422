#!/usr/bin/env bash
# Sets up a fresh machine for epicollect5: system libraries, the R packages
# that using it needs, the package itself (built with its vignettes), then
# runs the offline demo.
#   tools/setup.sh            all that, then ec5_demo()
#   tools/setup.sh --dev      also what developing needs (tests, roxygen2, bench)
#   tools/setup.sh --no-demo  everything but the demo
#   tools/setup.sh --deps     system libraries and R packages only
#   tools/setup.sh --fuzz     as --dev --deps, plus clang, libFuzzer and
#                             valgrind (tools/fuzz/; what CI uses)
# Options combine: tools/setup.sh --dev --no-demo.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=false; fuzz=false; deps_only=false; demo=true
for arg in "$@"; do
  case "$arg" in
    --dev) dev=true ;;
    --fuzz) fuzz=true; dev=true; deps_only=true ;;
    --deps) deps_only=true ;;
    --no-demo) demo=false ;;
    *) echo "Unknown option $arg (see the top of tools/setup.sh)"; exit 2 ;;
  esac
done
dev_flag=""
[ "$dev" = true ] && dev_flag="--dev"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
updated=false

apt_install() {
  local missing=""
  for p in "$@"; do
    # Only "installed" counts: a removed package keeps a status entry.
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  echo "Installing system packages:$missing"
  if [ "$updated" = false ]; then
    $sudo apt-get update -qq
    updated=true
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing \
    >/tmp/epicollect5-apt.log 2>&1 || { cat /tmp/epicollect5-apt.log; exit 1; }
}

install_system_deps() {
  # libcurl's headers to compile against, pandoc for the vignettes and ccache
  # to compile the package once rather than twice (see install_package). For
  # developing: qpdf and checkbashisms (devscripts) for R CMD check --as-cran,
  # and the headers of the libraries that CRAN packages compiled from source
  # link (xml2 for roxygen2; the sf stack in case Debian's sf is too old;
  # libpq for RPostgres, which the store tests use against PostgreSQL).
  local pkgs="libcurl4-openssl-dev pandoc ccache"
  [ "$dev" = true ] && pkgs="$pkgs qpdf devscripts libssl-dev libxml2-dev libgdal-dev libgeos-dev libproj-dev libudunits2-dev libpq-dev"
  [ "$fuzz" = true ] && pkgs="$pkgs clang libclang-rt-dev valgrind"
  if command -v apt-get >/dev/null 2>&1; then
    apt_install $pkgs
  else
    echo "Not a Debian/Ubuntu system: install libcurl (with headers) and pandoc yourself."
    echo "  rpm: libcurl-devel pandoc   brew: curl pandoc   Windows: Rtools provides libcurl"
  fi
}

install_r_deps() {
  # Debian's prebuilt r-cran-* packages where they are new enough (no
  # compiling), then the rest from CRAN.
  if command -v apt-get >/dev/null 2>&1; then
    apt_install $(Rscript tools/install-deps.R --debian $dev_flag)
  fi
  Rscript tools/install-deps.R $dev_flag
}

install_package() {
  # From a tarball built with its vignettes (offline: they run on the demo
  # server), so that vignette(package = "epicollect5") lists them. Building
  # the vignettes compiles the package once and installing the tarball once
  # more: with ccache (and no Makevars of the user's to respect) the second
  # compile comes from the cache of the first.
  local out
  out=$(mktemp -d)
  local src
  src=$(pwd)
  export MAKEFLAGS="${MAKEFLAGS:--j$(nproc 2>/dev/null || echo 2)}"
  if command -v ccache >/dev/null 2>&1 && [ -z "${R_MAKEVARS_USER:-}" ] && [ ! -e "$HOME/.R/Makevars" ]; then
    echo 'CXX17 := ccache $(CXX17)' >"$out/Makevars"
    # Both builds run in temporary folders: hash paths relative to /tmp and
    # without the working directory, so that they share cache entries.
    export R_MAKEVARS_USER="$out/Makevars" CCACHE_DIR="$out/ccache" CCACHE_NOHASHDIR=true \
      CCACHE_BASEDIR="${TMPDIR:-/tmp}"
  fi
  (cd "$out" && R CMD build --no-manual "$src" >build.log 2>&1) || { cat "$out/build.log"; exit 1; }
  R CMD INSTALL --no-multiarch "$out"/epicollect5_*.tar.gz >"$out/install.log" 2>&1 || {
    cat "$out/install.log"
    exit 1
  }
  rm -rf "$out"
  echo "epicollect5 installed, with its vignettes: vignette(package = \"epicollect5\")."
}

install_system_deps
install_r_deps
[ "$deps_only" = true ] && exit 0
install_package
[ "$demo" = false ] && exit 0
Rscript -e 'epicollect5::ec5_demo()'
