"""Read models of the gateway, in its own schema, built only from the event topics."""

from __future__ import annotations

import json

import asyncpg

from shared.contracts import candidacy, catalog
from shared.envelope import Envelope

SCHEMA = "gateway"

MIGRATIONS = [
    """
    CREATE TABLE IF NOT EXISTS certifications (
        code text PRIMARY KEY,
        id uuid NOT NULL UNIQUE,
        kind text NOT NULL,
        title text NOT NULL,
        branch text NOT NULL,
        blocks jsonb NOT NULL,
        created_at timestamptz NOT NULL
    );
    CREATE TABLE IF NOT EXISTS candidates (
        id uuid PRIMARY KEY,
        given_name text NOT NULL,
        family_name text NOT NULL,
        email text NOT NULL,
        certification_code text NOT NULL,
        registered_at timestamptz NOT NULL
    );
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


async def project_catalog(conn: asyncpg.Connection, envelope: Envelope) -> None:
    await record_audit(conn, envelope)
    fact = catalog.REGISTRY.parse(envelope)
    if isinstance(fact, catalog.CertificationCreated):
        await conn.execute(
            "INSERT INTO certifications (code, id, kind, title, branch, blocks, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            fact.code, envelope.aggregate_id, fact.kind, fact.title, fact.branch,
            json.dumps([b.model_dump() for b in fact.blocks]), envelope.occurred_at,
        )


async def project_candidacy(conn: asyncpg.Connection, envelope: Envelope) -> None:
    await record_audit(conn, envelope)
    fact = candidacy.REGISTRY.parse(envelope)
    if isinstance(fact, candidacy.CandidateRegistered):
        await conn.execute(
            "INSERT INTO candidates (id, given_name, family_name, email, certification_code, registered_at)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            envelope.aggregate_id, fact.given_name, fact.family_name, fact.email,
            fact.certification_code, envelope.occurred_at,
        )


async def project_jury(conn: asyncpg.Connection, envelope: Envelope) -> None:
    await record_audit(conn, envelope)


PROJECTIONS = {
    catalog.TOPIC: project_catalog,
    candidacy.TOPIC: project_candidacy,
    "cqp.jury.events": project_jury,
}
