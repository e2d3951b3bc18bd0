"""The documents read model: the facts of every document attached (no bytes, no file name: those stay with the
owning service, sealed), from cqp.candidacy.events and cqp.jury.events. Its `service` says whom the gateway asks
for the bytes (documents.py) and with which owner (a candidacy, a session)."""

from __future__ import annotations

import asyncpg

from shared.contracts import candidacy, jury
from shared.envelope import Envelope
from shared.inbox import Handler
from shared.migrations import numbered

MIGRATIONS = numbered(
    "documents",
    """
    CREATE TABLE IF NOT EXISTS documents (
        id text PRIMARY KEY,
        service text NOT NULL,
        kind text NOT NULL,
        candidacy_id uuid,
        block text,
        session_id uuid,
        version int NOT NULL,
        supersedes text,
        superseded_by text,
        size bigint NOT NULL,
        media_type text NOT NULL,
        sha256 text NOT NULL,
        attached_at timestamptz NOT NULL,
        attached_by_user text NOT NULL,
        attached_by_organisation text NOT NULL,
        attached_by_role text NOT NULL
    );
    CREATE INDEX IF NOT EXISTS documents_candidacy ON documents (candidacy_id);
    CREATE INDEX IF NOT EXISTS documents_session ON documents (session_id);
    """,
    # The end of its keeping period: its bytes are gone, its facts stay.
    "ALTER TABLE documents ADD COLUMN IF NOT EXISTS purged_at timestamptz",
    # The certificate a CERTIFICATE_PDF or CREDENTIAL is of, and what a CREDENTIAL says (jury DocumentAttached v2).
    """
    ALTER TABLE documents ADD COLUMN IF NOT EXISTS certificate text;
    ALTER TABLE documents ADD COLUMN IF NOT EXISTS credential jsonb;
    """,
)


def projection(service: str, registry, attached: type, purged: type) -> Handler:
    """The handler of a service's topic: its `DocumentAttached` (any contract carrying document_id, kind, version,
    supersedes, size, media_type, sha256, and some of candidacy_id, block, session_id) kept as a row; its
    `DocumentPurged` marks the row."""

    async def project(conn: asyncpg.Connection, envelope: Envelope) -> None:
        if envelope.type == purged.event_type:
            fact = registry.parse(envelope)
            await conn.execute("UPDATE documents SET purged_at = $1 WHERE id = $2", envelope.occurred_at,
                               fact.document_id)
            return
        if envelope.type != attached.event_type:
            return
        fact = registry.parse(envelope)
        if not isinstance(fact, attached):
            return
        actor = envelope.actor
        credential = getattr(fact, "credential", None)
        await conn.execute(
            "INSERT INTO documents (id, service, kind, candidacy_id, block, session_id, version, supersedes, size,"
            " media_type, sha256, attached_at, attached_by_user, attached_by_organisation, attached_by_role,"
            " certificate, credential)"
            " VALUES ($1, $2, $3, $4::uuid, $5, $6::uuid, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::jsonb)",
            fact.document_id, service, str(fact.kind), getattr(fact, "candidacy_id", None), getattr(fact, "block", None),
            getattr(fact, "session_id", None), fact.version, fact.supersedes, fact.size, fact.media_type,
            fact.sha256, envelope.occurred_at, actor.user_id, actor.organisation_id, actor.role,
            getattr(fact, "certificate", None), credential.model_dump_json() if credential is not None else None)
        if fact.supersedes:
            await conn.execute("UPDATE documents SET superseded_by = $1 WHERE id = $2", fact.document_id,
                               fact.supersedes)

    return project


# By producer (the service holding the bytes), each its topic's DocumentAttached: for a past state's replay
# (asof.py), and per topic for the consumer (readmodels.py).
BY_PRODUCER = {"candidacy": projection("candidacy", candidacy.REGISTRY, candidacy.DocumentAttached,
                                        candidacy.DocumentPurged),
               "jury": projection("jury", jury.REGISTRY, jury.DocumentAttached, jury.DocumentPurged)}
HANDLERS = {candidacy.TOPIC: BY_PRODUCER["candidacy"], jury.TOPIC: BY_PRODUCER["jury"]}
