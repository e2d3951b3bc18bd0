"""docker-compose.yml runs the same topology as scripts/dev, with settings the code reads."""

import importlib
import os
import shutil
import subprocess

import pytest
import yaml

from shared.settings import Settings
from tools.cli import PROCESSES, ROOT

COMPOSE = ROOT / "docker-compose.yml"


def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_every_process_runs_in_its_own_container():
    commands = {tuple(s.get("command", ())) for s in services().values()}
    for process in PROCESSES:
        assert ("serve", process) in commands


def test_the_infrastructure_is_real_kafka_and_postgres():
    assert services()["kafka"]["image"].startswith("apache/kafka:4.")
    assert services()["postgres"]["image"].startswith("postgres:")


def test_the_identity_provider_is_keycloak_with_the_checked_in_realm():
    keycloak = services()["keycloak"]
    assert keycloak["image"].startswith("quay.io/keycloak/keycloak:26.")
    assert any(v.startswith("./deploy/keycloak/cqp-realm.json:") for v in keycloak["volumes"])
    gateway = services()["gateway"]
    assert gateway["environment"]["CQP_OIDC_ISSUER"] == "http://keycloak:8080/realms/cqp"


def test_every_setting_given_to_the_processes_is_one_the_code_reads():
    known = {f"CQP_{name.upper()}" for name in Settings.model_fields}
    for name, service in services().items():
        if name in ("keycloak", "kafka", "s3"):
            continue  # their CQP_ variables fill the realm's placeholders, the broker's SCRAM users, the S3 users
        for variable in service.get("environment", {}):
            if name == "database" and variable.startswith("CQP_POSTGRES_PASSWORD_"):
                continue  # `cqp database` sets the roles' passwords from them
            if variable.startswith("CQP_"):
                assert variable in known, f"{name}: {variable} is not a setting"


def test_every_process_logs_in_to_kafka_and_postgres_as_itself_with_a_required_secret():
    for process in PROCESSES:
        environment = services()[process]["environment"]
        assert environment["CQP_KAFKA_USERNAME"] == process
        assert environment["CQP_KAFKA_PASSWORD"] == f"${{CQP_KAFKA_PASSWORD_{process.upper()}:?}}"
        assert environment["CQP_POSTGRES_DSN"].startswith(
            f"postgresql://cqp_{process}:${{CQP_POSTGRES_PASSWORD_{process.upper()}:?}}@postgres:")


def test_kafka_authenticates_with_scram_and_denies_what_no_acl_allows():
    kafka = services()["kafka"]
    assert any(v.startswith("./deploy/kafka/compose.sh:") for v in kafka["volumes"])
    script = (ROOT / "deploy" / "kafka" / "compose.sh").read_text()
    for line in ("listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
                 "listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-512",
                 "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                 "allow.everyone.if.no.acl.found=false", "super.users=User:admin;User:broker"):
        assert line in script.splitlines()
    assert "PLAINTEXT://" not in script.replace("SASL_PLAINTEXT://", "")
    assert all(value.endswith(":?}") for value in kafka["environment"].values())
    topics = services()["topics"]  # it makes the ACLs with the topics, as the admin
    assert topics["command"] == ["topics"] and topics["environment"]["CQP_KAFKA_USERNAME"] == "admin"


def test_postgres_asks_every_role_for_a_password_and_the_roles_come_from_cqp_database():
    postgres = services()["postgres"]["environment"]
    assert postgres["POSTGRES_HOST_AUTH_METHOD"] == "scram-sha-256"
    assert "--auth-local=scram-sha-256" in postgres["POSTGRES_INITDB_ARGS"]
    assert postgres["POSTGRES_PASSWORD"] == "${CQP_POSTGRES_PASSWORD_ADMIN:?}"
    database = services()["database"]
    assert database["command"] == ["database"]
    assert set(database["environment"]) >= {f"CQP_POSTGRES_PASSWORD_{p.upper()}" for p in PROCESSES}
    for process in PROCESSES:
        assert "database" in services()[process]["depends_on"]


def test_only_the_services_keeping_personal_data_get_a_cipher_key_each_its_own():
    for process in PROCESSES:
        definition = getattr(importlib.import_module(f"services.{process}.__main__"), "DEFINITION", None)
        environment = services()[process]["environment"]
        if getattr(definition, "encrypted", False) or getattr(definition, "personal_data", False):
            assert environment.get("CQP_CIPHER_KEY") == f"${{CQP_CIPHER_KEY_{process.upper()}:?}}", process
        else:
            assert "CQP_CIPHER_KEY" not in environment, f"{process} holds a cipher key it never needs"
    made = (ROOT / "deploy" / "secrets.sh").read_text()
    assert "CQP_CIPHER_KEY_$name" in made and "for name in CANDIDACY JURY" in made


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose is not installed")
def test_docker_compose_accepts_the_file():
    # With the secrets it requires, as deploy/secrets.sh makes them for the .env beside it.
    made = subprocess.run(["bash", str(ROOT / "deploy" / "secrets.sh")], check=True, capture_output=True, text=True)
    secrets = dict(line.split("=", 1) for line in made.stdout.splitlines())
    subprocess.run(["docker-compose", "-f", str(COMPOSE), "config", "-q"], check=True, env=os.environ | secrets)


def test_each_service_gets_its_own_key_of_the_idempotency_digests_and_the_gateway_none():
    for process in PROCESSES:
        environment = services()[process]["environment"]
        if process == "gateway":
            assert "CQP_COMMAND_KEY" not in environment
        else:
            assert environment.get("CQP_COMMAND_KEY") == f"${{CQP_COMMAND_KEY_{process.upper()}:?}}", process
    assert "CQP_COMMAND_KEY_$name" in (ROOT / "deploy" / "secrets.sh").read_text()


def test_every_process_reaches_the_object_store_with_its_own_key_and_bucket():
    s3 = services()["s3"]
    assert s3["build"]["dockerfile"] == "deploy/s3/Dockerfile"
    for process in PROCESSES:
        environment = services()[process]["environment"]
        assert environment["CQP_S3_ENDPOINT"] == "http://s3:9000"
        assert environment["CQP_S3_ACCESS_KEY"] == f"cqp-{process}"
        assert environment["CQP_S3_SECRET_KEY"] == f"${{CQP_S3_SECRET_KEY_{process.upper()}:?}}"
        assert environment["CQP_S3_BUCKET"] == f"cqp-{process}"
        assert s3["environment"][f"CQP_S3_SECRET_KEY_{process.upper()}"] == environment["CQP_S3_SECRET_KEY"]
        assert "s3" in services()[process]["depends_on"]


def test_the_smtp_server_is_mailpit_pinned_login_required_keeping_one_message_per_message_id():
    smtp = services()["smtp"]
    assert smtp["image"] == "axllent/mailpit:v1.33.1"
    assert "version=v1.33.1" in (ROOT / "deploy" / "smtp" / "smtp.sh").read_text()  # the same as scripts/dev's
    # Each process that sends mail logs in as itself, with its own password.
    assert smtp["environment"]["MP_SMTP_AUTH"] == "candidacy:${CQP_SMTP_PASSWORD_CANDIDACY:?} jury:${CQP_SMTP_PASSWORD_JURY:?}"
    for process in ("candidacy", "jury"):
        environment = services()[process]["environment"]
        assert (environment["CQP_SMTP_USER"], environment["CQP_SMTP_PASSWORD"]) == (
            process, f"${{CQP_SMTP_PASSWORD_{process.upper()}:?}}")
    assert all("CQP_SMTP_PASSWORD" not in (services()[p].get("environment") or {}) for p in ("catalog", "gateway"))
    assert smtp["environment"]["MP_IGNORE_DUPLICATE_IDS"] == "true"
    assert "--ignore-duplicate-ids" in (ROOT / "deploy" / "smtp" / "smtp.sh").read_text()
    assert smtp["ports"] == ["127.0.0.1:8025:8025"]  # the web page, on the host's loopback only
    assert "CQP_SMTP_PASSWORD_$name=" in (ROOT / "deploy" / "secrets.sh").read_text()
