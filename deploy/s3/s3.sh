#!/usr/bin/env bash
# Local S3-compatible object store for tests and development: versitygw (Apache-2.0, one Go binary, POSIX
# backend), built once from the Go module proxy into .cache/s3 (no Docker, no prebuilt download).
#   s3.sh install
#   s3.sh start PORT DATA_DIR   # reuses a server running from DATA_DIR; its admin API on PORT+1 (loopback)
#   s3.sh stop DATA_DIR
# Every process has its own credentials and its own private bucket cqp-<process> (deploy/s3/serve.sh);
# the secret keys are made once per DATA_DIR in DATA_DIR/secrets.env (mode 0600, never committed) as
# CQP_S3_ACCESS_KEY_<PROCESS> / CQP_S3_SECRET_KEY_<PROCESS> (ADMIN: the root, which only sets up).
# The build needs Go (1.25 or newer): about 2 min of CPU once, a 60 MB binary.
set -euo pipefail
umask 077  # its logs and files are its owner's only

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
module=github.com/versity/versitygw
version=v1.8.0
cache="$root/.cache/s3"
bin="$cache/versitygw-$version"
marker="$bin.installed"

die() { echo "s3.sh: $*" >&2; exit 1; }

users=(admin catalog candidacy jury gateway)
secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=' ; }

install() {
  [ -f "$marker" ] && return 0
  command -v go >/dev/null || die "building versitygw $version needs Go (1.25 or newer) on PATH"
  mkdir -p "$cache"
  # flock: two parallel starts must not build into the same place at once.
  (
    flock 9
    [ -f "$marker" ] && exit 0
    log="$cache/install.log"
    # Go's caches stay under .cache/ (module downloads kept; the build cache dropped after: ~1 GB).
    export GOPATH="$root/.cache/go/path" GOMODCACHE="$root/.cache/go/mod" GOCACHE="$cache/build" GOFLAGS=-mod=mod
    dir="$(go mod download -json "$module@$version" 2>>"$log" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
    [ -d "$dir" ] || { cat "$log" >&2; die "downloading $module@$version from the Go module proxy failed"; }
    echo "s3.sh: building versitygw $version (once; about 2 min of CPU)" >&2
    (cd "$dir" && go build -trimpath -ldflags "-s -w -X main.Version=$version" -o "$bin" ./cmd/versitygw) >>"$log" 2>&1 \
      || { cat "$log" >&2; die "building versitygw $version failed (log: $log)"; }
    rm -rf "$cache/build"
    touch "$marker"
  ) 9>"$cache/.install.lock"
}

write_secrets() {
  [ -s "$data/secrets.env" ] && return 0
  (
    umask 077
    for user in "${users[@]}"; do
      echo "CQP_S3_ACCESS_KEY_${user^^}=cqp-$user"
      echo "CQP_S3_SECRET_KEY_${user^^}=$(secret)"
    done >"$data/secrets.env"
  )
}

# True if the pid file names a live serve.sh of this folder (guards against a recycled pid).
running_pid() {
  local pid
  pid="$(cat "$1/s3.pid" 2>/dev/null)" || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -qa 'serve.sh' "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

start() {
  [ $# -eq 2 ] || die "usage: s3.sh start PORT DATA_DIR"
  port="$1"
  mkdir -p "$2"
  data="$(cd "$2" && pwd)"
  running_pid "$data" >/dev/null && return 0
  install
  write_secrets
  [ -f "$data/s3.log" ] && mv -f "$data/s3.log" "$data/s3.log.1"
  rm -f "$data/ready"
  # setsid: own session, so Ctrl-C of the caller does not kill the server; the secrets reach serve.sh
  # through its environment only.
  (
    set -a; . "$data/secrets.env"; set +a
    exec setsid "$here/serve.sh" "$bin" "127.0.0.1:$port" "127.0.0.1:$((port + 1))" "$data" </dev/null >"$data/s3.log" 2>&1
  ) &
  echo $! >"$data/s3.pid"
  echo "s3.sh: waiting for the S3 server on 127.0.0.1:$port to serve its buckets (log: $data/s3.log)" >&2
  local deadline=$((SECONDS + 60))
  until [ -f "$data/ready" ]; do
    if ! kill -0 "$(cat "$data/s3.pid")" 2>/dev/null; then
      rm -f "$data/s3.pid"
      tail -n 30 "$data/s3.log" >&2 || true
      die "the S3 server exited during startup (log: $data/s3.log)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 30 "$data/s3.log" >&2 || true
      stop "$data"
      die "the S3 server did not serve its buckets on 127.0.0.1:$port within 60 s"
    fi
    sleep 0.2
  done
}

stop() {
  [ $# -eq 1 ] || die "usage: s3.sh stop DATA_DIR"
  local pid
  if pid="$(running_pid "$1")"; then
    kill -TERM "$pid" 2>/dev/null || true  # serve.sh stops the server and waits for it
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$pid" 2>/dev/null || true  # its process group, the server with it
  fi
  rm -f "$1/s3.pid" "$1/ready"
}

cmd="${1:-}"; shift || true
case "$cmd" in
  install) install ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  *) die "usage: s3.sh install | start PORT DATA_DIR | stop DATA_DIR" ;;
esac
