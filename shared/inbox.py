"""Consumer-side tracking: apply an event and record it in one transaction.

Each event is recorded by its id, so a redelivery (an offset not committed before a crash) or a
republication (a relay that crashed before recording its position) has no second effect.
Offsets are committed after the transaction (FastStream's NACK_ON_ERROR policy), never before.
A message that cannot be read as an envelope is kept in a dead-letter table and skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from shared.context import correlation_id
from shared.envelope import Envelope
from shared.faults import crash_point
from shared.logs import log

logger = logging.getLogger("inbox")

RETRY_PAUSE_SECONDS = 1.0
Handler = Callable[[asyncpg.Connection, Envelope], Awaitable[None]]


class Inbox:
    def __init__(self, pool: asyncpg.Pool, schema: str):
        self.pool = pool
        self.schema = schema

    async def migrate(self) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                f"""
                CREATE TABLE IF NOT EXISTS "{self.schema}".inbox (
                    event_id uuid PRIMARY KEY,
                    topic text NOT NULL,
                    partition int NOT NULL,
                    "offset" bigint NOT NULL,
                    type text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                );
                CREATE TABLE IF NOT EXISTS "{self.schema}".dead_letters (
                    topic text NOT NULL,
                    partition int NOT NULL,
                    "offset" bigint NOT NULL,
                    reason text NOT NULL,
                    body bytea NOT NULL,
                    received_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (topic, partition, "offset")
                );
                """
            )

    async def apply(self, topic: str, partition: int, offset: int, body: bytes, handle: Handler) -> bool:
        """Apply one message; False when it was seen before or is unreadable."""
        try:
            envelope = Envelope.model_validate_json(body)
        except ValidationError as error:
            await self._dead_letter(topic, partition, offset, str(error), body)
            return False
        correlation_id.set(envelope.correlation_id)
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                first_time = await conn.fetchval(
                    f'INSERT INTO "{self.schema}".inbox (event_id, topic, partition, "offset", type)'
                    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING RETURNING true",
                    envelope.event_id, topic, partition, offset, envelope.type,
                )
                if not first_time:
                    return False
                await handle(conn, envelope)
        except ValidationError as error:
            # A payload that breaks its own contract: retrying cannot help, so keep it aside.
            await self._dead_letter(topic, partition, offset, f"{envelope.type}: {error}", body)
            return False
        crash_point("consumer_after_commit")
        log(logger, "applied", type=envelope.type, event_id=str(envelope.event_id), topic=topic)
        return True

    async def _dead_letter(self, topic: str, partition: int, offset: int, reason: str, body: bytes) -> None:
        await self.pool.execute(
            f'INSERT INTO "{self.schema}".dead_letters (topic, partition, "offset", reason, body)'
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            topic, partition, offset, reason[:2000], body,
        )
        logger.error("dead letter", extra={"fields": {"topic": topic, "partition": partition, "offset": offset}})

    async def has_applied(self, event_ids: list[str]) -> bool:
        count = await self.pool.fetchval(
            f'SELECT count(*) FROM "{self.schema}".inbox WHERE event_id = ANY($1::uuid[])', event_ids
        )
        return count == len(set(event_ids))


def subscribe(broker: KafkaBroker, topic: str, group_id: str, inbox: Inbox, handle: Handler) -> None:
    """A tracked subscriber: offsets are committed only after the inbox transaction."""

    @broker.subscriber(
        topic,
        group_id=group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=f"{group_id}:{topic}",
    )
    async def on_message(message: KafkaMessage) -> None:
        raw = message.raw_message
        try:
            await inbox.apply(raw.topic, raw.partition, raw.offset, message.body, handle)
        except Exception:
            # Nothing was committed: the message comes again. Pause first, so that an outage
            # (database down) does not spin the consumer.
            logger.exception("could not apply; will retry", extra={"fields": {"topic": raw.topic, "offset": raw.offset}})
            await asyncio.sleep(RETRY_PAUSE_SECONDS)
            raise
