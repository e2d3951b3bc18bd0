"""The relay reads each partition's tail when it starts (to publish in order after what is there): any bytes
at that tail, a message that is no envelope, must not stop a service publishing."""

from aiokafka import AIOKafkaProducer

from shared.topics import PARTITIONS
from tests.e2e.test_jury_journey import ok
from tests.harness import eventually, kafka_options

JUNK = [b"not json", b'{"no": "position"}', b"\xff\xfe", b'{"position": "7"}', b"[1, 2]"]


async def test_a_relay_restarts_and_publishes_over_a_tail_of_malformed_messages(system):
    await system.start()
    await ok(system, "createBranch", "CreateBranchInput", {"code": "UIMM", "name": "Métallurgie", "idcc": ["3109"]}, "b1")
    producer = AIOKafkaProducer(**kafka_options())
    await producer.start()
    try:
        for partition in range(PARTITIONS):
            for junk in JUNK:
                await producer.send_and_wait(system.topic("cqp.catalog.events"), junk, partition=partition)
    finally:
        await producer.stop()

    system["catalog"].kill()
    await system.start("catalog")
    await ok(system, "createBranch", "CreateBranchInput", {"code": "LEEM", "name": "Médicament", "idcc": ["176"]}, "b2")

    async def published():
        rows = await system.sql("SELECT code FROM gateway.branches ORDER BY code")
        return rows if [r["code"] for r in rows] == ["LEEM", "UIMM"] else None

    assert await eventually(published)
