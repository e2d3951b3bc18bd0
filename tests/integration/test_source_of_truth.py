"""The event stores are the source of truth: a lost topic is reported and restored from them, and
`cqp verify` finds any difference between them and the topics or the read models."""

import json

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from shared.topics import ensure_topics
from tests.harness import eventually, kafka_options, read_topic

BRANCH = {"code": "UIMM", "name": "UIMM", "idcc": ["3109"]}


def certification(code: str) -> dict:
    return {"code": code, "kind": "CQPM", "title": f"CQPM {code}", "owners": ["UIMM"]}


async def certifications_in_gateway(system) -> int:
    return (await system.sql("SELECT count(*) AS n FROM gateway.certifications"))[0]["n"]


async def create_certifications(system, codes) -> None:
    for code in codes:
        assert (await system.command("catalog", "create-certification", certification(code), code)).status_code == 200


async def catalog_readiness(system) -> dict:
    async with httpx.AsyncClient(timeout=10) as http:
        return (await http.get(f"{system['catalog'].url}/health/ready")).json()


async def test_verify_finds_no_drift_in_a_system_that_ran_normally(system):
    await system.start()
    await system.command("catalog", "create-branch", BRANCH, "b")
    await create_certifications(system, [f"RNCP9100{n}" for n in range(5)])
    candidate = {"given_name": "Ana", "family_name": "Lopes", "email": "ana@example.org", "status": "JOB_SEEKER"}
    assert (await system.command("candidacy", "register-candidate", candidate, "cand")).status_code == 200

    verified = await system.acli("verify")

    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "no drift" in verified.stdout
    assert "gateway:" in verified.stdout and "jury:" in verified.stdout and "candidacy:" in verified.stdout


async def test_a_deleted_topic_stops_the_relay_loudly_until_republish_restores_it_and_verify_is_clean(system):
    await system.start()
    await system.command("catalog", "create-branch", BRANCH, "b")
    await create_certifications(system, [f"RNCP9200{n}" for n in range(10)])
    await eventually(lambda: _equal(certifications_in_gateway(system), 10))

    admin = AIOKafkaAdminClient(**kafka_options())
    await admin.start()
    try:
        await admin.delete_topics([system.topic("cqp.catalog.events")])
    finally:
        await admin.close()
    await ensure_topics(kafka_options(), system.prefix)  # recreated empty, as an operator's script would
    await create_certifications(system, [f"RNCP9201{n}" for n in range(10)])

    ready = await eventually(lambda: _unready(system), timeout=60)
    assert "cqp republish catalog" in ready["failures"]["relay_publishing"]
    verified = await system.acli("verify", "--wait", "1")
    assert verified.returncode == 1 and "stored but not on the topic" in verified.stdout

    republished = await system.acli("republish", "catalog")
    assert republished.returncode == 0, republished.stderr
    assert republished.stdout.startswith("11 events published again")  # the branch and the first 10

    await eventually(lambda: _equal(certifications_in_gateway(system), 20), timeout=60)
    await eventually(lambda: _ready(system))  # the relay tries again every 2 s
    ids = [e["event_id"] for e in await read_topic(system, "cqp.catalog.events")]
    assert len(ids) == len(set(ids)) == 21
    verified = await system.acli("verify")
    assert verified.returncode == 0, verified.stdout
    again = await system.acli("republish", "catalog")
    assert again.stdout.startswith("0 events published again")


async def test_verify_reports_a_forged_event_and_a_tampered_read_model(system):
    await system.start()
    await system.command("catalog", "create-branch", BRANCH, "b")
    await create_certifications(system, ["RNCP93001"])
    await eventually(lambda: _equal(certifications_in_gateway(system), 1))
    [genuine] = [e for e in await read_topic(system, "cqp.catalog.events") if e["type"] == "CertificationCreated"]
    forged = {**genuine, "event_id": "0d6c5f0e-8a0b-4d4c-9b7e-4f7f5d1f0a11", "aggregate_id": "5b1e2f8a-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
              "payload": {**genuine["payload"], "code": "RNCP93999", "title": "Forged"}}
    forged.pop("_key")
    producer = AIOKafkaProducer(**kafka_options())
    await producer.start()
    try:
        await producer.send_and_wait(system.topic("cqp.catalog.events"), json.dumps(forged).encode(),
                                     key=forged["aggregate_id"].encode())
    finally:
        await producer.stop()
    await eventually(lambda: _equal(certifications_in_gateway(system), 2))
    await system.sql("UPDATE gateway.certifications SET title = 'Tampered' WHERE code = 'RNCP93001'")

    verified = await system.acli("verify")

    assert verified.returncode == 1
    assert "in no store (forged or foreign): 0d6c5f0e-8a0b-4d4c-9b7e-4f7f5d1f0a11" in verified.stdout
    assert "gateway.certifications: 1 row(s) not in the replay" in verified.stdout and "Tampered" in verified.stdout


async def _equal(value, expected):
    return (await value) == expected


async def _unready(system):
    ready = await catalog_readiness(system)
    return ready if ready["status"] == "unready" and "relay_publishing" in ready.get("failures", {}) else None


async def _ready(system):
    return (await catalog_readiness(system))["status"] == "ready"
