"""The relay: from a service's notification log (the outbox) to its Kafka topic.

It reads stored events after its last recorded position, maps each to its public contract,
publishes them keyed by aggregate id, waits for the broker's acknowledgement, then records the
new position. A crash between publishing and recording republishes: delivery is at least once,
and consumers drop the duplicates by event id.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Callable

import anyio
import asyncpg
from aiokafka import AIOKafkaProducer
from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol

from shared.context import Actor
from shared.health import EVENTS_PUBLISHED, RELAY_POSITION
from shared.topics import MAX_MESSAGE_BYTES
from shared.envelope import Contract, Envelope, event_id_for
from shared.faults import crash_point
from shared.logs import log

logger = logging.getLogger("relay")

ToContract = Callable[[DomainEventProtocol], Contract | None]
BATCH = 200


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
        self.blocked: str | None = None  # why the last attempt to publish failed, until one succeeds

    async def run(self) -> None:
        """Publish for as long as the process lives. A failure (broker or database unreachable) is
        logged and the relay starts again from its recorded position: at worst it republishes."""
        while True:
            try:
                await self._run()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # Loud: in the log, in /health/ready (the process is not ready while its relay is stuck).
                self.blocked = f"{type(error).__name__}: {error}"[:300]
                logger.exception("relay failed; starting again in 2 s",
                                 extra={"fields": {"topic": self.topic, "position": self.position}})
                await asyncio.sleep(2)

    async def _run(self) -> None:
        """One relay per service holds the advisory lock while it publishes."""
        conn = await asyncpg.connect(self.dsn)
        producer = AIOKafkaProducer(
            **self.kafka, acks="all", enable_idempotence=True, linger_ms=5,
            max_request_size=MAX_MESSAGE_BYTES,
        )
        try:
            await self._hold_lock(conn)
            await conn.execute(
                f'CREATE TABLE IF NOT EXISTS "{self.schema}".relay_position'
                " (topic text PRIMARY KEY, position bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())"
            )
            self.position = await conn.fetchval(
                f'SELECT position FROM "{self.schema}".relay_position WHERE topic = $1', self.topic
            ) or 0
            await producer.start()
            log(logger, "relay started", topic=self.topic, position=self.position)
            while True:
                if not await self._publish_batch(conn, producer):
                    self.wake.clear()
                    try:
                        await asyncio.wait_for(self.wake.wait(), self.poll_seconds)
                    except TimeoutError:
                        pass
        finally:
            await producer.stop()
            await conn.close()

    async def _hold_lock(self, conn: asyncpg.Connection) -> None:
        key = zlib.crc32(f"relay:{self.schema}:{self.topic}".encode())
        while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
            await asyncio.sleep(self.poll_seconds)

    async def _publish_batch(self, conn: asyncpg.Connection, producer: AIOKafkaProducer) -> bool:
        notifications = await anyio.to_thread.run_sync(
            self.app.recorder.select_notifications, self.position + 1, BATCH
        )
        if not notifications:
            return False
        sent = []
        for notification in notifications:
            domain_event = self.app.mapper.to_domain_event(notification)
            contract = self.to_contract(domain_event)
            if contract is None:  # internal fact, e.g. a command record
                continue
            envelope = to_envelope(self.producer_name, notification.id, domain_event, contract)
            sent.append(
                await producer.send(
                    self.topic,
                    value=envelope.model_dump_json().encode(),
                    key=str(envelope.aggregate_id).encode(),
                    headers=[("correlation_id", envelope.correlation_id.encode())],
                )
            )
        await asyncio.gather(*sent)
        crash_point("relay_after_publish")
        self.position = notifications[-1].id
        await conn.execute(
            f'INSERT INTO "{self.schema}".relay_position (topic, position) VALUES ($1, $2)'
            " ON CONFLICT (topic) DO UPDATE SET position = EXCLUDED.position, updated_at = now()",
            self.topic,
            self.position,
        )
        log(logger, "relayed", topic=self.topic, position=self.position, published=len(sent))
        RELAY_POSITION.labels(self.topic).set(self.position)
        self.blocked = None
        EVENTS_PUBLISHED.labels(self.topic).inc(len(sent))
        return True
