"""`cqp dead-letters list|retry|discard`: what the consumers set aside, for operators.

A dead letter is a message a consumer could not apply (not an envelope, a broken contract, data its
database cannot store). Once the cause is fixed, `retry` publishes the message again on its topic, with
its key: every consumer sees it once more, and those that applied it already ignore it (they record
event ids), while the one that set it aside applies it now or sets it aside again. `discard` drops it
for good, after a decision that it must never be applied.
"""

from __future__ import annotations

import json

import asyncpg
from aiokafka import AIOKafkaProducer

from shared.topics import MAX_MESSAGE_BYTES

CONSUMERS = ("gateway", "candidacy", "jury")  # the schemas of the processes that consume topics


async def _tables(conn: asyncpg.Connection, schema: str | None) -> list[str]:
    rows = await conn.fetch("SELECT table_schema FROM information_schema.tables WHERE table_name = 'dead_letters'"
                            " AND table_schema = ANY($1) ORDER BY table_schema", [schema] if schema else list(CONSUMERS))
    return [r["table_schema"] for r in rows]


def _where(letter: dict | None) -> tuple[str, list]:
    if letter is None:
        return "", []
    return ' WHERE topic = $1 AND partition = $2 AND "offset" = $3', [letter["topic"], letter["partition"],
                                                                       letter["offset"]]


async def list_letters(dsn: str, schema: str | None = None) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        lines = []
        for table in await _tables(conn, schema):
            for r in await conn.fetch(f'SELECT * FROM "{table}".dead_letters ORDER BY received_at'):
                lines.append(f"{table} {r['topic']}[{r['partition']}]@{r['offset']} {r['received_at']:%Y-%m-%d %H:%M} "
                             f"{' '.join(r['reason'].split())[:200]}")
        return lines or ["no dead letters"]
    finally:
        await conn.close()


async def retry(dsn: str, kafka: dict, schema: str, letter: dict | None) -> int:
    """Publish again the chosen dead letters (all of the schema's when `letter` is None); returns how many."""
    conn = await asyncpg.connect(dsn)
    producer = AIOKafkaProducer(**kafka, acks="all", enable_idempotence=True,
                                max_request_size=MAX_MESSAGE_BYTES)
    await producer.start()
    try:
        where, args = _where(letter)
        rows = await conn.fetch(f'SELECT * FROM "{schema}".dead_letters{where}', *args)
        for r in rows:
            try:
                key = str(json.loads(r["body"])["aggregate_id"]).encode()
            except (ValueError, KeyError, TypeError):
                key = None  # not an envelope: it will be set aside again, with its reason
            await producer.send_and_wait(r["topic"], bytes(r["body"]), key=key)
            await conn.execute(f'DELETE FROM "{schema}".dead_letters WHERE topic = $1 AND partition = $2'
                               ' AND "offset" = $3', r["topic"], r["partition"], r["offset"])
        return len(rows)
    finally:
        await producer.stop()
        await conn.close()


async def discard(dsn: str, schema: str, letter: dict | None) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        where, args = _where(letter)
        status = await conn.execute(f'DELETE FROM "{schema}".dead_letters{where}', *args)
        return int(status.split()[-1])
    finally:
        await conn.close()
