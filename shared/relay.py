"""The relay: from a service's notification log (the outbox) to its Kafka topic.

It reads stored events after its last recorded position, maps each to its public contract,
publishes them keyed by aggregate id, waits for the broker's acknowledgement, then records the
new position. A crash between publishing and recording would republish; the relay reads, when it starts,
the last position each partition holds and skips what is there already, so each stored event is on the
topic once (consumers drop duplicates by event id anyway).

The store is the source of truth: the relay counts what it published and refuses to go on, loudly
(log, /health/ready, metric), when the topic is missing or holds fewer messages than that (deleted,
recreated, truncated). `cqp republish SERVICE` then restores the topic from the store.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Callable

import anyio
import asyncpg
from aiokafka import AIOKafkaProducer
from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol

from opentelemetry.trace import SpanKind

from shared import tracing
from shared.context import Actor
from shared.envelope import Contract, Envelope, event_id_for
from shared.faults import crash_point
from shared.health import EVENTS_PUBLISHED, RELAY_BLOCKED, RELAY_POSITION
from shared.logs import log
from shared.loops import cancelled
from shared.streams import TopicMissing, held, last_positions, partition_for, partitions_of, reader
from shared.topics import MAX_MESSAGE_BYTES

logger = logging.getLogger("relay")

ToContract = Callable[[DomainEventProtocol], Contract | None]
BATCH = 200
# A relay that cannot publish says so at once, then once per this interval while it stays blocked.
BLOCKED_LOG_SECONDS = 30.0


def relay_lock_key(schema: str, topic: str) -> int:
    """The advisory lock a service's relay holds while it publishes: one publisher per topic."""
    return zlib.crc32(f"relay:{schema}:{topic}".encode())


class TopicLost(RuntimeError):
    """The topic holds less than the relay published to it: the store must be republished."""


def to_envelope(producer: str, position: int, domain_event, contract: Contract) -> Envelope:
    context = domain_event.context
    return Envelope(
        event_id=event_id_for(domain_event.originator_id, domain_event.originator_version),
        type=contract.event_type,
        version=contract.contract_version,
        producer=producer,
        position=position,
        aggregate_id=domain_event.originator_id,
        aggregate_version=domain_event.originator_version,
        occurred_at=domain_event.timestamp,
        actor=Actor.model_validate(context["actor"]),
        correlation_id=context["correlation_id"],
        causation_id=context["causation_id"],
        trace_parent=context.get("trace_parent"),
        payload=contract.model_dump(mode="json"),
    )


class Relay:
    def __init__(
        self,
        app: Application,
        producer_name: str,
        topic: str,
        to_contract: ToContract,
        dsn: str,
        schema: str,
        kafka: dict,  # the client options (shared.kafka.client_options)
        poll_seconds: float = 0.5,
    ):
        self.app = app
        self.producer_name = producer_name
        self.topic = topic
        self.to_contract = to_contract
        self.dsn = dsn
        self.schema = schema
        self.kafka = kafka
        self.poll_seconds = poll_seconds
        self.wake = asyncio.Event()
        self.position = 0
        self.published = 0  # messages published to the topic since it was created, by every relay run
        self.blocked: str | None = None  # why the last attempt to publish failed, until one succeeds
        self.tails: dict[int, int] = {}  # partition → last position it held when the relay started
        self.partitions = 0

    async def run(self) -> None:
        """Publish for as long as the process lives. A failure (broker or database unreachable) is
        logged and the relay starts again from its recorded position: at worst it republishes."""
        logged_at, logged = 0.0, None
        while True:
            try:
                await self._run()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if cancelled():  # a library turned the cancellation into its own error: stop all the same
                    raise asyncio.CancelledError from error
                # Loud: in the log, in /health/ready (the process is not ready while its relay is stuck),
                # in the metrics; logged when the reason changes and once per interval, not at every try.
                self.blocked = f"{type(error).__name__}: {error}"[:300]
                RELAY_BLOCKED.labels(self.topic).set(1)
                if self.blocked != logged or time.monotonic() - logged_at > BLOCKED_LOG_SECONDS:
                    logged, logged_at = self.blocked, time.monotonic()
                    logger.error("relay blocked; trying again every 2 s", exc_info=error,
                                 extra={"fields": {"topic": self.topic, "position": self.position}})
                await asyncio.sleep(2)

    async def _run(self) -> None:
        """One relay per service holds the advisory lock while it publishes."""
        conn = await asyncpg.connect(self.dsn)
        producer = AIOKafkaProducer(
            **self.kafka, acks="all", enable_idempotence=True, linger_ms=0,
            max_request_size=MAX_MESSAGE_BYTES,
        )
        consumer = reader(self.kafka)
        try:
            await self._hold_lock(conn)
            await conn.execute(
                f'CREATE TABLE IF NOT EXISTS "{self.schema}".relay_position'
                " (topic text PRIMARY KEY, position bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());"
                f' ALTER TABLE "{self.schema}".relay_position ADD COLUMN IF NOT EXISTS published bigint NOT NULL DEFAULT 0'
            )
            row = await conn.fetchrow(
                f'SELECT position, published FROM "{self.schema}".relay_position WHERE topic = $1', self.topic)
            self.position, self.published = (row["position"], row["published"]) if row else (0, 0)
            await consumer.start()
            await self._check_topic(consumer)
            self.partitions = len(await partitions_of(consumer, self.topic))
            self.tails = await last_positions(consumer, self.topic)
            await producer.start()
            # Woken by any process's insert into the store (the recorder NOTIFYs in its transaction): a
            # command served by another replica is published at once, not at the next poll.
            await conn.add_listener(self.app.recorder.channel_name, lambda *_: self.wake.set())
            self.blocked = None
            RELAY_BLOCKED.labels(self.topic).set(0)
            log(logger, "relay started", topic=self.topic, position=self.position)
            while True:
                if not await self._publish_batch(conn, producer, consumer):
                    self.wake.clear()
                    try:
                        await asyncio.wait_for(self.wake.wait(), self.poll_seconds)
                    except TimeoutError:
                        pass
        finally:
            await producer.stop()
            await consumer.stop()
            await conn.close()

    async def _check_topic(self, consumer) -> None:
        try:
            holds = await held(consumer, self.topic)
        except TopicMissing:
            if not self.published:
                raise  # never made: `cqp topics` is the whole remedy
            raise TopicLost(f"topic {self.topic} is gone though {self.published} messages were published to it: "
                            f"create it (`cqp topics`), then republish it from the store, "
                            f"`cqp republish {self.producer_name}`") from None
        if holds < self.published:
            raise TopicLost(f"topic {self.topic} holds {holds} messages but {self.published} were published to it "
                            f"(deleted or truncated): republish it from the store, `cqp republish {self.producer_name}`")

    async def _hold_lock(self, conn: asyncpg.Connection) -> None:
        while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", relay_lock_key(self.schema, self.topic)):
            await asyncio.sleep(self.poll_seconds)

    async def _publish_batch(self, conn: asyncpg.Connection, producer: AIOKafkaProducer, consumer) -> bool:
        # Never publish after a gap: the topic must hold all the rest. Checked while the store is read, so
        # the check adds no wait to a command's way to its readers.
        notifications, _ = await asyncio.gather(
            anyio.to_thread.run_sync(self.app.recorder.select_notifications, self.position + 1, BATCH),
            self._check_topic(consumer))
        if not notifications:
            return False
        sent = []
        for notification in notifications:
            domain_event = self.app.mapper.to_domain_event(notification)
            contract = self.to_contract(domain_event)
            if contract is None:  # internal fact, e.g. a command record
                continue
            envelope = to_envelope(self.producer_name, notification.id, domain_event, contract)
            if envelope.trace_parent:
                with tracing.span(f"publish {envelope.type}", SpanKind.PRODUCER, envelope.trace_parent,
                                  topic=self.topic, event_id=envelope.event_id):
                    pass  # the moment it leaves the store; its consumers continue the command's trace
            key = str(envelope.aggregate_id).encode()
            partition = partition_for(key, self.partitions)
            if self.tails.get(partition, 0) >= notification.id:
                continue  # published by a run that crashed before recording its position
            sent.append(await producer.send(self.topic, value=envelope.model_dump_json().encode(), key=key,
                                            partition=partition,
                                            headers=[("correlation_id", envelope.correlation_id.encode())]))
        await asyncio.gather(*sent)
        crash_point("relay_after_publish")
        self.position = notifications[-1].id
        self.published += len(sent)
        await conn.execute(
            f'INSERT INTO "{self.schema}".relay_position (topic, position, published) VALUES ($1, $2, $3)'
            " ON CONFLICT (topic) DO UPDATE SET position = EXCLUDED.position, published = EXCLUDED.published,"
            " updated_at = now()",
            self.topic, self.position, self.published,
        )
        log(logger, "relayed", topic=self.topic, position=self.position, published=len(sent))
        RELAY_POSITION.labels(self.topic).set(self.position)
        RELAY_BLOCKED.labels(self.topic).set(0)
        self.blocked = None
        EVENTS_PUBLISHED.labels(self.topic).inc(len(sent))
        return True
