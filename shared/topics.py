"""The event topics: created explicitly, a fixed partition count, kept forever."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.contracts import candidacy, catalog, jury

EVENT_TOPICS = (catalog.TOPIC, candidacy.TOPIC, jury.TOPIC)
PARTITIONS = 3
# No retention limit: the topics are the audit history that read models are rebuilt from.
CONFIG = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}


async def ensure_topics(bootstrap: str, prefix: str = "") -> list[str]:
    """Create the event topics that are missing; returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [f"{prefix}{t}" for t in EVENT_TOPICS if f"{prefix}{t}" not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(name, PARTITIONS, 1, topic_configs=CONFIG) for name in missing]
                )
            except TopicAlreadyExistsError:
                pass  # a concurrent starter created them
        return missing
    finally:
        await admin.close()
