"""The catalog's read models: branches, organisations and their accreditations, certifications and the
versions of their référentiels, kept from cqp.catalog.events."""

from __future__ import annotations

import asyncpg

from shared.contracts import catalog
from shared.envelope import Envelope
from shared.migrations import numbered

from services.gateway.projection import jsonb

MIGRATIONS = numbered(
    "catalog",
    """
    CREATE TABLE IF NOT EXISTS branches (
        code text PRIMARY KEY,
        name text NOT NULL,
        idcc text[] NOT NULL,
        cpne text NOT NULL,
        created_at timestamptz NOT NULL
    );
    CREATE TABLE IF NOT EXISTS organisations (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        siret text,
        kinds text[] NOT NULL,
        registered_at timestamptz NOT NULL
    );
    CREATE TABLE IF NOT EXISTS accreditations (
        id uuid PRIMARY KEY,
        organisation_id uuid NOT NULL,
        branch text NOT NULL,
        certifications text[] NOT NULL,
        scope text NOT NULL,
        valid_from date NOT NULL,
        valid_until date,
        withdrawn_on date,
        withdrawal_reason text
    );
    CREATE INDEX IF NOT EXISTS accreditations_certifications ON accreditations USING gin (certifications);
    CREATE TABLE IF NOT EXISTS certifications (
        code text PRIMARY KEY,
        id uuid NOT NULL UNIQUE,
        kind text NOT NULL,
        title text NOT NULL,
        owners text[] NOT NULL,
        current_version int,
        block_titles text NOT NULL DEFAULT '',
        registration jsonb,
        registry text,
        level text,
        end_date date,
        routes text[] NOT NULL DEFAULT '{}',
        certifiers jsonb NOT NULL DEFAULT '[]',
        predecessors text[] NOT NULL DEFAULT '{}',
        successors text[] NOT NULL DEFAULT '{}',
        equivalences jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
    );
    CREATE INDEX IF NOT EXISTS certifications_owners ON certifications USING gin (owners);
    CREATE TABLE IF NOT EXISTS certification_versions (
        code text NOT NULL,
        version int NOT NULL,
        effective_from date NOT NULL,
        blocks jsonb NOT NULL,
        settings jsonb NOT NULL,
        published_at timestamptz NOT NULL,
        PRIMARY KEY (code, version)
    );
    """,
    # 2: a branch's delays (BranchDeadlinesSet); null: the defaults.
    """
    ALTER TABLE branches ADD COLUMN IF NOT EXISTS deadlines jsonb;
    ALTER TABLE branches ADD COLUMN IF NOT EXISTS contact text;
    """,
)


async def project(conn: asyncpg.Connection, envelope: Envelope) -> None:
    fact, at = catalog.REGISTRY.parse(envelope), envelope.occurred_at

    async def update(code: str, assignments: str, *values) -> None:
        await conn.execute(f"UPDATE certifications SET {assignments}, updated_at = $2 WHERE code = $1",
                           code, at, *values)

    match fact:
        case catalog.BranchCreated():
            await conn.execute("INSERT INTO branches (code, name, idcc, cpne, created_at) VALUES ($1, $2, $3, $4, $5)",
                               fact.code, fact.name, fact.idcc, fact.cpne, at)
        case catalog.BranchDeadlinesSet():
            await conn.execute("UPDATE branches SET deadlines = $2 WHERE code = $1", fact.branch,
                               fact.deadlines.model_dump_json())
        case catalog.BranchContactSet():
            await conn.execute("UPDATE branches SET contact = $2 WHERE code = $1", fact.branch, fact.email)
        case catalog.OrganisationRegistered():
            await conn.execute("INSERT INTO organisations (id, name, siret, kinds, registered_at)"
                               " VALUES ($1::uuid, $2, $3, $4, $5)",
                               fact.organisation_id, fact.name, fact.siret, fact.kinds, at)
        case catalog.OrganisationAccredited():
            await conn.execute(
                "INSERT INTO accreditations (id, organisation_id, branch, certifications, scope, valid_from,"
                " valid_until) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7)",
                fact.accreditation_id, fact.organisation_id, fact.branch, fact.certifications, fact.scope,
                fact.valid_from, fact.valid_until)
        case catalog.AccreditationWithdrawn():
            await conn.execute("UPDATE accreditations SET withdrawn_on = $2, withdrawal_reason = $3 WHERE id = $1::uuid",
                               fact.accreditation_id, fact.on, fact.reason)
        case catalog.CertificationCreated():
            await conn.execute(
                "INSERT INTO certifications (code, id, kind, title, owners, created_at, updated_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $6)",
                fact.code, envelope.aggregate_id, fact.kind, fact.title, fact.owners, at)
        case catalog.CertificationRetitled():
            await update(fact.code, "title = $3", fact.title)
        case catalog.CertificationOwnersChanged():
            await update(fact.code, "owners = $3", fact.owners)
        case catalog.ReferentialVersionPublished():
            await conn.execute(
                "INSERT INTO certification_versions (code, version, effective_from, blocks, settings, published_at)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                fact.code, fact.version, fact.effective_from, jsonb(fact.blocks),
                fact.settings.model_dump_json(), at)
            await update(fact.code, "current_version = $3, block_titles = $4", fact.version,
                         " ".join(b.title for b in fact.blocks))
        case catalog.RegistrationRecorded():
            r = fact.registration
            await update(fact.code, "registration = $3, registry = $4, level = $5, end_date = $6, routes = $7",
                         r.model_dump_json(), r.registry, r.level, r.end_date, r.routes)
        case catalog.CertifiersRecorded():
            await update(fact.code, "certifiers = $3", jsonb(fact.certifiers))
        case catalog.SuccessionRecorded():
            await update(fact.code, "predecessors = $3, successors = $4", fact.predecessors, fact.successors)
        case catalog.BlockEquivalencesRecorded():
            await update(fact.code, "equivalences = $3", jsonb(fact.equivalences))


HANDLERS = {catalog.TOPIC: project}
