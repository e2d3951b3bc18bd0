"""`cqp replay`: rebuild every read model from the beginning of the topics while the current ones keep
serving, then swap them in at once.

For each view (the gateway's read models and audit log, the services' views of each other:
`tools/verify.py` lists them), the topics are replayed into a scratch schema, with an inbox of their
own. Then, holding the lock every consumer transaction of that schema takes shared (so none applies
meanwhile), the messages that arrived during the replay are applied too, and in one transaction the
live tables move aside and the rebuilt ones take their place; the consumers go on from their offsets
(what they would apply again the new inbox drops). The pools keep no prepared statements, so every
statement after the swap names the new tables. The same history always gives the same tables: the
projections are functions of the events.
"""

from __future__ import annotations

import json

import asyncpg
from aiokafka import TopicPartition

from shared.envelope import Envelope
from shared.inbox import inbox_table, views_lock
from shared.kafka import client_options
from shared.migrations import TABLE as MIGRATIONS_TABLE, migrate
from shared.settings import Settings
from shared.streams import in_parts, partitions_of, reader
from shared.topics import EVENT_TOPICS

from tools.database import role


async def build(conn: asyncpg.Connection, view, scratch: str, owner: str | None = None) -> None:
    """The view's tables and an inbox, empty, in the scratch schema (made anew; owned by `owner`, whom the
    connection then acts as)."""
    await conn.execute(f'DROP SCHEMA IF EXISTS "{scratch}" CASCADE')
    await conn.execute(f'CREATE SCHEMA "{scratch}"' + (f' AUTHORIZATION "{owner}"' if owner else ""))
    if owner:
        await conn.execute(f'SET ROLE "{owner}"')
    await conn.execute(f'SET search_path TO "{scratch}"')
    await migrate(conn, view.migrations)
    await conn.execute(inbox_table(scratch))


CHUNK = 500  # events applied under one savepoint


async def apply(conn: asyncpg.Connection, view, scratch: str, topic: str, records, seen: set | None = None) -> int:
    """Apply the records in the scratch schema as the live inbox would (each event once, a failing one
    skipped as it is set aside live); returns how many could not be applied. `seen`: the event ids applied
    by earlier calls of the same replay.

    Events go by chunks, each under one savepoint, their inbox rows copied in at once; only a chunk in
    which an event fails is applied again event by event (a savepoint each), so that the failing one
    alone is skipped."""
    seen = set() if seen is None else seen
    failed = 0
    async with conn.transaction():
        for start in range(0, len(records), CHUNK):
            fresh = []  # (record, envelope) of the chunk not applied before, each event once
            for record in records[start:start + CHUNK]:
                try:
                    envelope = Envelope.model_validate(json.loads(record.value))
                except ValueError:
                    failed += 1
                    continue
                if envelope.event_id not in seen:
                    seen.add(envelope.event_id)
                    fresh.append((record, envelope))
            try:
                async with conn.transaction():
                    await _apply_all(conn, view, scratch, topic, fresh)
            except Exception:  # noqa: BLE001 (one of them fails: find which, apply the others)
                for one in fresh:
                    try:
                        async with conn.transaction():
                            await _apply_all(conn, view, scratch, topic, [one])
                    except Exception:  # noqa: BLE001 (the live consumer set it aside too)
                        failed += 1
    return failed


async def _apply_all(conn: asyncpg.Connection, view, scratch: str, topic: str, fresh: list) -> None:
    for _, envelope in fresh:
        await view.handlers[topic](conn, envelope)
    await conn.copy_records_to_table(
        "inbox", schema_name=scratch, columns=["event_id", "topic", "partition", "offset", "type"],
        records=[(e.event_id, r.topic, r.partition, r.offset, e.type) for r, e in fresh])


async def replay_view(settings: Settings, view) -> str:
    scratch, aside = f"{view.schema}_next", f"{view.schema}_replaced"
    consumer = reader(client_options(settings))
    await consumer.start()
    conn = await asyncpg.connect(settings.postgres_dsn)
    try:
        # Owned by the process's role, as the live tables are (the admin acts as it).
        await build(conn, view, scratch, role(view.name))
        topics = [t for t in EVENT_TOPICS if t in view.handlers]
        partitions = {t: await partitions_of(consumer, settings.topic(t)) for t in topics}
        done: dict[TopicPartition, int] = {}
        failed, seen = 0, set()
        for topic in topics:  # while the live tables serve
            ends = await consumer.end_offsets(partitions[topic])
            async for part in in_parts(consumer, done, ends):
                failed += await apply(conn, view, scratch, topic, part, seen)
            done.update(ends)
        await conn.execute("SELECT pg_advisory_lock($1)", views_lock(view.schema))
        try:
            for topic in topics:  # what came meanwhile, no consumer applying
                ends = await consumer.end_offsets(partitions[topic])
                async for part in in_parts(consumer, done, ends):
                    failed += await apply(conn, view, scratch, topic, part, seen)
            tables = [r[0] for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name <> $2",
                scratch, MIGRATIONS_TABLE)]
            await conn.execute("RESET ROLE")
            await conn.execute(f'DROP SCHEMA IF EXISTS "{aside}" CASCADE; CREATE SCHEMA "{aside}" AUTHORIZATION "{role(view.name)}"')
            async with conn.transaction():
                for table in tables:
                    await conn.execute(f'ALTER TABLE IF EXISTS "{view.schema}"."{table}" SET SCHEMA "{aside}"')
                    await conn.execute(f'ALTER TABLE "{scratch}"."{table}" SET SCHEMA "{view.schema}"')
                # The live record of migrations stays (it also counts the service's own tables): it
                # gains those the rebuilt tables were made with.
                await conn.execute(f'INSERT INTO "{view.schema}".{MIGRATIONS_TABLE} (feature, version)'
                                   f' SELECT feature, version FROM "{scratch}".{MIGRATIONS_TABLE}'
                                   " ON CONFLICT DO NOTHING")
            await conn.execute(f'DROP SCHEMA "{aside}" CASCADE; DROP SCHEMA "{scratch}" CASCADE')
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", views_lock(view.schema))
        return f"{view.name}: {len(tables)} tables rebuilt and swapped in" + (
            f" ({failed} messages could not be applied, as live)" if failed else "")
    finally:
        await conn.close()
        await consumer.stop()


async def replay(settings: Settings) -> list[str]:
    from tools.verify import views

    return [await replay_view(settings, view) for view in views()]
