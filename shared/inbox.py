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
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from aiokafka import TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from opentelemetry.trace import SpanKind

from shared import tracing
from shared.arrivals import Arrivals
from shared.context import correlation_id
from shared.envelope import Envelope
from shared.faults import crash_point, crash_point_later
from shared.health import CONSUMER_LAG, DEAD_LETTERS, EVENTS_APPLIED, PROJECTION_SECONDS
from shared.logs import log

logger = logging.getLogger("inbox")

RETRY_PAUSE_SECONDS = 1.0
MAX_RETRY_PAUSE_SECONDS = 30.0
BATCH = 500
# An event whose handler keeps failing (not for want of the database) is set aside after this many tries.
MAX_TRIES = 5
# Failures that say nothing of the event: the database or the network is away. Retried, never set aside.
TRANSIENT = (OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
             asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError, asyncpg.QueryCanceledError)
Handler = Callable[[asyncpg.Connection, Envelope], Awaitable[None]]


def chain(steps: list[Handler]) -> Handler:
    """One handler running several in order, in the same transaction (e.g. one projection per feature)."""
    if len(steps) == 1:
        return steps[0]

    async def handle(conn: asyncpg.Connection, envelope: Envelope) -> None:
        for step in steps:
            await step(conn, envelope)
    return handle


def inbox_table(schema: str) -> str:
    return f"""
        CREATE TABLE IF NOT EXISTS "{schema}".inbox (
            event_id uuid PRIMARY KEY,
            topic text NOT NULL,
            partition int NOT NULL,
            "offset" bigint NOT NULL,
            type text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        );"""


def views_lock(schema: str) -> int:
    """Held shared by every transaction that applies events to the schema's views, and exclusively by
    `cqp replay` while it swaps them for rebuilt ones."""
    return zlib.crc32(f"views:{schema}".encode())


class Inbox:
    def __init__(self, pool: asyncpg.Pool, schema: str, max_tries: int = MAX_TRIES):
        self.pool = pool
        self.schema = schema
        self.max_tries = max_tries
        self.tries: dict[str, int] = {}  # event id → failed tries so far (in this process)
        self.arrivals = Arrivals(self.applied_among)  # who waits for events to be applied
        self.channel = f"cqp_{schema}_applied"  # NOTIFY'd by each transaction that applied events
        # The Kafka consumer of each topic feeding it (one subscriber, so one consumer, per topic), known
        # from its first batch: a partition's figures are asked of the consumer it is assigned to.
        self.consumers: dict[str, Any] = {}
        self.applied_to: dict[TopicPartition, int] = {}  # partition → next offset to apply
        # Told after each committed transaction that applied events, here or (by NOTIFY) in another replica.
        self.listeners: list[Callable[[], None]] = []

    async def migrate(self) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(inbox_table(self.schema) +
                f"""
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
        skipped. A record that is not an envelope, whose payload breaks its contract or holds data the
        database cannot store goes to the dead letters at once (retrying cannot help); one whose handler
        fails otherwise is tried again with its batch, and set aside after `max_tries`; a transient
        failure (database or network away) is retried and never sets anything aside.
        """
        envelopes = []
        for record in records:
            try:
                envelopes.append((record, Envelope.model_validate_json(record.value)))
            except ValidationError as error:
                await self._dead_letter(record, str(error))
        applied, applied_ids = 0, []
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", views_lock(self.schema))
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
                            with tracing.span(f"apply {envelope.type}", SpanKind.CONSUMER, envelope.trace_parent,
                                              schema=self.schema, event_id=envelope.event_id):
                                await handle(conn, envelope)
                            applied += 1
                            applied_ids.append(str(envelope.event_id))
                    self.tries.pop(str(envelope.event_id), None)  # applied at last: forget its failures
                except (ValidationError, asyncpg.DataError) as error:
                    await self._dead_letter(record, f"{envelope.type}: {type(error).__name__}: {error}", conn)
                except TRANSIENT:
                    raise
                except Exception as error:  # noqa: BLE001 (bounded: set aside after max_tries)
                    key = str(envelope.event_id)
                    self.tries[key] = self.tries.get(key, 0) + 1
                    if self.tries[key] < self.max_tries:
                        raise
                    del self.tries[key]
                    await self._dead_letter(
                        record, f"{envelope.type}: failed {self.max_tries} times: {type(error).__name__}: {error}", conn)
            if applied_ids:
                await conn.execute("SELECT pg_notify($1, '')", self.channel)  # sent at commit, to other replicas
            await crash_point_later("consumer_before_commit")
        crash_point("consumer_after_commit")
        self.arrivals.seen(applied_ids)
        if applied_ids:
            self._tell_listeners()
        for record in records:
            self.applied_to[TopicPartition(record.topic, record.partition)] = record.offset + 1
        self._gauge_lags({TopicPartition(r.topic, r.partition) for r in records})
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

    def _gauge_lags(self, partitions) -> None:
        """After the commit: a gauge never fails a batch (a partition revoked meanwhile is skipped)."""
        for tp in partitions:
            consumer = self.consumers.get(tp.topic)
            if consumer is None or tp not in consumer.assignment():
                continue
            end = consumer.highwater(tp)
            if end is not None:
                CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(end - self.applied_to[tp], 0))

    async def lags(self) -> dict[tuple[str, int], int]:
        """(topic, partition) → messages the broker holds that are not applied yet, for the partitions this
        process consumes now."""
        lags = {}
        for consumer in list(self.consumers.values()):
            lags.update(await self._lags_of(consumer))
        return lags

    async def _lags_of(self, consumer) -> dict[tuple[str, int], int]:
        lags = {}
        for tp in consumer.assignment():
            end = consumer.highwater(tp)
            if end is None:
                continue  # nothing fetched from it yet
            done = self.applied_to.get(tp)
            if done is None:
                committed = await consumer.committed(tp)
                done = committed or 0
            lags[(tp.topic, tp.partition)] = max(end - done, 0)
            CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(lags[(tp.topic, tp.partition)])
        return lags

    async def applied_among(self, event_ids: list[str]) -> set[str]:
        rows = await self.pool.fetch(
            f'SELECT event_id::text FROM "{self.schema}".inbox WHERE event_id = ANY($1::uuid[])', event_ids)
        return {r[0] for r in rows}

    async def listen(self, dsn: str) -> None:
        """Hear the other replicas' applied events, for as long as the process lives (a connection of its
        own, opened again when it drops; meanwhile the waiters look every few hundred milliseconds)."""

        def heard(*_) -> None:
            asyncio.get_running_loop().create_task(self.arrivals.recheck())
            self._tell_listeners()

        while True:
            try:
                conn = await asyncpg.connect(dsn)
                try:
                    await conn.add_listener(self.channel, heard)
                    while not conn.is_closed():
                        await asyncio.sleep(1)
                finally:
                    await conn.close()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 (the database is away: try again shortly)
                await asyncio.sleep(1)

    def _tell_listeners(self) -> None:
        for listener in self.listeners:
            listener()


async def the_message_itself(message: KafkaMessage) -> KafkaMessage:
    """The handler is given the message as its body: its records and consumer are what the inbox needs.
    (Asking for them as `message: KafkaMessage` made the library resolve the parameter in a worker
    thread, a thread hop for every batch.)"""
    return message


def subscribe(broker: KafkaBroker, topic: str, group_id: str, inbox: Inbox, handle: Handler) -> None:
    """A tracked subscriber, by batches: offsets are committed only after the inbox transaction."""
    failures = 0  # in a row: the pause doubles with each, up to MAX_RETRY_PAUSE_SECONDS

    @broker.subscriber(
        topic,
        group_id=group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        batch=True,
        max_records=BATCH,
        title=f"{group_id}:{topic}",
        decoder=the_message_itself,
    )
    async def on_messages(message: Any) -> None:
        nonlocal failures
        records = message.raw_message
        inbox.consumers[topic] = message.consumer
        try:
            with PROJECTION_SECONDS.labels(topic).time():
                await inbox.apply(records, handle)
            failures = 0
        except Exception as error:
            # Nothing was committed: the batch comes again. Pause first, longer each time, so that an
            # outage (database down) neither spins the consumer nor floods the log.
            failures += 1
            pause = min(RETRY_PAUSE_SECONDS * 2 ** (failures - 1), MAX_RETRY_PAUSE_SECONDS)
            fields = {"topic": records[0].topic, "offset": records[0].offset, "failures": failures, "pause": pause}
            if failures == 1 or pause == MAX_RETRY_PAUSE_SECONDS or failures % 10 == 0:
                logger.error("could not apply; will retry", exc_info=error, extra={"fields": fields})
            await asyncio.sleep(pause)
            raise
