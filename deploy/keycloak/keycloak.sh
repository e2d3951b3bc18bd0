#!/usr/bin/env bash
# Local Keycloak (the OpenID Connect provider) for tests and development, with the checked-in `cqp`
# realm imported on first start. The distribution comes from Maven Central (no Docker), cached in
# .cache/keycloak; each STATE_DIR gets its own unpacked copy (Keycloak writes into its home).
#   keycloak.sh install
#   keycloak.sh start PORT STATE_DIR   # prints the issuer URL last; reuses a server running there
#   keycloak.sh stop STATE_DIR
# The secrets of the realm (admin, client secrets, demo password) are made once per STATE_DIR in
# STATE_DIR/secrets.env (mode 0600, never committed); the realm file names them as ${VARIABLES}.
# A first start builds the server, makes its database and imports the realm: minutes on a busy machine.
# The wait follows Keycloak's log: it goes on while the log says something new, up to
# CQP_KEYCLOAK_START_SECONDS (900), and gives up after CQP_KEYCLOAK_STALL_SECONDS (300) without a new line.
set -euo pipefail
umask 077  # its logs and files are its owner's only

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
version=26.4.7
cache="$root/.cache/keycloak"
zip="$cache/keycloak-quarkus-dist-$version.zip"

die() { echo "keycloak.sh: $*" >&2; exit 1; }

install() {
  [ -s "$zip" ] && return 0
  mkdir -p "$cache"
  (
    flock 9
    [ -s "$zip" ] && exit 0
    mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="org.keycloak:keycloak-quarkus-dist:$version:zip" -DoutputDirectory="$cache" \
      >"$cache/install.log" 2>&1 || { cat "$cache/install.log" >&2; die "downloading Keycloak $version failed"; }
  ) 9>"$cache/.install.lock"
}

running_pid() {
  local pid
  pid="$(cat "$1/keycloak.pid" 2>/dev/null)" || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -qa 'keycloak' "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=' ; }

write_secrets() {
  [ -s "$state/secrets.env" ] && return 0
  (
    umask 077
    cat >"$state/secrets.env" <<EOF
KC_BOOTSTRAP_ADMIN_USERNAME=admin
KC_BOOTSTRAP_ADMIN_PASSWORD=$(secret)
CQP_DEMO_PASSWORD=$(secret)
CQP_KC_SECRET_CATALOG=$(secret)
CQP_KC_SECRET_CANDIDACY=$(secret)
CQP_KC_SECRET_JURY=$(secret)
CQP_KC_SECRET_GATEWAY=$(secret)
CQP_KC_SECRET_IMPORTER=$(secret)
EOF
  )
}

ready() { curl -fs "http://127.0.0.1:$port/realms/cqp/.well-known/openid-configuration" >/dev/null 2>&1; }

last_line() { tail -n 1 "$state/keycloak.log" 2>/dev/null | tr -d '\r' | cut -c1-200; }

# Waits until the realm is served, saying what it waits for and what Keycloak last did.
wait_ready() {
  local bound="${CQP_KEYCLOAK_START_SECONDS:-900}" stall="${CQP_KEYCLOAK_STALL_SECONDS:-300}"
  local what="Keycloak to serve the realm cqp at $issuer" started=$SECONDS news=$SECONDS size=-1 now
  echo "keycloak.sh: waiting for $what (log: $state/keycloak.log)" >&2
  until ready; do
    if ! kill -0 "$(cat "$state/keycloak.pid")" 2>/dev/null; then
      rm -f "$state/keycloak.pid"
      tail -n 40 "$state/keycloak.log" >&2 || true
      die "Keycloak exited during startup (log: $state/keycloak.log)"
    fi
    now="$(stat -c %s "$state/keycloak.log" 2>/dev/null || echo 0)"
    if [ "$now" != "$size" ]; then
      size="$now" news=$SECONDS
      [ "$now" -eq 0 ] || echo "keycloak.sh: $((SECONDS - started)) s: $(last_line)" >&2
    fi
    local why=""
    [ $((SECONDS - news)) -lt "$stall" ] || why="its log said nothing new for $stall s"
    [ $((SECONDS - started)) -lt "$bound" ] || why="not within $bound s"
    if [ -n "$why" ]; then
      tail -n 40 "$state/keycloak.log" >&2 || true
      stop "$state"
      die "gave up waiting for $what: $why (last: $(last_line); log: $state/keycloak.log)"
    fi
    sleep 1
  done
}

start() {
  [ $# -eq 2 ] || die "usage: keycloak.sh start PORT STATE_DIR"
  port="$1"
  mkdir -p "$2"
  state="$(cd "$2" && pwd)"
  issuer="http://127.0.0.1:$port/realms/cqp"
  if running_pid "$state" >/dev/null; then echo "$issuer"; return 0; fi
  install
  home="$state/keycloak-$version"
  [ -x "$home/bin/kc.sh" ] || unzip -q -o "$zip" -d "$state"
  mkdir -p "$home/data/import"
  cp "$here/cqp-realm.json" "$home/data/import/cqp-realm.json"
  write_secrets
  [ -f "$state/keycloak.log" ] && mv -f "$state/keycloak.log" "$state/keycloak.log.1"
  # start-dev: H2 file database in the home, realm imported when missing (IGNORE_EXISTING). Log level
  # INFO: the steps of its start, which the wait follows.
  (
    set -a; . "$state/secrets.env"; set +a
    export JAVA_OPTS_KC_HEAP="-Xms128m -Xmx768m"
    exec setsid "$home/bin/kc.sh" start-dev --http-host 127.0.0.1 --http-port "$port" \
      --http-management-port $((port + 1)) --import-realm --log-level INFO </dev/null >"$state/keycloak.log" 2>&1
  ) &
  echo $! >"$state/keycloak.pid"
  wait_ready
  echo "$issuer"
}

stop() {
  [ $# -eq 1 ] || die "usage: keycloak.sh stop STATE_DIR"
  local pid
  if pid="$(running_pid "$1")"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$1/keycloak.pid"
}

cmd="${1:-}"; shift || true
case "$cmd" in
  install) install ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  *) die "usage: keycloak.sh install | start PORT STATE_DIR | stop STATE_DIR" ;;
esac
