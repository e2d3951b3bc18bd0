#!/usr/bin/env bash
# Local SMTP server for tests and development: Mailpit (MIT, one Go binary), built once from the Go module proxy
# into .cache/smtp (no Docker, no prebuilt download). It keeps what it receives, shows it on a web page and
# serves it over an HTTP API (GET /api/v1/messages), which the integration tests read.
#   smtp.sh install
#   smtp.sh start SMTP_PORT HTTP_PORT DATA_DIR   # reuses a server running from DATA_DIR; both on loopback
#   smtp.sh stop DATA_DIR
#   smtp.sh status DATA_DIR
# SMTP needs a login (user cqp, CQP_SMTP_PASSWORD in DATA_DIR/secrets.env, made once, mode 0600, never
# committed), plain auth allowed without TLS since it listens on loopback only. It drops a message whose
# Message-ID it already holds (--ignore-duplicate-ids): shared/mail.py re-sends a message with the same id when
# it crashed after the server accepted it and before recording that, and the relay keeps one.
set -euo pipefail
umask 077  # its logs and files are its owner's only

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
module=github.com/axllent/mailpit
version=v1.33.1
cache="$root/.cache/smtp"
bin="$cache/mailpit-$version"
marker="$bin.installed"

die() { echo "smtp.sh: $*" >&2; exit 1; }
secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=' ; }

install() {
  [ -f "$marker" ] && return 0
  command -v go >/dev/null || die "building mailpit $version needs Go on PATH"
  mkdir -p "$cache"
  # flock: two parallel starts must not build into the same place at once.
  (
    flock 9
    [ -f "$marker" ] && exit 0
    log="$cache/install.log"
    # Go's caches stay under .cache/ (module downloads kept; the build cache dropped after).
    export GOPATH="$root/.cache/go/path" GOMODCACHE="$root/.cache/go/mod" GOCACHE="$cache/build" GOFLAGS=-mod=mod
    echo "smtp.sh: building mailpit $version (once; about a minute of CPU)" >&2
    GOBIN="$cache/gobin" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w -X github.com/axllent/mailpit/config.Version=$version" \
      "$module@$version" >>"$log" 2>&1 || { cat "$log" >&2; die "building mailpit $version failed (log: $log)"; }
    mv -f "$cache/gobin/mailpit" "$bin"
    rm -rf "$cache/build" "$cache/gobin"
    touch "$marker"
  ) 9>"$cache/.install.lock"
}

write_secrets() {
  [ -s "$data/secrets.env" ] && return 0
  (umask 077; { echo "CQP_SMTP_USER=cqp"; echo "CQP_SMTP_PASSWORD=$(secret)"; } >"$data/secrets.env")
}

# True if the pid file names a live mailpit of this folder (guards against a recycled pid).
running_pid() {
  local pid
  pid="$(cat "$1/smtp.pid" 2>/dev/null)" || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -qa 'mailpit' "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

start() {
  [ $# -eq 3 ] || die "usage: smtp.sh start SMTP_PORT HTTP_PORT DATA_DIR"
  smtp_port="$1" http_port="$2"
  mkdir -p "$3"
  data="$(cd "$3" && pwd)"
  running_pid "$data" >/dev/null && return 0
  install
  write_secrets
  [ -f "$data/smtp.log" ] && mv -f "$data/smtp.log" "$data/smtp.log.1"
  # The password reaches mailpit through a file of its own (never the command line, which others can read in
  # /proc): "user:password" lines.
  (umask 077; echo "cqp:$(sed -n 's/^CQP_SMTP_PASSWORD=//p' "$data/secrets.env")" >"$data/smtp-auth")
  # setsid: own session, so Ctrl-C of the caller does not kill the server.
  setsid "$bin" --smtp "127.0.0.1:$smtp_port" --listen "127.0.0.1:$http_port" --database "$data/mailpit.db" \
    --smtp-auth-file "$data/smtp-auth" --smtp-auth-allow-insecure --ignore-duplicate-ids --smtp-disable-rdns --disable-version-check --quiet \
    </dev/null >"$data/smtp.log" 2>&1 &
  echo $! >"$data/smtp.pid"
  echo "smtp.sh: waiting for Mailpit on 127.0.0.1:$smtp_port (web and API on 127.0.0.1:$http_port; log: $data/smtp.log)" >&2
  local deadline=$((SECONDS + 60))
  until curl -fs "http://127.0.0.1:$http_port/readyz" >/dev/null 2>&1 && (exec 3<>"/dev/tcp/127.0.0.1/$smtp_port") 2>/dev/null; do
    if ! kill -0 "$(cat "$data/smtp.pid")" 2>/dev/null; then
      rm -f "$data/smtp.pid"
      tail -n 30 "$data/smtp.log" >&2 || true
      die "Mailpit exited during startup (log: $data/smtp.log)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 30 "$data/smtp.log" >&2 || true
      stop "$data"
      die "Mailpit did not answer on 127.0.0.1:$smtp_port within 60 s"
    fi
    sleep 0.1
  done
  echo "http://127.0.0.1:$http_port"
}

stop() {
  [ $# -eq 1 ] || die "usage: smtp.sh stop DATA_DIR"
  local pid
  if pid="$(running_pid "$1")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$1/smtp.pid"
}

status() {
  [ $# -eq 1 ] || die "usage: smtp.sh status DATA_DIR"
  running_pid "$1" >/dev/null
}

cmd="${1:-}"; shift || true
case "$cmd" in
  install) install ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  status) status "$@" ;;
  *) die "usage: smtp.sh install | start SMTP_PORT HTTP_PORT DATA_DIR | stop DATA_DIR | status DATA_DIR" ;;
esac
