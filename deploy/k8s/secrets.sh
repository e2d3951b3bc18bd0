#!/usr/bin/env bash
# Writes the secrets of the Kubernetes deployment: one env file per Secret that deploy/kustomization.yaml's
# secretGenerator makes, in deploy/k8s/secrets/ (or the folder given), mode 0600, never committed (.gitignore).
#   deploy/k8s/secrets.sh && kubectl apply -k deploy
# The values come from deploy/secrets.sh (the same set as docker-compose.yml's .env, the cipher keys of the
# services keeping personal data among them). A file that exists is kept: the broker's SCRAM users are
# written once, when its storage is formatted, and a cipher key must never change once data is sealed with it.
# Each process's Secret holds only its own credentials; the broker and the `database` job read the
# processes' passwords from the processes' Secrets (deploy/k8s/kafka.yaml, deploy/k8s/jobs.yaml).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/secrets}"
umask 077
mkdir -p "$out"

declare -A new
# Split at the first '=' only: `read` with IFS='=' would drop a base64 value's trailing '='.
while read -r line; do new[${line%%=*}]=${line#*=}; done < <("$here/../secrets.sh")

write() {  # write FILE KEY=NAME...: the Secret's keys, each from the value named
  local file="$out/$1.env"; shift
  if [ -e "$file" ]; then
    # Kept as it is; a key added since (a new secret) is appended, the values there never change.
    for pair in "$@"; do grep -q "^${pair%%=*}=" "$file" || printf '%s=%s\n' "${pair%%=*}" "${new[${pair#*=}]:?}" >>"$file"; done
    echo "kept $file" >&2; return
  fi
  for pair in "$@"; do printf '%s=%s\n' "${pair%%=*}" "${new[${pair#*=}]:?}"; done >"$file"
  echo "wrote $file" >&2
}

write keycloak KC_BOOTSTRAP_ADMIN_PASSWORD=KC_ADMIN_PASSWORD CQP_DEMO_PASSWORD=CQP_DEMO_PASSWORD \
  CQP_KC_SECRET_CATALOG=CQP_KC_SECRET_CATALOG CQP_KC_SECRET_CANDIDACY=CQP_KC_SECRET_CANDIDACY \
  CQP_KC_SECRET_JURY=CQP_KC_SECRET_JURY CQP_KC_SECRET_GATEWAY=CQP_KC_SECRET_GATEWAY \
  CQP_KC_SECRET_IMPORTER=CQP_KC_SECRET_IMPORTER
write kafka admin-password=CQP_KAFKA_PASSWORD_ADMIN broker-password=CQP_KAFKA_PASSWORD_BROKER
write postgres admin-password=CQP_POSTGRES_PASSWORD_ADMIN
write s3 admin-secret-key=CQP_S3_SECRET_KEY_ADMIN
for process in catalog candidacy jury gateway; do
  keys=(kafka-password="CQP_KAFKA_PASSWORD_${process^^}" postgres-password="CQP_POSTGRES_PASSWORD_${process^^}"
    s3-secret-key="CQP_S3_SECRET_KEY_${process^^}")
  # The services keeping people's data (candidates; jury members) each under a master key of their own.
  case "$process" in candidacy|jury) keys+=(cipher-key="CQP_CIPHER_KEY_${process^^}") ;; esac
  # The services that send mail hold their SMTP login's password; the SMTP server reads them from there, as the
  # broker reads the processes' passwords.
  case "$process" in candidacy|jury) keys+=(smtp-password="CQP_SMTP_PASSWORD_${process^^}") ;; esac
  # Each service's key of the digest of idempotency keys.
  [ "$process" = gateway ] || keys+=(command-key="CQP_COMMAND_KEY_${process^^}")
  # Signs the lists' cursors: every gateway replica must read the others'.
  [ "$process" = gateway ] && keys+=(cursor-key=CQP_CURSOR_KEY)
  write "$process" "${keys[@]}"
done
