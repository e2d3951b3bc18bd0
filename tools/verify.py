"""`cqp verify`: the event stores are the source of truth; check that everything else agrees with them.

1. Publication: every stored event up to its relay's position is on the service's topic exactly once,
   with the payload the relay makes from the store; nothing is on a topic that no store holds (a forged
   or foreign message).
2. Views: every consumer's tables (the gateway's read models, the services' views of each other) equal a
   replay of the topics into a scratch schema, row for row.

3. Documents (tools/documents.py): for each service keeping documents, every recorded document not purged has
   its object in the service's bucket with the recorded sealed SHA-256 (read and hashed: no person's key), and
   every object in the bucket (under the prefix) is recorded by an event; the S3 keys it reads with:
   tools/documents.py.

It first waits (up to `wait` seconds) for the relays and consumers to catch up: a lag is not a drift,
but a lag that does not end is reported as one. Prints what differs; the exit status says whether
anything did.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass

import anyio
import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from shared import health
from shared.inbox import Handler
from shared.kafka import client_options
from shared.migrations import TABLE as MIGRATIONS_TABLE, Migration
from shared.settings import Settings
from shared.streams import partitions_of, reader, records
from shared.topics import EVENT_TOPICS

from tools import documents, replay, store
from tools.republish import relay_position

SHOWN = 5  # differences shown per table or topic; the count says how many there are


@dataclass
class View:
    """Tables a consumer keeps from topics, by pure projections of the events."""

    name: str
    schema: str
    group: str  # its consumer group (before the settings' prefix)
    migrations: list[Migration]
    handlers: dict[str, Handler]  # topic → projection


def views() -> list[View]:
    from services.gateway import readmodels
    from services.gateway.rebuild import GROUP

    found = [View("gateway", readmodels.SCHEMA, GROUP, readmodels.MIGRATIONS, readmodels.PROJECTIONS)]
    for service in store.SERVICES:
        spec = store.definition(service)
        if spec.views:
            found.append(View(service, spec.name, f"cqp.{service}", spec.migrations, spec.views))
    return found


@dataclass
class Report:
    drifts: list[str]
    notes: list[str]

    def lines(self) -> list[str]:
        verdict = f"{len(self.drifts)} drift(s)" if self.drifts else "no drift"
        return [*self.notes, *(f"DRIFT {d}" for d in self.drifts), verdict]


async def verify(settings: Settings, wait: float = 60) -> Report:
    report = Report([], [])
    await _settle(settings, wait, report)
    topics: dict[str, list] = {}  # topic → its records
    consumer = reader(client_options(settings))
    await consumer.start()
    try:
        for topic in EVENT_TOPICS:
            try:
                topics[topic] = await records(consumer, settings.topic(topic))
            except Exception as error:  # noqa: BLE001 (a topic that cannot be read is what is reported)
                report.drifts.append(f"topic {settings.topic(topic)}: {type(error).__name__}: {error}")
                topics[topic] = []
    finally:
        await consumer.stop()
    for service in store.SERVICES:
        messages = [_json(r.value) for r in topics[store.definition(service).topic]]
        await _publication(settings, service, messages, report)
    for view in views():
        await _view(settings, view, topics, report)
    found = await documents.verify(settings)
    report.drifts += found.drifts
    report.notes += found.notes
    return report


async def _settle(settings: Settings, wait: float, report: Report) -> None:
    deadline = time.monotonic() + wait
    while True:
        behind = await _lags(settings)
        if not behind or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    report.drifts += [f"still behind after {wait:.0f} s: {lag}" for lag in behind]


async def _lags(settings: Settings) -> list[str]:
    lags = []
    conn = await asyncpg.connect(settings.postgres_dsn)
    try:
        for service in store.SERVICES:
            topic = settings.topic(store.definition(service).topic)
            try:
                behind = await health.relay_behind(conn, service, topic, f"{service}_events")
            except asyncpg.UndefinedTableError:  # no relay yet (or no store): all that is stored is behind
                try:
                    behind = await conn.fetchval(f'SELECT coalesce(max(notification_id), 0) FROM "{service}"."{service}_events"')
                except asyncpg.UndefinedTableError:
                    behind = 0
            if behind > 0:
                lags.append(f"the {service} relay is {behind} events behind its store")
    finally:
        await conn.close()
    admin = AIOKafkaAdminClient(**client_options(settings))
    consumer = reader(client_options(settings))
    await admin.start()
    await consumer.start()
    try:
        for view in views():
            committed = await admin.list_consumer_group_offsets(settings.topic(view.group))
            for topic in view.handlers:
                partitions = await partitions_of(consumer, settings.topic(topic))
                for tp, end in (await consumer.end_offsets(partitions)).items():
                    done = committed.get(tp)
                    if end > (done.offset if done else 0):
                        lags.append(f"{view.name} has {end - (done.offset if done else 0)} messages to read on {tp.topic}[{tp.partition}]")
    finally:
        await consumer.stop()
        await admin.close()
    return lags


async def _publication(settings: Settings, service: str, on_topic: list[dict], report: Report) -> None:
    topic = settings.topic(store.definition(service).topic)
    stop = await relay_position(settings.postgres_dsn, service, topic)
    app = await anyio.to_thread.run_sync(store.open_store, service, settings)
    try:
        stored = await anyio.to_thread.run_sync(lambda: list(store.envelopes(app, service, 1, stop)) if stop else [])
        later = await anyio.to_thread.run_sync(lambda: {str(e.event_id) for e in store.envelopes(app, service, stop + 1)})
    finally:
        await anyio.to_thread.run_sync(app.close)
    expected = {str(e.event_id): e.model_dump(mode="json") for e in stored}
    seen = Counter(m.get("event_id") for m in on_topic)
    published = {m.get("event_id"): m for m in on_topic}
    missing = [i for i in expected if i not in seen]
    doubled = [i for i, n in seen.items() if n > 1]
    foreign = [i for i in seen if i not in expected and i not in later]
    changed = [i for i in expected if i in published and published[i] != expected[i]]
    for label, ids in (("stored but not on the topic", missing), ("on the topic more than once", doubled),
                       ("on the topic but in no store (forged or foreign)", foreign),
                       ("on the topic with another content than the store's", changed)):
        if ids:
            report.drifts.append(f"{topic}: {len(ids)} event(s) {label}: {', '.join(map(str, ids[:SHOWN]))}")
    report.notes.append(f"{topic}: {len(expected)} stored events published, {len(on_topic)} messages")


async def _view(settings: Settings, view: View, topics: dict[str, list], report: Report) -> None:
    """Replay the view's topics into a scratch schema (as `cqp replay` does) and compare it with the live
    one, table by table."""
    scratch = f"verify_{view.name}"
    conn = await asyncpg.connect(settings.postgres_dsn)
    try:
        await replay.build(conn, view, scratch)
        failed, seen = 0, set()
        for topic in EVENT_TOPICS:  # the catalog first: the others refer to it
            if topic in view.handlers:
                failed += await replay.apply(conn, view, scratch, topic, topics[topic], seen)
        tables = [r["table_name"] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1"
            " AND table_name NOT IN ('inbox', $2) ORDER BY table_name", scratch, MIGRATIONS_TABLE)]
        for table in tables:
            live = await _rows(conn, view.schema, table)
            replayed = await _rows(conn, scratch, table)
            if live != replayed:
                extra, lacking = list((live - replayed).elements()), list((replayed - live).elements())
                report.drifts.append(
                    f"{view.schema}.{table}: {len(extra)} row(s) not in the replay, {len(lacking)} row(s) missing"
                    f" from it; e.g. {'; '.join(r[:300] for r in (extra + lacking)[:SHOWN])}")
        report.notes.append(f"{view.name}: {len(tables)} tables compared with a replay"
                            + (f" ({failed} messages the replay could not apply)" if failed else ""))
        await conn.execute(f'DROP SCHEMA "{scratch}" CASCADE')
    finally:
        await conn.close()


def _json(value: bytes) -> dict:
    try:
        return json.loads(value)
    except ValueError:
        return {}


async def _rows(conn: asyncpg.Connection, schema: str, table: str) -> Counter:
    try:
        return Counter(r[0] for r in await conn.fetch(f'SELECT to_jsonb(t)::text FROM "{schema}"."{table}" t'))
    except asyncpg.UndefinedTableError:
        return Counter()
