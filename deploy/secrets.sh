#!/usr/bin/env bash
# Prints new secrets for docker-compose.yml, one NAME=value a line, to keep private beside it:
#   (umask 077; deploy/secrets.sh > .env)      # never committed (.gitignore)
set -euo pipefail
secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=' ; }
echo "KC_ADMIN_PASSWORD=$(secret)"
echo "CQP_DEMO_PASSWORD=$(secret)"
for name in CATALOG CANDIDACY JURY GATEWAY IMPORTER; do echo "CQP_KC_SECRET_$name=$(secret)"; done
for name in ADMIN BROKER CATALOG CANDIDACY JURY GATEWAY; do echo "CQP_KAFKA_PASSWORD_$name=$(secret)"; done
for name in ADMIN CATALOG CANDIDACY JURY GATEWAY; do echo "CQP_POSTGRES_PASSWORD_$name=$(secret)"; done
for name in ADMIN CATALOG CANDIDACY JURY GATEWAY; do echo "CQP_S3_SECRET_KEY_$name=$(secret)"; done
for name in CANDIDACY JURY; do echo "CQP_SMTP_PASSWORD_$name=$(secret)"; done  # the mail senders' SMTP logins
echo "CQP_CURSOR_KEY=$(secret)"  # signs the lists' cursors (every gateway shares it)
# The master keys of the services keeping personal data, each its own (AES-256, as `cqp cipher-key`).
# Each service's key of the digest of idempotency keys (shared/http.py): never changed once commands are recorded.
for name in CATALOG CANDIDACY JURY; do echo "CQP_COMMAND_KEY_$name=$(secret)"; done
for name in CANDIDACY JURY; do echo "CQP_CIPHER_KEY_$name=$(head -c 32 /dev/urandom | base64 | tr -d '\n')"; done
