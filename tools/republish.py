"""`cqp republish SERVICE [--from POSITION]`: restore a service's topic from its event store.

For a topic deleted, recreated empty or truncated: the stored events from POSITION up to the relay's
recorded position that the topic does not hold (by event id) are published again, each to the
partition of its aggregate; the relay publishes everything after its position itself. Consumers
record event ids, so what they applied already has no second effect. Running it twice publishes
nothing the second time.
"""

from __future__ import annotations

import json

import anyio
import asyncpg
from aiokafka import AIOKafkaProducer

from shared.kafka import client_options
from shared.settings import Settings
from shared.streams import partition_for, partitions_of, reader, records
from shared.topics import MAX_MESSAGE_BYTES, ensure_topics

from tools import store


async def relay_position(dsn: str, schema: str, topic: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(f'SELECT position FROM "{schema}".relay_position WHERE topic = $1', topic) or 0
    except asyncpg.UndefinedTableError:
        return 0
    finally:
        await conn.close()


async def republish(settings: Settings, service: str, start: int = 1) -> tuple[int, int]:
    """Returns (events published again, stored events of the range already on the topic)."""
    spec = store.definition(service)
    topic = settings.topic(spec.topic)
    await ensure_topics(client_options(settings), settings.topic_prefix)
    # Read first: the relay records its position only once the broker holds what it published.
    stop = await relay_position(settings.postgres_dsn, spec.name, topic)
    consumer = reader(client_options(settings))
    producer = AIOKafkaProducer(**client_options(settings), acks="all", enable_idempotence=True,
                                linger_ms=5, max_request_size=MAX_MESSAGE_BYTES)
    await consumer.start()
    await producer.start()
    app = await anyio.to_thread.run_sync(store.open_store, service, settings)
    try:
        partitions = len(await partitions_of(consumer, topic))
        on_topic = {json.loads(r.value).get("event_id") for r in await records(consumer, topic)}
        sent, present = [], 0
        if stop >= start:
            stored = await anyio.to_thread.run_sync(lambda: list(store.envelopes(app, service, start, stop)))
            for envelope in stored:
                if str(envelope.event_id) in on_topic:
                    present += 1
                    continue
                key = str(envelope.aggregate_id).encode()
                sent.append(await producer.send(topic, envelope.model_dump_json().encode(), key=key,
                                                partition=partition_for(key, partitions),
                                                headers=[("correlation_id", envelope.correlation_id.encode())]))
        for future in sent:
            await future
        return len(sent), present
    finally:
        await anyio.to_thread.run_sync(app.close)
        await producer.stop()
        await consumer.stop()
