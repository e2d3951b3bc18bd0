"""The candidacy service's own view of the catalog, kept from cqp.catalog.events."""

from __future__ import annotations

import asyncpg

from shared.contracts import catalog
from shared.envelope import Envelope

MIGRATIONS = [
    """
    CREATE TABLE IF NOT EXISTS catalog_certifications (
        code text PRIMARY KEY,
        id uuid NOT NULL,
        kind text NOT NULL,
        title text NOT NULL,
        updated_at timestamptz NOT NULL
    )
    """
]


async def apply(conn: asyncpg.Connection, envelope: Envelope) -> None:
    fact = catalog.REGISTRY.parse(envelope)
    if isinstance(fact, catalog.CertificationCreated):
        await conn.execute(
            "INSERT INTO catalog_certifications (code, id, kind, title, updated_at) VALUES ($1, $2, $3, $4, $5)",
            fact.code, envelope.aggregate_id, fact.kind, fact.title, envelope.occurred_at,
        )
    elif isinstance(fact, catalog.CertificationRetitled):
        await conn.execute(
            "UPDATE catalog_certifications SET title = $2, updated_at = $3 WHERE code = $1",
            fact.code, fact.title, envelope.occurred_at,
        )


async def certification_exists(pool: asyncpg.Pool, code: str) -> bool:
    return bool(await pool.fetchval("SELECT true FROM catalog_certifications WHERE code = $1", code))
