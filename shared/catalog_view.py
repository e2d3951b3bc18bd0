"""A service's own view of the catalog, kept from cqp.catalog.events in the service's schema.

Services decide on these facts as they stand at the time of the decision (eligibility, who may
evaluate, the blocks and settings of a référentiel version); each keeps its own copy of the tables.
"""

from __future__ import annotations

import json
from datetime import date

import asyncpg

from shared import rules
from shared.contracts import catalog
from shared.envelope import Envelope
from shared.migrations import numbered
from shared.vocabulary import AccreditationScope

MIGRATIONS = numbered(
    "catalog_view",
    """
    CREATE TABLE IF NOT EXISTS catalog_certifications (
        code text PRIMARY KEY,
        id uuid NOT NULL,
        kind text NOT NULL,
        title text NOT NULL,
        registry text,
        end_date date,
        routes text[] NOT NULL DEFAULT '{}',
        current_version int,
        equivalences jsonb NOT NULL DEFAULT '[]',
        updated_at timestamptz NOT NULL
    );
    CREATE TABLE IF NOT EXISTS catalog_versions (
        code text NOT NULL,
        version int NOT NULL,
        blocks jsonb NOT NULL,
        settings jsonb NOT NULL,
        PRIMARY KEY (code, version)
    );
    CREATE TABLE IF NOT EXISTS catalog_accreditations (
        id uuid PRIMARY KEY,
        organisation_id text NOT NULL,
        certifications text[] NOT NULL,
        scope text NOT NULL,
        valid_from date NOT NULL,
        valid_until date,
        withdrawn_on date
    );
    -- The owning branches: what a branch admin's rights over a candidacy or a session are checked on.
    ALTER TABLE catalog_certifications ADD COLUMN IF NOT EXISTS owners text[] NOT NULL DEFAULT '{}';
    """,
    # 2: what a certificate shows of its certification (its registration's number and level) and of its branch.
    """
    ALTER TABLE catalog_certifications ADD COLUMN IF NOT EXISTS registration_number text;
    ALTER TABLE catalog_certifications ADD COLUMN IF NOT EXISTS level text;
    CREATE TABLE IF NOT EXISTS catalog_branches (
        code text PRIMARY KEY,
        name text NOT NULL
    );
    """,
)


async def apply_catalog(conn: asyncpg.Connection, envelope: Envelope) -> None:
    fact, at = catalog.REGISTRY.parse(envelope), envelope.occurred_at
    match fact:
        case catalog.BranchCreated():
            await conn.execute("INSERT INTO catalog_branches (code, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                               fact.code, fact.name)
        case catalog.CertificationCreated():
            await conn.execute(
                "INSERT INTO catalog_certifications (code, id, kind, title, owners, updated_at)"
                " VALUES ($1, $2, $3, $4, $5, $6)", fact.code, envelope.aggregate_id, fact.kind, fact.title,
                fact.owners, at)
        case catalog.CertificationOwnersChanged():
            await conn.execute("UPDATE catalog_certifications SET owners = $2, updated_at = $3 WHERE code = $1",
                               fact.code, fact.owners, at)
        case catalog.CertificationRetitled():
            await conn.execute("UPDATE catalog_certifications SET title = $2, updated_at = $3 WHERE code = $1",
                               fact.code, fact.title, at)
        case catalog.ReferentialVersionPublished():
            await conn.execute(
                "INSERT INTO catalog_versions (code, version, blocks, settings) VALUES ($1, $2, $3, $4)",
                fact.code, fact.version, json.dumps([b.model_dump() for b in fact.blocks]),
                fact.settings.model_dump_json())
            await conn.execute("UPDATE catalog_certifications SET current_version = $2, updated_at = $3"
                               " WHERE code = $1", fact.code, fact.version, at)
        case catalog.RegistrationRecorded():
            r = fact.registration
            await conn.execute(
                "UPDATE catalog_certifications SET registry = $2, end_date = $3, routes = $4, updated_at = $5,"
                " registration_number = $6, level = $7 WHERE code = $1", fact.code, r.registry, r.end_date, r.routes,
                at, r.number, r.level)
        case catalog.BlockEquivalencesRecorded():
            await conn.execute(
                "UPDATE catalog_certifications SET equivalences = $2, updated_at = $3 WHERE code = $1",
                fact.code, json.dumps([e.model_dump() for e in fact.equivalences]), at)
        case catalog.OrganisationAccredited():
            await conn.execute(
                "INSERT INTO catalog_accreditations (id, organisation_id, certifications, scope, valid_from,"
                " valid_until) VALUES ($1::uuid, $2, $3, $4, $5, $6)",
                fact.accreditation_id, fact.organisation_id, fact.certifications, fact.scope, fact.valid_from,
                fact.valid_until)
        case catalog.AccreditationWithdrawn():
            await conn.execute("UPDATE catalog_accreditations SET withdrawn_on = $2 WHERE id = $1::uuid",
                               fact.accreditation_id, fact.on)


async def certification(pool: asyncpg.Pool, code: str):
    return await pool.fetchrow("SELECT * FROM catalog_certifications WHERE code = $1", code)


async def owners(pool: asyncpg.Pool, *codes: str) -> frozenset[str]:
    """The branches owning any of these certifications."""
    rows = await pool.fetch("SELECT owners FROM catalog_certifications WHERE code = ANY($1)", list(codes))
    return frozenset(branch for row in rows for branch in row["owners"])


async def owners_by_certification(pool: asyncpg.Pool, codes: list[str] | None = None) -> dict[str, frozenset[str]]:
    """Each certification's owning branches: of `codes` (one round trip), or of every certification."""
    rows = await pool.fetch("SELECT code, owners FROM catalog_certifications WHERE $1::text[] IS NULL OR code = ANY($1)",
                            None if codes is None else list(codes))
    return {r["code"]: frozenset(r["owners"]) for r in rows}


async def versions(pool: asyncpg.Pool, code: str) -> dict[int, dict]:
    """Version number → {"blocks": [...], "settings": {...}}."""
    rows = await pool.fetch("SELECT * FROM catalog_versions WHERE code = $1", code)
    return {r["version"]: {"blocks": json.loads(r["blocks"]), "settings": json.loads(r["settings"])} for r in rows}


# An accreditation in force on the day bound as $2 (shared/rules.py: the SQL twin of the domain's predicate).
IN_FORCE_ON_2 = rules.accreditation_in_force_sql(on="$2::date")[0]


async def withdrawn_evaluators(pool: asyncpg.Pool, code: str, today: date) -> set[str]:
    """The organisations whose accreditation to evaluate for the certification was withdrawn by today, and
    that hold no other in force today: they record no result any more, whatever date they give."""
    rows = await pool.fetch(
        "SELECT organisation_id FROM catalog_accreditations WHERE $1 = ANY(certifications) AND scope = $3"
        " AND withdrawn_on IS NOT NULL AND withdrawn_on <= $2", code, today, AccreditationScope.EVALUATION)
    return {r["organisation_id"] for r in rows} - await accredited_evaluators(pool, code, today)


async def accredited_evaluators(pool: asyncpg.Pool, code: str, on: date) -> set[str]:
    """The organisations accredited to evaluate for the certification on that day."""
    rows = await pool.fetch(
        "SELECT organisation_id FROM catalog_accreditations WHERE $1 = ANY(certifications) AND scope = $3"
        f" AND {IN_FORCE_ON_2}", code, on, AccreditationScope.EVALUATION)
    return {r["organisation_id"] for r in rows}


async def accredited(pool: asyncpg.Pool, organisation_id: str, on: date) -> bool:
    """Whether a branch accredits the organisation for anything on that day."""
    return await pool.fetchval(
        f"SELECT EXISTS (SELECT 1 FROM catalog_accreditations WHERE organisation_id = $1 AND {IN_FORCE_ON_2})",
        organisation_id, on)
