"""Versioned migrations of the tables a process keeps beside its event store (read models, views, keys).

Each feature owns its tables and numbers its changes; `migrate` applies, in one transaction, those not
yet recorded in the schema's `schema_migrations`, in the order given, and records them. Replicas that
start together wait on one lock, so a change runs once. A change is never edited once released: the
next one is a new number. (The first numbers of each feature repeat the `IF NOT EXISTS` statements the
tables were made with before they were numbered, so a database made then is taken over as it is.)
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import asyncpg

TABLE = "schema_migrations"


@dataclass(frozen=True)
class Migration:
    feature: str
    version: int
    sql: str


def numbered(feature: str, *statements: str) -> list[Migration]:
    """The feature's migrations, numbered from 1 in the order written."""
    return [Migration(feature, number, sql) for number, sql in enumerate(statements, start=1)]


def record_table() -> str:
    return (f"CREATE TABLE IF NOT EXISTS {TABLE} (feature text NOT NULL, version int NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (feature, version))")


async def migrate(db: asyncpg.Pool | asyncpg.Connection, migrations: list[Migration]) -> list[Migration]:
    """Apply what is missing in the connection's schema (its search_path); returns what was applied."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            return await migrate(conn, migrations)
    async with db.transaction():
        schema = await db.fetchval("SELECT current_schema()")
        await db.execute("SELECT pg_advisory_xact_lock($1)", zlib.crc32(f"migrations:{schema}".encode()))
        await db.execute(record_table())
        done = {(r["feature"], r["version"]) for r in await db.fetch(f"SELECT feature, version FROM {TABLE}")}
        applied = []
        for migration in migrations:
            if (migration.feature, migration.version) in done:
                continue
            await db.execute(migration.sql)
            await db.execute(f"INSERT INTO {TABLE} (feature, version) VALUES ($1, $2)",
                             migration.feature, migration.version)
            applied.append(migration)
        return applied


def check_numbering(migrations: list[Migration]) -> None:
    """Each feature's numbers run 1, 2, 3… in the order given (a unit test calls this on every list)."""
    seen: dict[str, int] = {}
    for m in migrations:
        expected = seen.get(m.feature, 0) + 1
        if m.version != expected:
            raise ValueError(f"{m.feature}: migration {m.version} where {expected} was expected")
        seen[m.feature] = m.version
