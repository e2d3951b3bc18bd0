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
from shared.migrations import numbered
from shared.vocabulary import CertificateKind

from services.candidacy.domain import CertificationFacts, HeldBlock

MIGRATIONS = [
    *catalog_view.MIGRATIONS,
    *numbered(
        "jury_view",
        """
    CREATE TABLE IF NOT EXISTS held_blocks (
        candidate_id text NOT NULL,
        certification text NOT NULL,
        block text NOT NULL,
        validated_on date NOT NULL,
        valid_until date,
        PRIMARY KEY (candidate_id, certification, block, validated_on)
    );
    -- The certificates a candidate holds (the legal duty to keep holders' records refuses their erasure),
    -- and the jury sessions their candidacies were presented to (who may read them: role table, sessions).
    CREATE TABLE IF NOT EXISTS certificates_held (
        number text PRIMARY KEY,
        candidate_id text NOT NULL,
        kind text NOT NULL,
        revoked_on date
    );
    CREATE INDEX IF NOT EXISTS certificates_held_candidate ON certificates_held (candidate_id);
    ALTER TABLE certificates_held ADD COLUMN IF NOT EXISTS candidacy_id text;
    CREATE TABLE IF NOT EXISTS jury_sessions (
        id text PRIMARY KEY,
        branch text NOT NULL
    );
    CREATE TABLE IF NOT EXISTS jury_presentations (
        session_id text NOT NULL,
        candidacy_id text NOT NULL,
        PRIMARY KEY (session_id, candidacy_id)
    );
        """,
    ),
]

apply_catalog = catalog_view.apply_catalog


async def apply_jury(conn: asyncpg.Connection, envelope: Envelope) -> None:
    fact = jury.REGISTRY.parse(envelope)
    if isinstance(fact, jury.BlockValidated):
        await conn.execute(
            "INSERT INTO held_blocks (candidate_id, certification, block, validated_on, valid_until)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            fact.candidate_id, fact.certification, fact.block, fact.validated_on, fact.valid_until)
    elif isinstance(fact, jury.CertificateIssued):
        await conn.execute("INSERT INTO certificates_held (number, candidate_id, kind, candidacy_id)"
                           " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", fact.number, fact.candidate_id, fact.kind,
                           fact.candidacy_id)
    elif isinstance(fact, jury.CertificateRevoked):
        await conn.execute("UPDATE certificates_held SET revoked_on = $2 WHERE number = $1", fact.number,
                           fact.revoked_on)
    elif isinstance(fact, jury.JurySessionScheduled):
        await conn.execute("INSERT INTO jury_sessions (id, branch) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                           fact.session_id, fact.branch)
    elif isinstance(fact, jury.CandidacyPresented):
        await conn.execute("INSERT INTO jury_presentations (session_id, candidacy_id) VALUES ($1, $2)"
                           " ON CONFLICT DO NOTHING", fact.session_id, fact.candidacy_id)


async def certificates_in_force(pool: asyncpg.Pool, candidate_id: str, awarded: list[str]) -> list[str]:
    """The numbers of the certificates (full awards) the candidate holds and that are not revoked; and, for a
    candidacy closed by an award (`awarded`) whose certificate has not reached this view yet (the jury's
    events arrive on several partitions), `awarded:<candidacy id>`: a holder all the same."""
    rows = await pool.fetch("SELECT number, candidacy_id, revoked_on FROM certificates_held"
                            " WHERE candidate_id = $1 AND kind = $2 ORDER BY number", candidate_id,
                            CertificateKind.CERTIFICATE)
    known = {r["candidacy_id"] for r in rows}
    return ([r["number"] for r in rows if r["revoked_on"] is None]
            + [f"awarded:{c}" for c in awarded if c not in known])


async def presented_to(pool: asyncpg.Pool, candidacy_ids: list[str]) -> dict[str, frozenset[str]]:
    """Each candidacy → the branches of the jury sessions it was presented to."""
    rows = await pool.fetch("SELECT p.candidacy_id, array_agg(DISTINCT s.branch) AS branches FROM jury_presentations p"
                            " JOIN jury_sessions s ON s.id = p.session_id WHERE p.candidacy_id = ANY($1::text[])"
                            " GROUP BY p.candidacy_id", candidacy_ids)
    return {r["candidacy_id"]: frozenset(r["branches"]) for r in rows}


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
owners_by_certification = catalog_view.owners_by_certification
accredited = catalog_view.accredited
