"""An event that a consumer cannot store (a NUL in a name: PostgreSQL refuses it) is dead-lettered
with its reason: its partition goes on, and the next mutations are served."""

import json
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from shared.topics import PARTITIONS
from tests.harness import eventually


async def test_an_event_the_gateway_cannot_store_is_dead_lettered_and_the_stream_goes_on(system):
    await system.start()
    candidate_id = uuid.uuid4()
    poison = {
        "event_id": str(uuid.uuid4()), "type": "CandidateRegistered", "version": 1, "producer": "candidacy",
        "position": 1, "aggregate_id": str(candidate_id), "aggregate_version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "actor": {"user_id": "u", "organisation_id": "o", "role": "branch-admin"},
        "correlation_id": "c", "causation_id": "k",
        "payload": {"candidate_id": str(candidate_id), "given_name": "Zo\u0000é", "family_name": "L",
                    "status": "EMPLOYEE", "employer_id": None},
    }
    producer = AIOKafkaProducer(bootstrap_servers=system.kafka)
    await producer.start()
    try:
        # One on every partition: whichever the next candidate lands on is behind a poison event.
        for partition in range(PARTITIONS):
            event = {**poison, "event_id": str(uuid.uuid4())}
            await producer.send_and_wait(system.topic("cqp.candidacy.events"), json.dumps(event).encode(),
                                         key=str(candidate_id).encode(), partition=partition)
    finally:
        await producer.stop()

    async def dead_lettered():
        letters = await system.sql("SELECT reason FROM gateway.dead_letters")
        return letters if len(letters) == PARTITIONS else None

    letters = await eventually(dead_lettered)
    assert all(r["reason"].startswith("CandidateRegistered: ") and "Character" in r["reason"] for r in letters)
    registered = await system.graphql(
        'mutation { registerCandidate(input: {givenName: "Zoé", familyName: "L", email: "z@example.org",'
        ' status: EMPLOYEE}, idempotencyKey: "after-poison") { __typename } }')
    assert registered["registerCandidate"]["__typename"] == "CandidateRegistered"
