"""The guarantees of the pipeline, each by the failure it must survive: a consumer killed before its
offsets may be committed, two publishers of one store, one command sent twice at the same moment."""

import asyncio
import signal
import uuid

from tests.harness import Process, eventually, free_port, read_topic

BRANCH = {"code": "UIMM", "name": "UIMM", "idcc": ["3109"]}


def certification(code: str) -> dict:
    return {"code": code, "kind": "CQPM", "title": f"CQPM {code}", "owners": ["UIMM"]}


async def test_a_consumer_killed_before_committing_its_transaction_gets_the_event_again_even_after_offsets_could_autocommit(system):
    # The kill comes 6 s after the events were fetched: longer than a Kafka client's automatic commit
    # interval (5 s). Offsets committed on receipt, or automatically, would lose the event here.
    await system.start("catalog", "candidacy", "jury")
    await system.start("gateway", CQP_CRASH_AT="consumer_before_commit", CQP_CRASH_DELAY="6")
    answer = await system.command("catalog", "create-branch", BRANCH, "b")
    assert answer.status_code == 200
    (event_id,) = answer.json()["events"]

    assert await system["gateway"].wait_exit(timeout=60) == -signal.SIGKILL
    assert await system.sql("SELECT * FROM gateway.branches") == []  # its transaction died with it

    await system.start("gateway")
    rows = await eventually(lambda: system.sql("SELECT code FROM gateway.branches"))
    assert [r["code"] for r in rows] == ["UIMM"]
    audited = await system.sql("SELECT count(*) AS n FROM gateway.audit_log WHERE event_id = $1::uuid", event_id)
    assert audited[0]["n"] == 1


async def test_two_replicas_of_a_service_publish_each_stored_event_exactly_once(system):
    await system.start()
    twin = Process("catalog", dict(system["catalog"].env), free_port())
    system.processes["catalog-twin"] = twin
    twin.start()
    await twin.wait_healthy()
    replicas = ["catalog", "catalog-twin"]
    await system.command("catalog", "create-branch", BRANCH, "b")
    for n in range(12):
        answer = await system.command(replicas[n % 2], "create-certification", certification(f"RNCP9400{n:02}"), f"c{n}")
        assert answer.status_code == 200

    async def relayed():
        stored = await system.sql("SELECT max(notification_id) AS n FROM catalog.catalog_events")
        position = await system.sql("SELECT position AS n FROM catalog.relay_position")
        return position and position[0]["n"] == stored[0]["n"]

    await eventually(relayed)
    await asyncio.sleep(1)  # a second publisher, if there were one, would be publishing by now
    ids = [e["event_id"] for e in await read_topic(system, "cqp.catalog.events")]
    assert len(ids) == 13
    assert len(set(ids)) == 13


async def test_one_command_sent_many_times_at_once_with_one_key_has_one_effect_and_one_answer(system):
    await system.start("candidacy")
    token = await system.token()
    candidate = {"given_name": "Ana", "family_name": "Lopes", "email": "ana@example.org", "status": "JOB_SEEKER"}
    for attempt in range(3):
        key = f"same-{uuid.uuid4()}"
        answers = await asyncio.gather(*(system.command("candidacy", "register-candidate", candidate, key, token=token)
                                         for _ in range(12)))
        assert [a.status_code for a in answers] == [200] * 12, [a.text for a in answers if a.status_code != 200]
        assert len({a.json()["id"] for a in answers}) == 1
    registered = await system.sql("SELECT count(*) AS n FROM candidacy.candidacy_events WHERE topic LIKE '%Candidate.Registered'")
    assert registered[0]["n"] == 3
