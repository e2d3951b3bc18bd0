"""Consumer-side tracking: apply events and record them in one transaction, a batch at a time.

Each event is recorded by its id, so a redelivery (an offset not committed before a crash) or a
republication (a relay that crashed before recording its position) has no second effect.
Offsets are committed after the transaction (FastStream's NACK_ON_ERROR policy), never before.
A message that cannot be read as an envelope, breaks its contract or holds data the database cannot
store (PostgreSQL's data exceptions: a NUL in a text, a malformed uuid) is kept in a dead-letter table
with its reason and skipped: retrying it could never succeed.
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
from shared.health import DEAD_LETTERS, EVENTS_APPLIED
from shared.logs import log

logger = logging.getLogger("inbox")

RETRY_PAUSE_SECONDS = 1.0
BATCH = 500
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

    async def apply(self, records, handle: Handler) -> int:
        """Apply a batch of Kafka records in one transaction; returns how many were new.

        Each record is recorded by its event id: one seen before (redelivery, republication) is
        skipped. A record that is not an envelope, or whose payload breaks its contract, goes to the
        dead letters (retrying cannot help) and the others go on.
        """
        envelopes = []
        for record in records:
            try:
                envelopes.append((record, Envelope.model_validate_json(record.value)))
            except ValidationError as error:
                await self._dead_letter(record, str(error))
        applied = 0
        async with self.pool.acquire() as conn, conn.transaction():
            for record, envelope in envelopes:
                correlation_id.set(envelope.correlation_id)
                try:
                    async with conn.transaction():  # a savepoint: a contract breach undoes this record only
                        first_time = await conn.fetchval(
                            f'INSERT INTO "{self.schema}".inbox (event_id, topic, partition, "offset", type)'
                            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING RETURNING true",
                            envelope.event_id, record.topic, record.partition, record.offset, envelope.type,
                        )
                        if first_time:
                            await handle(conn, envelope)
                            applied += 1
                except (ValidationError, asyncpg.DataError) as error:
                    await self._dead_letter(record, f"{envelope.type}: {type(error).__name__}: {error}", conn)
        crash_point("consumer_after_commit")
        if applied:
            log(logger, "applied", count=applied, topic=records[0].topic, last_offset=records[-1].offset)
            EVENTS_APPLIED.labels(records[0].topic).inc(applied)
        return applied

    async def _dead_letter(self, record, reason: str, conn=None) -> None:
        await (conn or self.pool).execute(
            f'INSERT INTO "{self.schema}".dead_letters (topic, partition, "offset", reason, body)'
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            record.topic, record.partition, record.offset, reason[:2000], record.value or b"",
        )
        logger.error("dead letter", extra={"fields": {"topic": record.topic, "partition": record.partition,
                                                     "offset": record.offset}})
        DEAD_LETTERS.labels(record.topic).inc()

    async def has_applied(self, event_ids: list[str]) -> bool:
        count = await self.pool.fetchval(
            f'SELECT count(*) FROM "{self.schema}".inbox WHERE event_id = ANY($1::uuid[])', event_ids
        )
        return count == len(set(event_ids))


def subscribe(broker: KafkaBroker, topic: str, group_id: str, inbox: Inbox, handle: Handler) -> None:
    """A tracked subscriber, by batches: offsets are committed only after the inbox transaction."""

    @broker.subscriber(
        topic,
        group_id=group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        batch=True,
        max_records=BATCH,
        title=f"{group_id}:{topic}",
    )
    async def on_messages(message: KafkaMessage) -> None:
        records = message.raw_message
        try:
            await inbox.apply(records, handle)
        except Exception:
            # Nothing was committed: the batch comes again. Pause first, so that an outage
            # (database down) does not spin the consumer.
            logger.exception("could not apply; will retry",
                             extra={"fields": {"topic": records[0].topic, "offset": records[0].offset}})
            await asyncio.sleep(RETRY_PAUSE_SECONDS)
            raise
