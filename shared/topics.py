"""The event topics: created explicitly, a fixed partition count, kept forever, with their ACLs."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from shared.contracts import candidacy, catalog, jury
from shared.kafka_acls import ensure_acls

EVENT_TOPICS = (catalog.TOPIC, candidacy.TOPIC, jury.TOPIC)
PARTITIONS = 3
# The largest event a topic takes, set on each topic (the broker's default is 1 MB). A command's body is
# bounded well below it (Settings.max_request_bytes), and an event never carries more than its command.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
# No retention limit: the topics are the audit history that read models are rebuilt from.
CONFIG = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete",
          "max.message.bytes": str(MAX_MESSAGE_BYTES)}


async def ensure_topics(kafka: dict, prefix: str = "") -> list[str]:
    """Create the event topics that are missing, and the ACLs of every process on them; returns the
    names created. `kafka`: the admin's client options (shared.kafka.client_options)."""
    admin = AIOKafkaAdminClient(**kafka)
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
        # Topics made by an earlier version keep their data and get today's settings.
        present = [f"{prefix}{t}" for t in EVENT_TOPICS if f"{prefix}{t}" in existing]
        if present:
            await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name, configs=CONFIG)
                                       for name in present])
        await ensure_acls(admin, prefix)
        return missing
    finally:
        await admin.close()
