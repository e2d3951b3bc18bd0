"""Read models of the gateway, in its own schema, built only from the event topics."""

from __future__ import annotations

import json

import asyncpg

from shared.contracts import candidacy, catalog, jury
from shared.envelope import Envelope

SCHEMA = "gateway"

MIGRATIONS = [
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
    CREATE TABLE IF NOT EXISTS candidates (
        id uuid PRIMARY KEY,
        given_name text NOT NULL,
        family_name text NOT NULL,
        status text NOT NULL,
        employer_id text,
        registered_at timestamptz NOT NULL
    );
    CREATE TABLE IF NOT EXISTS candidacies (
        id uuid PRIMARY KEY,
        candidate_id uuid NOT NULL,
        certification text NOT NULL,
        version int NOT NULL,
        route text NOT NULL,
        status text NOT NULL,
        evaluator_id text NOT NULL,
        trainer_id text,
        employer_id text,
        blocks jsonb NOT NULL,
        path jsonb NOT NULL DEFAULT '[]',
        fundings jsonb NOT NULL DEFAULT '{}',
        admissibility jsonb,
        eligibility_confirmed_on date,
        experience_months int,
        opened_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
    );
    CREATE INDEX IF NOT EXISTS candidacies_candidate ON candidacies (candidate_id);
    -- Every event applied, as published: the audit history, replayable.
    CREATE TABLE IF NOT EXISTS audit_log (
        event_id uuid NOT NULL,
        producer text NOT NULL,
        type text NOT NULL,
        version int NOT NULL,
        aggregate_id uuid NOT NULL,
        aggregate_version int NOT NULL,
        occurred_at timestamptz NOT NULL,
        actor jsonb NOT NULL,
        correlation_id text NOT NULL,
        causation_id text NOT NULL,
        payload jsonb NOT NULL
    );
    CREATE INDEX IF NOT EXISTS audit_log_aggregate ON audit_log (aggregate_id, aggregate_version);
    """
]


async def record_audit(conn: asyncpg.Connection, envelope: Envelope) -> None:
    await conn.execute(
        "INSERT INTO audit_log (event_id, producer, type, version, aggregate_id, aggregate_version,"
        " occurred_at, actor, correlation_id, causation_id, payload)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        envelope.event_id, envelope.producer, envelope.type, envelope.version, envelope.aggregate_id,
        envelope.aggregate_version, envelope.occurred_at, envelope.actor.model_dump_json(),
        envelope.correlation_id, envelope.causation_id, json.dumps(envelope.payload),
    )


def _json(values) -> str:
    return json.dumps([v.model_dump(mode="json") for v in values])


async def project_catalog(conn: asyncpg.Connection, envelope: Envelope) -> None:
    await record_audit(conn, envelope)
    fact, at = catalog.REGISTRY.parse(envelope), envelope.occurred_at

    async def update(code: str, assignments: str, *values) -> None:
        await conn.execute(f"UPDATE certifications SET {assignments}, updated_at = $2 WHERE code = $1",
                           code, at, *values)

    match fact:
        case catalog.BranchCreated():
            await conn.execute("INSERT INTO branches (code, name, idcc, cpne, created_at) VALUES ($1, $2, $3, $4, $5)",
                               fact.code, fact.name, fact.idcc, fact.cpne, at)
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
                fact.code, fact.version, fact.effective_from, _json(fact.blocks),
                fact.settings.model_dump_json(), at)
            await update(fact.code, "current_version = $3, block_titles = $4", fact.version,
                         " ".join(b.title for b in fact.blocks))
        case catalog.RegistrationRecorded():
            r = fact.registration
            await update(fact.code, "registration = $3, registry = $4, level = $5, end_date = $6, routes = $7",
                         r.model_dump_json(), r.registry, r.level, r.end_date, r.routes)
        case catalog.CertifiersRecorded():
            await update(fact.code, "certifiers = $3", _json(fact.certifiers))
        case catalog.SuccessionRecorded():
            await update(fact.code, "predecessors = $3, successors = $4", fact.predecessors, fact.successors)
        case catalog.BlockEquivalencesRecorded():
            await update(fact.code, "equivalences = $3", _json(fact.equivalences))


async def project_candidacy(conn: asyncpg.Connection, envelope: Envelope) -> None:
    await record_audit(conn, envelope)
    fact, at = candidacy.REGISTRY.parse(envelope), envelope.occurred_at
    if fact is None:
        return
    if isinstance(fact, candidacy.CandidateRegistered):
        await conn.execute(
            "INSERT INTO candidates (id, given_name, family_name, status, employer_id, registered_at)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            envelope.aggregate_id, fact.given_name, fact.family_name, fact.status, fact.employer_id, at)
        return
    if isinstance(fact, candidacy.CandidacyOpened):
        await conn.execute(
            "INSERT INTO candidacies (id, candidate_id, certification, version, route, status, evaluator_id,"
            " trainer_id, employer_id, blocks, experience_months, opened_at, updated_at)"
            " VALUES ($1, $2::uuid, $3, $4, $5, 'OPEN', $6, $7, $8, $9, $10, $11, $11)",
            envelope.aggregate_id, fact.candidate_id, fact.certification, fact.version, fact.route,
            fact.evaluator_id, fact.trainer_id, fact.employer_id,
            json.dumps({code: "PENDING" for code in fact.blocks}), fact.experience_months, at)
        return

    async def update(assignments: str, *values) -> None:
        await conn.execute(f"UPDATE candidacies SET {assignments}, updated_at = $2 WHERE id = $1",
                           envelope.aggregate_id, at, *values)

    match fact:
        case candidacy.EligibilityConfirmed():
            await update("eligibility_confirmed_on = $3", fact.on)
        case candidacy.ExperienceDeclared():
            await update("experience_months = $3", fact.months)
        case candidacy.CandidacyPositioned():
            await update("blocks = $3, status = CASE WHEN status = 'OPEN' THEN 'POSITIONED' ELSE status END",
                         json.dumps(fact.blocks))
        case candidacy.PathSet():
            await update("path = $3", _json(fact.blocks))
        case candidacy.FundingRequested():
            funding = {"funder": fact.funder, "funder_id": fact.funder_id, "amount": fact.amount,
                       "status": "REQUESTED", "granted_amount": None, "reason": None}
            await update("fundings = fundings || jsonb_build_object($3::text, $4::jsonb)", fact.funding_id,
                         json.dumps(funding))
        case candidacy.FundingDecided():
            decided = {"status": "GRANTED" if fact.granted else "REFUSED", "granted_amount": fact.granted_amount,
                       "reason": fact.reason}
            await update("fundings = jsonb_set(fundings, ARRAY[$3::text], fundings -> $3::text || $4::jsonb)",
                         fact.funding_id, json.dumps(decided))
        case candidacy.AdmissibilityFiled():
            await update("admissibility = $3, status = 'ADMISSIBILITY_FILED'",
                         json.dumps({"status": "FILED", "reason": None}))
        case candidacy.AdmissibilityDecided():
            status = "ADMISSIBLE" if fact.admissible else "INADMISSIBLE"
            await update("admissibility = $3, status = $4", json.dumps({"status": status, "reason": fact.reason}),
                         status)
        case candidacy.ValidationFileSubmitted():
            await update("status = 'VALIDATION_FILE_SUBMITTED'")
        case candidacy.CandidacyTransferred():
            await update("evaluator_id = $3", fact.to_evaluator_id)
        case candidacy.CandidacyWithdrawn():
            await update("status = 'WITHDRAWN'")
        case candidacy.CandidacyClosed():
            await update("status = 'CLOSED'")


async def project_jury(conn: asyncpg.Connection, envelope: Envelope) -> None:
    await record_audit(conn, envelope)


PROJECTIONS = {
    catalog.TOPIC: project_catalog,
    candidacy.TOPIC: project_candidacy,
    jury.TOPIC: project_jury,
}
