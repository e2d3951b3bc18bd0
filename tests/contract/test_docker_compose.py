"""docker-compose.yml runs the same topology as scripts/dev, with settings the code reads."""

import shutil
import subprocess

import pytest
import yaml

from shared.cli import PROCESSES, ROOT
from shared.settings import Settings

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
        if name == "keycloak":
            continue  # its CQP_ variables fill the realm's placeholders
        for variable in service.get("environment", {}):
            if variable.startswith("CQP_"):
                assert variable in known, f"{name}: {variable} is not a setting"


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose is not installed")
def test_docker_compose_accepts_the_file():
    subprocess.run(["docker-compose", "-f", str(COMPOSE), "config", "-q"], check=True)
