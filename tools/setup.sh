#!/usr/bin/env bash
# Sets up a fresh machine for epicollect5: system libraries, R packages, the
# package itself, then runs the offline demo.
#   tools/setup.sh            everything, then ec5_demo()
#   tools/setup.sh --no-demo  everything but the demo (what CI uses)
#   tools/setup.sh --deps     system libraries and R packages only
#   tools/setup.sh --fuzz     as --deps, plus clang, libFuzzer and valgrind (tools/fuzz/)
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-all}"

install_system_deps() {
  # libcurl headers to compile against, pandoc to build vignettes, and the
  # libraries that sf (maps) needs. Only Debian/Ubuntu is automated; other
  # systems are told what to install.
  # qpdf and checkbashisms (devscripts) are what R CMD check --as-cran uses.
  # libpq headers build RPostgres; DBI, RSQLite and dbplyr come prebuilt
  # from Debian (tools/install-deps.R then finds them installed).
  local pkgs="libcurl4-openssl-dev pandoc libssl-dev libxml2-dev libgdal-dev libgeos-dev libproj-dev libudunits2-dev qpdf devscripts libpq-dev r-cran-dbi r-cran-rsqlite r-cran-dbplyr"
  [ "$mode" = "--fuzz" ] && pkgs="$pkgs clang libclang-rt-dev valgrind" && mode="--deps"
  if command -v apt-get >/dev/null 2>&1; then
    local missing=""
    for p in $pkgs; do
      dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
      local sudo=""
      [ "$(id -u)" -eq 0 ] || sudo="sudo"
      echo "Installing system packages:$missing"
      $sudo apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
    fi
  else
    echo "Not a Debian/Ubuntu system: install libcurl (with headers) and pandoc yourself."
    echo "  rpm: libcurl-devel pandoc   brew: curl pandoc   Windows: Rtools provides libcurl"
  fi
}

install_r_deps() {
  Rscript tools/install-deps.R
}

install_package() {
  R CMD INSTALL --no-multiarch --with-keep.source . >/tmp/epicollect5-install.log 2>&1 || {
    cat /tmp/epicollect5-install.log
    exit 1
  }
  echo "epicollect5 installed."
}

install_system_deps
install_r_deps
[ "$mode" = "--deps" ] && exit 0
install_package
[ "$mode" = "--no-demo" ] && exit 0
Rscript -e 'epicollect5::ec5_demo()'
