#!/usr/bin/env bash
# A throwaway PostgreSQL server for the store tests (tests/testthat/helper-store.R):
# a new cluster in a temporary folder, listening on a loopback port only,
# trusting local connections, gone when stopped.
#
#   eval "$(bash tools/pg-start.sh)"      start; prints the EC5_TEST_PG_* exports
#   bash tools/pg-start.sh stop DIR       stop the cluster in DIR and delete it
#
# Needs Debian's `postgresql` package (initdb and pg_ctl under
# /usr/lib/postgresql/<version>/bin; .ci/run installs it). PostgreSQL refuses
# to run as root, so as root the cluster belongs to the `postgres` user the
# package creates. Progress goes to stderr; only the exports go to stdout.
set -euo pipefail

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "PostgreSQL is not installed (apt-get install postgresql)." >&2
    exit 1
  fi
  echo "$bin"
}

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}


start() {
  local bin dir port user
  bin=$(pg_bin)
  dir=$(mktemp -d /tmp/ec5-pg.XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  user=ec5
  as_owner "$bin/initdb" -D "$dir/data" -U "$user" --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }
  # A random high port; another one when it is taken.
  local try
  for try in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >&2 && break
    [ "$try" -eq 5 ] && { cat "$dir/server.log" >&2; exit 1; }
  done
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$user" ec5test >&2
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)" >&2
  cat <<EOF
export EC5_TEST_PG_HOST=127.0.0.1
export EC5_TEST_PG_PORT=$port
export EC5_TEST_PG_USER=$user
export EC5_TEST_PG_DBNAME=ec5test
export EC5_TEST_PG_DIR=$dir
EOF
}

stop() {
  local dir="$1"
  [ -d "$dir/data" ] || { echo "No cluster in $dir" >&2; exit 1; }
  as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
  rm -rf "$dir"
}

case "${1:-start}" in
  start) start ;;
  stop) stop "${2:?the cluster folder (EC5_TEST_PG_DIR)}" ;;
  *) echo "usage: pg-start.sh [start | stop DIR]" >&2; exit 2 ;;
esac
