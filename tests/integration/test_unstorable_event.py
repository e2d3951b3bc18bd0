"""An event that a consumer cannot store (a NUL in a text: PostgreSQL refuses it) is dead-lettered
with its reason: its partition goes on, and the next mutations are served."""

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import httpx
from aiokafka import AIOKafkaProducer

from shared.topics import PARTITIONS
from tests.harness import ROOT, eventually, kafka_options


async def test_an_event_the_gateway_cannot_store_is_dead_lettered_and_the_stream_goes_on(system):
    await system.start()
    candidate_id = uuid.uuid4()
    poison = {
        "event_id": str(uuid.uuid4()), "type": "CandidateRegistered", "version": 2, "producer": "candidacy",
        "position": 1, "aggregate_id": str(candidate_id), "aggregate_version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "actor": {"user_id": "u", "organisation_id": "o", "role": "branch-admin"},
        "correlation_id": "c", "causation_id": "k",
        "payload": {"candidate_id": f"{candidate_id}\u0000", "personal": "pd1.c2VhbGVk", "status": "EMPLOYEE",
                    "employer_id": None},
    }
    # One on every partition: whichever the next candidate lands on is behind a poison event.
    letters = await poison_every_partition(system, "cqp.candidacy.events", poison)
    assert all(r["reason"].startswith("CandidateRegistered: ") and "Character" in r["reason"] for r in letters)
    registered = await system.graphql(
        'mutation { registerCandidate(input: {givenName: "Zoé", familyName: "L", email: "z@example.org",'
        ' status: EMPLOYEE}, idempotencyKey: "after-poison") { __typename } }')
    assert registered["registerCandidate"]["__typename"] == "CandidateRegistered"
    async with httpx.AsyncClient() as http:  # visible to operators: in health and in the metrics
        assert (await http.get(f"{system['gateway'].url}/health/ready")).json()["dead_letters"] == PARTITIONS
        assert "cqp_dead_letters_total" in (await http.get(f"{system['gateway'].url}/metrics")).text


async def test_operators_list_retry_and_discard_dead_letters(system):
    await test_an_event_the_gateway_cannot_store_is_dead_lettered_and_the_stream_goes_on(system)
    env = system.operator_env()

    def cqp(*args) -> str:
        done = subprocess.run([sys.executable, "-m", "tools.cli", "dead-letters", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    listed = cqp("list").splitlines()  # the gateway and the jury (which reads candidacies) set them aside
    assert sorted(line.split()[0] for line in listed) == ["gateway"] * PARTITIONS + ["jury"] * PARTITIONS
    assert all("Character" in line for line in listed)
    assert cqp("retry", "--schema", "gateway", "--all").strip() == f"{PARTITIONS} dead letters published again"

    async def set_aside_again():  # the cause is not fixed: the gateway sets them aside once more
        rows = await system.sql('SELECT "offset" FROM gateway.dead_letters')
        return rows if len(rows) == PARTITIONS else None

    await eventually(set_aside_again)
    assert cqp("discard", "--schema", "gateway", "--all").strip() == f"{PARTITIONS} dead letters discarded"
    assert not [line for line in cqp("list").splitlines() if line.startswith("gateway ")]
    cqp("discard", "--schema", "jury", "--all")
    assert cqp("list").strip() == "no dead letters"


async def test_a_valid_event_naming_an_organisation_that_is_not_a_uuid_is_dead_lettered_and_the_next_mutations_succeed(system):
    await system.start()
    poison = {
        "type": "OrganisationRegistered", "version": 1, "producer": "catalog", "position": 1,
        "aggregate_id": str(uuid.uuid4()), "aggregate_version": 1, "occurred_at": datetime.now(UTC).isoformat(),
        "actor": {"user_id": "u", "organisation_id": "o", "role": "platform-admin"},
        "correlation_id": "c", "causation_id": "k",
        "payload": {"organisation_id": "not-a-uuid", "name": "Centre", "siret": None, "kinds": ["EVALUATION_CENTRE"]},
    }
    letters = await poison_every_partition(system, "cqp.catalog.events", poison)
    assert all(r["reason"].startswith("OrganisationRegistered: ") and "not-a-uuid" in r["reason"] for r in letters)
    for n in range(3):  # wherever they land, the mutations are served: they wait for the gateway to show them
        created = await system.graphql(
            f'mutation {{ createBranch(input: {{code: "B{n}", name: "Branch {n}", idcc: ["3109"]}},'
            f' idempotencyKey: "after-{n}") {{ __typename }} }}')
        assert created["createBranch"]["__typename"] == "BranchCreated", created


async def poison_every_partition(system, topic: str, poison: dict) -> list:
    """The poison event (a new id each time) on every partition of the topic; the gateway's dead letters."""
    producer = AIOKafkaProducer(**kafka_options())
    await producer.start()
    try:
        for partition in range(PARTITIONS):
            await producer.send_and_wait(system.topic(topic), json.dumps({**poison, "event_id": str(uuid.uuid4())}).encode(),
                                         key=poison["aggregate_id"].encode(), partition=partition)
    finally:
        await producer.stop()

    async def dead_lettered():
        letters = await system.sql("SELECT reason FROM gateway.dead_letters")
        return letters if len(letters) == PARTITIONS else None

    return await eventually(dead_lettered)
