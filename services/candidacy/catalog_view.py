"""The candidacy service's views: the catalog (shared/catalog_view.py) and the blocks a candidate holds,
kept from the event topics. Eligibility and positioning are decided on these facts, as they stand at
the time of the decision.
"""

from __future__ import annotations

import json
from datetime import date

import asyncpg

from shared import catalog_view
from shared.contracts import jury
from shared.envelope import Envelope

from services.candidacy.domain import CertificationFacts, HeldBlock

MIGRATIONS = [
    *catalog_view.MIGRATIONS,
    """
    CREATE TABLE IF NOT EXISTS held_blocks (
        candidate_id text NOT NULL,
        certification text NOT NULL,
        block text NOT NULL,
        validated_on date NOT NULL,
        valid_until date,
        PRIMARY KEY (candidate_id, certification, block, validated_on)
    );
    """
]

apply_catalog = catalog_view.apply_catalog


async def apply_jury(conn: asyncpg.Connection, envelope: Envelope) -> None:
    fact = jury.REGISTRY.parse(envelope)
    if isinstance(fact, jury.BlockValidated):
        await conn.execute(
            "INSERT INTO held_blocks (candidate_id, certification, block, validated_on, valid_until)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            fact.candidate_id, fact.certification, fact.block, fact.validated_on, fact.valid_until)


async def certification_facts(pool: asyncpg.Pool, code: str, on: date) -> CertificationFacts | None:
    row = await catalog_view.certification(pool, code)
    if row is None:
        return None
    return CertificationFacts(
        code=code,
        registry=row["registry"],
        end_date=row["end_date"],
        routes=list(row["routes"]),
        current_version=row["current_version"],
        versions=await catalog_view.versions(pool, code),
        accredited_evaluators=await catalog_view.accredited_evaluators(pool, code, on),
        equivalences=json.loads(row["equivalences"]),
    )


async def held_blocks(pool: asyncpg.Pool, candidate_id: str) -> list[HeldBlock]:
    rows = await pool.fetch("SELECT * FROM held_blocks WHERE candidate_id = $1", candidate_id)
    return [HeldBlock(r["certification"], r["block"], r["valid_until"]) for r in rows]
owners = catalog_view.owners
