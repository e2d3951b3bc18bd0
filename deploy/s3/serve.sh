#!/usr/bin/env bash
# Runs the S3 server (versitygw, POSIX backend) in the foreground, the same way for deploy/s3/s3.sh, the
# s3 container of docker-compose.yml and the Kubernetes StatefulSet:
#   serve.sh VERSITYGW LISTEN ADMIN_LISTEN DATA_DIR     # LISTEN like 127.0.0.1:9000
# Credentials come from the environment (never the command line, which others can read in /proc):
# CQP_S3_SECRET_KEY_ADMIN (the root's, access key cqp-admin) and CQP_S3_SECRET_KEY_<PROCESS> for catalog,
# candidacy, jury and gateway (access key cqp-<process>). Each process is a plain user of the internal IAM
# (DATA_DIR/iam/users.json, written on every start, mode 0600) and owns one private bucket, cqp-<process>:
# it can neither read another's nor create buckets; anonymous requests are refused. When the buckets exist,
# DATA_DIR/ready is written (what s3.sh and the probes wait for). The admin API listens on ADMIN_LISTEN
# (loopback only): this script alone uses it.
set -euo pipefail
umask 077
[ $# -eq 4 ] || { echo "usage: serve.sh VERSITYGW LISTEN ADMIN_LISTEN DATA_DIR" >&2; exit 2; }
bin="$1" listen="$2" admin="$3" data="$4"
processes=(catalog candidacy jury gateway)
secret() { local name="CQP_S3_SECRET_KEY_${1^^}"; printf %s "${!name:?$name is not set}"; }

mkdir -p "$data/iam" "$data/buckets"
rm -f "$data/ready"
{
  printf '{"accessAccounts": {'
  sep=""
  for process in "${processes[@]}"; do
    printf '%s"cqp-%s": {"access": "cqp-%s", "secret": "%s", "role": "user", "userID": 0, "groupID": 0, "projectID": 0}' \
      "$sep" "$process" "$process" "$(secret "$process")"
    sep=", "
  done
  printf '}}\n'
} >"$data/iam/users.json"

export ROOT_ACCESS_KEY_ID=cqp-admin ROOT_SECRET_ACCESS_KEY="$(secret admin)"
"$bin" --port "$listen" --admin-port "$admin" --region us-east-1 --iam-dir "$data/iam" --quiet \
  posix "$data/buckets" &
server=$!
trap 'kill -TERM "$server" 2>/dev/null; wait "$server"; exit 0' TERM INT

export ADMIN_ACCESS_KEY_ID=cqp-admin ADMIN_SECRET_ACCESS_KEY="$ROOT_SECRET_ACCESS_KEY"
admin_cli=("$bin" admin --endpoint-url "http://$admin")
until buckets="$("${admin_cli[@]}" list-buckets 2>/dev/null)"; do
  kill -0 "$server" 2>/dev/null || { wait "$server"; exit 1; }
  sleep 0.2
done
for process in "${processes[@]}"; do
  grep -qw "^cqp-$process" <<<"$buckets" || "${admin_cli[@]}" create-bucket --bucket "cqp-$process" --owner "cqp-$process" >/dev/null
done
echo "serve.sh: S3 on $listen, buckets ${processes[*]/#/cqp-}" >"$data/ready"
cat "$data/ready"
wait "$server"
