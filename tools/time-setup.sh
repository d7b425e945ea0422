#!/usr/bin/env bash
# Times tools/setup.sh as on a fresh machine (tools/README.md): run as root
# inside a private mount namespace, where the R site libraries are empty
# folders and nothing outside the namespace sees them go:
#   sudo unshare -m --propagation private tools/time-setup.sh "$PWD"
# Debian's r-cran-* packages and the system libraries are reinstalled
# (downloaded and unpacked again), CRAN packages compiled again into the
# empty library, the package built and installed with an empty ccache, then
# the demo.
set -euo pipefail
src=$1
empty1=$(mktemp -d); empty2=$(mktemp -d)
mount --bind "$empty1" /usr/local/lib/R/site-library
mount --bind "$empty2" /usr/lib/R/site-library
apt-get clean
cd "$src"
log=${TMPDIR:-/tmp}
t0=$(date +%s)
debs=$(Rscript tools/install-deps.R --debian)
# dpkg still counts the hidden r-cran-* packages as installed: reinstall the
# whole r-cran-* closure of what setup asks for, as a fresh machine installs it.
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances $debs | grep -E '^r-cran-' | sort -u)
echo "Debian packages: $debs" | tr '\n' ' '; echo; echo "closure: $(echo $closure | wc -w)"
DEBIAN_FRONTEND=noninteractive apt-get install --reinstall -y -qq --no-install-recommends \
  libcurl4-openssl-dev pandoc ccache $closure > "$log"/time-setup-apt.log 2>&1
t1=$(date +%s)
Rscript tools/install-deps.R > "$log"/time-setup-cran.log 2>&1
t2=$(date +%s)
bash tools/setup.sh > "$log"/time-setup-pkg.log 2>&1
t3=$(date +%s)
echo "apt: $((t1-t0)) s; CRAN: $((t2-t1)) s; package + demo: $((t3-t2)) s; total: $((t3-t0)) s"
grep "Installing R packages" "$log"/time-setup-cran.log || true
