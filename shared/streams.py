"""Reading an event topic as a whole: what the relay, `cqp republish` and `cqp verify` check the store against.

Events go to the partition of their aggregate id (Kafka's default partitioner, made explicit here), so that
the relay knows, for a stored event, which partition holds it if it was published.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from shared.topics import PARTITIONS

_partitioner = DefaultPartitioner()


def partition_for(key: bytes, partitions: int = PARTITIONS) -> int:
    """The partition the producer would choose for this key (murmur2, like the Java client)."""
    every = list(range(partitions))
    return _partitioner(key, every, every)


class TopicMissing(RuntimeError):
    """The topic is not on the broker: deleted, or never created."""


async def partitions_of(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """The topic's partitions (their number is fixed: shared/topics.py creates every event topic alike);
    TopicMissing if the broker does not know the topic."""
    if topic not in await consumer.topics():  # topics() fetches the cluster's metadata again
        raise TopicMissing(f"topic {topic} does not exist on the broker: create it with `cqp topics`")
    return [TopicPartition(topic, p) for p in range(PARTITIONS)]


async def held(consumer: AIOKafkaConsumer, topic: str) -> int:
    """How many messages the topic holds (nothing is ever deleted from an event topic)."""
    partitions = await partitions_of(consumer, topic)
    return sum((await consumer.end_offsets(partitions)).values())


async def last_positions(consumer: AIOKafkaConsumer, topic: str) -> dict[int, int]:
    """Partition → store position of the last envelope it holds (partitions holding none are left out)."""
    partitions = await partitions_of(consumer, topic)
    ends = await consumer.end_offsets(partitions)
    last = {}
    for tp in partitions:
        # Any bytes may sit at the tail (a message that is no envelope: consumers dead-letter it); walk back
        # a window at a time to the last envelope rather than fail on them.
        end = ends[tp]
        while end > 0 and tp.partition not in last:
            start = max(0, end - TAIL_WINDOW)
            for record in await between(consumer, {tp: start}, {tp: end}):
                if (position := envelope_position(record.value)) is not None:
                    last[tp.partition] = position
            end = start
    return last


TAIL_WINDOW = 100


def envelope_position(value: bytes | None) -> int | None:
    """The store position an envelope carries; None for anything else."""
    try:
        position = json.loads(value)["position"]
    except (TypeError, ValueError, KeyError):
        return None
    return position if isinstance(position, int) and not isinstance(position, bool) else None


async def records(consumer: AIOKafkaConsumer, topic: str) -> list:
    """Every record of the topic, partition by partition, from the beginning to the end seen at the start."""
    partitions = await partitions_of(consumer, topic)
    return await between(consumer, {}, await consumer.end_offsets(partitions))


async def between(consumer: AIOKafkaConsumer, starts: dict, ends: dict) -> list:
    """The records from `starts` (0 where not given) to `ends`, partition by partition."""
    return [record async for part in in_parts(consumer, starts, ends) for record in part]


async def in_parts(consumer: AIOKafkaConsumer, starts: dict, ends: dict,
                   size: int = 1000) -> AsyncIterator[list]:
    """The same records as `between`, a part at a time (at most `size` records): a long history is
    never all in memory."""
    for tp, end in ends.items():
        start = starts.get(tp, 0)
        if end <= start:
            continue
        consumer.assign([tp])
        consumer.seek(tp, start)
        while await consumer.position(tp) < end:
            for batch in (await consumer.getmany(tp, timeout_ms=1000, max_records=size)).values():
                if part := [r for r in batch if r.offset < end]:
                    yield part
    consumer.assign([])


def reader(kafka: dict) -> AIOKafkaConsumer:
    """A consumer of no group (`kafka`: shared.kafka.client_options): it reads where it is told, commits nothing."""
    return AIOKafkaConsumer(**kafka, enable_auto_commit=False, group_id=None)
