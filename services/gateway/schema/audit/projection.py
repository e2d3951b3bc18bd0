"""The audit log: every event applied, as published (type, time, actor, correlation and causation, payload
with sealed fields sealed), from every topic. `history` and `auditTrail` read it (services/gateway/audit.py);
it is rebuilt with the other read models from the topics, never lost with them."""

from __future__ import annotations

import json

import asyncpg

from shared.envelope import Envelope
from shared.migrations import numbered
from shared.topics import EVENT_TOPICS

MIGRATIONS = numbered(
    "audit",
    """
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
    """,
    # 2: the audit (services/gateway/audit.py): trails by period, organisation or user, in keyset order
    # (occurred_at, event_id); the jury's events about a candidacy, found by the candidacy they name.
    """
    CREATE INDEX IF NOT EXISTS audit_log_time ON audit_log (occurred_at, event_id);
    CREATE INDEX IF NOT EXISTS audit_log_organisation
        ON audit_log ((actor ->> 'organisation_id'), occurred_at, event_id);
    CREATE INDEX IF NOT EXISTS audit_log_user ON audit_log ((actor ->> 'user_id'), occurred_at, event_id);
    CREATE INDEX IF NOT EXISTS audit_log_candidacy ON audit_log ((payload ->> 'candidacy_id'));
    """,
    # 3: evaluations of version 1 carried the evaluator's name and the evidence in clear: kept as version 2 has
    # them (sealed by the jury service, which alone answers them).
    """
    UPDATE audit_log SET payload = payload - 'evaluator' - 'evidence' || '{"personal": ""}'
     WHERE type IN ('BlockValidated', 'BlockNotValidated') AND version = 1;
    """,
)


async def record(conn: asyncpg.Connection, envelope: Envelope) -> None:
    await conn.execute(
        "INSERT INTO audit_log (event_id, producer, type, version, aggregate_id, aggregate_version,"
        " occurred_at, actor, correlation_id, causation_id, payload)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        envelope.event_id, envelope.producer, envelope.type, envelope.version, envelope.aggregate_id,
        envelope.aggregate_version, envelope.occurred_at, envelope.actor.model_dump_json(),
        envelope.correlation_id, envelope.causation_id, json.dumps(without_clear_text(envelope)),
    )


def without_clear_text(envelope: Envelope) -> dict:
    """The payload, less the free text that version 1 of the jury's evaluations carried in clear (the
    evaluator's name, the evidence: sealed since, and answered by the jury service alone)."""
    if envelope.type in ("BlockValidated", "BlockNotValidated") and envelope.version == 1:
        return {**{k: v for k, v in envelope.payload.items() if k not in ("evaluator", "evidence")}, "personal": ""}
    return envelope.payload


HANDLERS = {topic: record for topic in EVENT_TOPICS}
