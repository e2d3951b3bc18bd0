"""`cqp gateway rebuild`: drop the gateway's read models and build them again from the event topics.

Run it with the gateway stopped. The consumer group's offsets go back to the start of each topic
first, then the read models are dropped: a crash in between leaves the old read models, which the
inbox keeps from applying anything twice when the gateway starts again.
"""

from __future__ import annotations

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from shared.kafka import client_options
from shared.settings import Settings
from shared.topics import EVENT_TOPICS, PARTITIONS

from services.gateway.readmodels import SCHEMA

GROUP = "cqp.gateway"


class GatewayStillRunning(RuntimeError):
    pass


async def rebuild(settings: Settings) -> int:
    consumer = AIOKafkaConsumer(**client_options(settings), group_id=settings.topic(GROUP),
                                enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(settings.topic(t), p) for t in EVENT_TOPICS for p in range(PARTITIONS)]
        consumer.assign(partitions)
        beginnings = await consumer.beginning_offsets(partitions)
        try:
            await consumer.commit(beginnings)
        except KafkaError as error:  # the broker refuses while a gateway is still consuming
            raise GatewayStillRunning(f"stop the gateway first ({type(error).__name__}); nothing was changed") from None
    finally:
        await consumer.stop()
    conn = await asyncpg.connect(settings.postgres_dsn)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
    finally:
        await conn.close()
    return len(partitions)
