"""Crashes (real SIGKILL) between the steps of the pipeline lose nothing and duplicate nothing."""

import signal

from aiokafka.admin import AIOKafkaAdminClient

from tests.harness import eventually, kafka_options, read_topic

BRANCH = {"code": "UIMM", "name": "UIMM", "idcc": ["3109"]}


def certification(code: str) -> dict:
    """A command that writes exactly one event."""
    return {"code": code, "kind": "CQPM", "title": f"CQPM {code}", "owners": ["UIMM"]}


async def published_event_ids(system, topic: str) -> list[str]:
    return [envelope["event_id"] for envelope in await read_topic(system, topic)]


async def audit_rows(system, event_id: str) -> int:
    rows = await system.sql("SELECT count(*) AS n FROM gateway.audit_log WHERE event_id = $1::uuid", event_id)
    return rows[0]["n"]


async def test_a_relay_killed_after_publishing_does_not_publish_again_and_the_read_model_holds_the_event_once(system):
    await system.start("gateway", "candidacy", "jury")
    await system.start("catalog", CQP_CRASH_AT="relay_after_publish")
    answer = await system.command("catalog", "create-branch", BRANCH, "k1")
    assert answer.status_code == 200
    (event_id,) = answer.json()["events"]

    assert await system["catalog"].wait_exit() == -signal.SIGKILL
    assert await system.sql("SELECT * FROM catalog.relay_position") == []  # position never recorded

    await system.start("catalog")  # no crash point this time
    await eventually(lambda: _relayed(system))
    assert await published_event_ids(system, "cqp.catalog.events") == [event_id]  # the partition held it already
    await eventually(lambda: caught_up(system, "cqp.gateway"))
    assert await audit_rows(system, event_id) == 1
    rows = await system.sql("SELECT code FROM gateway.branches")
    assert [r["code"] for r in rows] == ["UIMM"]


async def _relayed(system):
    return await system.sql("SELECT position FROM catalog.relay_position WHERE position > 0")


async def committed_offsets(system, group: str, topic: str = "cqp.catalog.events") -> int:
    """How many messages of the topic the group has committed (all partitions)."""
    admin = AIOKafkaAdminClient(**kafka_options())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(system.topic(group))
        return sum(meta.offset for tp, meta in offsets.items() if tp.topic == system.topic(topic))
    finally:
        await admin.close()


async def caught_up(system, group: str, topic: str = "cqp.catalog.events") -> bool:
    """The group has processed every message of the topic: nothing is stuck or skipped."""
    total = len(await published_event_ids(system, topic))
    return await committed_offsets(system, group, topic) == total


async def test_a_consumer_killed_after_its_transaction_gets_the_event_again_and_applies_nothing_twice(system):
    await system.start("catalog", "candidacy", "jury")
    await system.start("gateway", CQP_CRASH_AT="consumer_after_commit")
    answer = await system.command("catalog", "create-branch", BRANCH, "k1")
    (event_id,) = answer.json()["events"]

    assert await system["gateway"].wait_exit() == -signal.SIGKILL
    assert await audit_rows(system, event_id) == 1  # the transaction committed
    assert await committed_offsets(system, "cqp.gateway") == 0  # the offset did not

    await system.start("gateway")
    await eventually(lambda: committed_offsets(system, "cqp.gateway"))  # redelivered, then committed
    assert await committed_offsets(system, "cqp.gateway") == 1
    assert await audit_rows(system, event_id) == 1
    rows = await system.sql("SELECT count(*) AS n FROM gateway.branches")
    assert rows[0]["n"] == 1


async def test_services_killed_mid_stream_resume_from_their_position_with_nothing_lost(system):
    await system.start()
    codes = [f"RNCP9{n:04d}" for n in range(40)]
    accepted = {"UIMM": (await system.command("catalog", "create-branch", BRANCH, "k-branch")).json()["events"][0]}
    for index, code in enumerate(codes):
        if index == 15:
            system["catalog"].kill()  # mid-stream: some events relayed, some perhaps not
            await system.start("catalog")
        if index == 25:
            system["gateway"].kill()
            await system.start("gateway")
        answer = await system.command("catalog", "create-certification", certification(code), f"key-{code}")
        assert answer.status_code == 200, answer.text
        accepted[code] = answer.json()["events"][0]

    async def all_projected():
        rows = await system.sql("SELECT count(*) AS n FROM gateway.certifications")
        return rows[0]["n"] == len(codes)

    await eventually(all_projected)
    await eventually(lambda: caught_up(system, "cqp.gateway"))
    await eventually(lambda: caught_up(system, "cqp.candidacy"))
    rows = await system.sql("SELECT event_id::text AS id, count(*) AS n FROM gateway.audit_log GROUP BY event_id")
    assert {r["id"]: r["n"] for r in rows} == {event_id: 1 for event_id in accepted.values()}
    # The candidacy service's own catalog view saw every certification too, once.
    rows = await system.sql("SELECT count(*) AS n FROM candidacy.catalog_certifications")
    assert rows[0]["n"] == len(codes)
